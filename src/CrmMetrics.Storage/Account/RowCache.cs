using Azure;
using Azure.Data.Tables;

namespace CrmMetrics.Storage.Account;

/// <summary>
/// Rows this process wrote or read lately, with their ETags, so a read-merge-write can skip the
/// read. Never trusted on its own: a write from a cached row is conditional on the cached ETag, so a
/// row changed elsewhere fails that write, is dropped from the cache and read again. Bounded: two
/// generations of at most <c>capacity / 2</c> rows each; a row used again moves to the young one,
/// and when the young one is full the old one is forgotten.
/// </summary>
public sealed class RowCache(int capacity = 100_000)
{
    private readonly object _gate = new();
    private Dictionary<(string, string), TableEntity> _young = [];
    private Dictionary<(string, string), TableEntity> _old = [];

    public int Count
    {
        get
        {
            lock (_gate) return _young.Count + _old.Count;
        }
    }

    public bool Contains(string partitionKey, string rowKey)
    {
        lock (_gate) return _young.ContainsKey((partitionKey, rowKey)) || _old.ContainsKey((partitionKey, rowKey));
    }

    /// <summary>A copy of the cached row, safe to change; false when not cached.</summary>
    public bool TryGet(string partitionKey, string rowKey, out TableEntity row)
    {
        lock (_gate)
        {
            var key = (partitionKey, rowKey);
            if (!_young.TryGetValue(key, out var cached) && _old.Remove(key, out cached!))
            {
                AddYoung(key, cached);
            }
            row = cached is null ? null! : Copy(cached);
            return cached is not null;
        }
    }

    /// <summary>Remembers a row as stored with <paramref name="etag"/> (a copy is kept).</summary>
    public void Set(TableEntity row, ETag etag)
    {
        var copy = Copy(row);
        copy.ETag = etag;
        lock (_gate)
        {
            var key = (row.PartitionKey, row.RowKey);
            _old.Remove(key);
            AddYoung(key, copy);
        }
    }

    public void Forget(string partitionKey, string rowKey)
    {
        lock (_gate)
        {
            _young.Remove((partitionKey, rowKey));
            _old.Remove((partitionKey, rowKey));
        }
    }

    private void AddYoung((string, string) key, TableEntity row)
    {
        if (!_young.ContainsKey(key) && _young.Count >= Math.Max(1, capacity / 2))
        {
            _old = _young;
            _young = [];
        }
        _young[key] = row;
    }

    private static TableEntity Copy(TableEntity row) => new(row) { ETag = row.ETag };
}
