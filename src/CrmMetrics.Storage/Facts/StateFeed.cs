using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using CrmMetrics.Domain.Lifecycle;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>One entry of the <see cref="StateFeed"/>: a customer's whole timeline or a complaint case's events.</summary>
public sealed record StateChange(string? CustomerId, IReadOnlyList<LifecycleEvent>? Timeline, string? CaseId, IReadOnlyList<ComplaintEvent>? Case);

/// <summary>
/// The change feed of customer timelines and complaint cases, so the map step can keep them in
/// memory instead of reading one row per customer and per case every day. Writers append the whole
/// timeline or case as they are about to store it; readers merge entries by fact id, so an entry
/// read twice, or of a write that then lost a race, changes nothing that the facts do not say.
/// <para>
/// Entries go to 10-second buckets (writer's clock), one append blob each, one block (JSON lines)
/// per append. After appending to a bucket a writer stamps the bucket's head (a small row in its
/// own table); a reader lists the heads from <see cref="Lookback"/> before its last read on (not
/// only the last minutes': it may read again long after) and reads again only the buckets whose
/// head changed since it last read them. Nothing is re-read for being recent, and an entry that
/// landed in a bucket after the reader went through it is found through the head it stamped
/// afterwards. Clocks may differ by up to <see cref="Lookback"/>.
/// </para>
/// </summary>
public sealed class StateFeed
{
    /// <summary>How far before the instant it reads from a reader looks for changed buckets: more than any clock difference or write delay.</summary>
    public static readonly TimeSpan Lookback = TimeSpan.FromMinutes(2);

    private const string HeadsPartition = "heads";
    private const int MaxBlockBytes = 4 * 1024 * 1024;

    private readonly BlobContainerClient _entries;
    private readonly TableClient _heads;

    private readonly GroupCommit<StateChange> _appends;
    private string? _lastBucket;

    public StateFeed(StorageAccount account) : this(account.Container(StorageNames.Containers.StateFeed), account.Table(StorageNames.Tables.ChangeHeads))
    {
    }

    private StateFeed(BlobContainerClient entries, TableClient heads)
    {
        _entries = entries;
        _heads = heads;
        _appends = new GroupCommit<StateChange>(WriteAsync);
    }

    /// <summary>
    /// Appends entries to the current bucket, then stamps its head; returns once both are done.
    /// Entries that callers append at the same time share the append and the stamp.
    /// </summary>
    public Task AppendAsync(IReadOnlyCollection<StateChange> changes, CancellationToken ct) => _appends.AddAsync(changes, ct);

    private async Task WriteAsync(List<StateChange> changes)
    {
        var bucket = BucketKey(DateTimeOffset.UtcNow);
        var blob = _entries.GetAppendBlobClient(bucket);
        // A bucket this writer has not appended to yet is most likely new: each lasts 10 seconds.
        var unseen = !string.Equals(Volatile.Read(ref _lastBucket), bucket, StringComparison.Ordinal);
        foreach (var block in Blocks(changes))
        {
            await AppendBlobs.AppendCreatingAsync(blob, block, unseen, CancellationToken.None);
            unseen = false;
        }
        Volatile.Write(ref _lastBucket, bucket);
        // A fresh stamp changes the head's ETag, which is what readers compare.
        await _heads.UpsertEntityAsync(new TableEntity(HeadsPartition, bucket) { ["Stamp"] = Guid.NewGuid().ToString("N")[..8] }, TableUpdateMode.Replace);
    }

    /// <summary>The entries as JSON lines, in blocks under the size an append takes.</summary>
    private static IEnumerable<byte[]> Blocks(IEnumerable<StateChange> changes)
    {
        var block = new MemoryStream();
        foreach (var change in changes)
        {
            var line = JsonSerializer.SerializeToUtf8Bytes(change, StorageJson.Options);
            if (line.Length + 1 > MaxBlockBytes) throw new InvalidOperationException($"A feed entry of {line.Length} bytes does not fit one append.");
            if (block.Length + line.Length + 1 > MaxBlockBytes)
            {
                yield return block.ToArray();
                block.SetLength(0);
            }
            block.Write(line);
            block.WriteByte((byte)'\n');
        }
        if (block.Length > 0) yield return block.ToArray();
    }

    /// <summary>
    /// The entries of every bucket whose head changed since <paramref name="position"/> saw it, from
    /// <see cref="Lookback"/> before <paramref name="since"/> on (pass when the reader last read, so a
    /// change stored since is found whatever the writer's clock said); updates the position as
    /// buckets are read.
    /// </summary>
    public async IAsyncEnumerable<StateChange> ReadAsync(FeedPosition position, DateTimeOffset since, [EnumeratorCancellation] CancellationToken ct)
    {
        var from = BucketKey(since - Lookback);
        var heads = new List<(string Bucket, ETag ETag)>();
        await foreach (var head in _heads.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {HeadsPartition} and RowKey ge {from}"),
                           select: ["RowKey"], cancellationToken: ct))
        {
            heads.Add((head.RowKey, head.ETag));
        }
        foreach (var (bucket, etag) in heads)
        {
            if (position.Saw(bucket, etag)) continue;
            foreach (var change in await ReadBucketAsync(bucket, ct)) yield return change;
            // The head as listed before its bucket was read: a later stamp means the bucket is read again.
            position.Read(bucket, etag);
        }
        position.Forget(from);
    }

    private async Task<List<StateChange>> ReadBucketAsync(string bucket, CancellationToken ct)
    {
        BinaryData content;
        try
        {
            content = (await _entries.GetBlobClient(bucket).DownloadContentAsync(ct)).Value.Content;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return [];
        }
        var changes = new List<StateChange>();
        var rest = content.ToMemory();
        while (!rest.IsEmpty)
        {
            var end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            if (line.IsEmpty) continue;
            changes.Add(JsonSerializer.Deserialize<StateChange>(line.Span, StorageJson.Options)
                        ?? throw new InvalidDataException($"Feed bucket {bucket} holds an empty entry."));
        }
        return changes;
    }

    private static string BucketKey(DateTimeOffset instant)
    {
        var utc = instant.UtcDateTime;
        return new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, utc.Second / 10 * 10, DateTimeKind.Utc).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
    }
}

/// <summary>The bucket heads a reader of the <see cref="StateFeed"/> has read, with the stamps they had then.</summary>
public sealed class FeedPosition
{
    private readonly Dictionary<string, ETag> _read = new(StringComparer.Ordinal);

    public bool Saw(string bucket, ETag etag) => _read.TryGetValue(bucket, out var seen) && seen == etag;

    public void Read(string bucket, ETag etag) => _read[bucket] = etag;

    /// <summary>Forgets every bucket read: the next read reads every bucket it lists.</summary>
    public void Clear() => _read.Clear();

    /// <summary>Forgets buckets older than <paramref name="fromBucket"/>, which the reader no longer lists.</summary>
    public void Forget(string fromBucket)
    {
        foreach (var bucket in _read.Keys.Where(b => string.CompareOrdinal(b, fromBucket) < 0).ToList()) _read.Remove(bucket);
    }
}
