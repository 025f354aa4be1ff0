using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
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
/// Entries go to 10-second bucket partitions (writer's clock). After appending to a bucket a writer
/// stamps the bucket's head (a small row in its own table); a reader lists the heads of the last
/// minutes and reads again only the buckets whose head changed since it last read them. Nothing is
/// re-read for being recent, and an entry that landed in a bucket after the reader went through it
/// is found through the head it stamped afterwards. Clocks may differ by up to <see cref="Lookback"/>.
/// </para>
/// </summary>
public sealed class StateFeed(StorageAccount account)
{
    /// <summary>How far back a reader looks for changed buckets: more than any clock difference or write delay.</summary>
    public static readonly TimeSpan Lookback = TimeSpan.FromMinutes(2);

    private const string HeadsPartition = "heads";
    private const string CustomerKind = "c";
    private const string CaseKind = "k";

    private readonly TableClient _entries = account.Table(StorageNames.Tables.CustomerChanges);
    private readonly TableClient _heads = account.Table(StorageNames.Tables.ChangeHeads);

    /// <summary>Appends entries, then stamps their bucket's head.</summary>
    public async Task AppendAsync(IReadOnlyCollection<StateChange> changes, CancellationToken ct)
    {
        if (changes.Count == 0) return;
        var now = DateTimeOffset.UtcNow;
        var bucket = BucketKey(now);
        var unique = Guid.NewGuid().ToString("N")[..8];
        var entities = changes.Select((change, n) =>
        {
            var entity = new TableEntity("b" + bucket, $"{now.UtcTicks:D19}-{unique}-{n:D5}");
            if (change.CustomerId is { } customerId)
            {
                entity["Kind"] = CustomerKind;
                entity["Key"] = customerId;
                StorageJson.Write(entity, "Events", change.Timeline);
            }
            else
            {
                entity["Kind"] = CaseKind;
                entity["Key"] = change.CaseId;
                StorageJson.Write(entity, "Events", change.Case);
            }
            return entity;
        }).ToList();
        foreach (var batch in PartitionBatches.Chunk(entities))
        {
            await _entries.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)), ct);
        }
        // A fresh stamp changes the head's ETag, which is what readers compare.
        await _heads.UpsertEntityAsync(new TableEntity(HeadsPartition, bucket) { ["Stamp"] = unique }, TableUpdateMode.Replace, ct);
    }

    /// <summary>
    /// The entries of every bucket whose head changed since <paramref name="position"/> saw it, within
    /// <see cref="Lookback"/> of <paramref name="now"/>; updates the position as buckets are read.
    /// </summary>
    public async IAsyncEnumerable<StateChange> ReadAsync(FeedPosition position, DateTimeOffset now, [EnumeratorCancellation] CancellationToken ct)
    {
        var from = BucketKey(now - Lookback);
        var heads = new List<(string Bucket, ETag ETag)>();
        await foreach (var head in _heads.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {HeadsPartition} and RowKey ge {from}"),
                           select: ["RowKey"], cancellationToken: ct))
        {
            heads.Add((head.RowKey, head.ETag));
        }
        foreach (var (bucket, etag) in heads)
        {
            if (position.Saw(bucket, etag)) continue;
            await foreach (var entity in _entries.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"b" + bucket}"), cancellationToken: ct))
            {
                var key = entity.GetString("Key")!;
                yield return entity.GetString("Kind") == CustomerKind
                    ? new StateChange(key, StorageJson.Read<List<LifecycleEvent>>(entity, "Events") ?? [], null, null)
                    : new StateChange(null, null, key, StorageJson.Read<List<ComplaintEvent>>(entity, "Events") ?? []);
            }
            // The head as listed before its bucket was read: a later stamp means the bucket is read again.
            position.Read(bucket, etag);
        }
        position.Forget(from);
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

    /// <summary>Forgets buckets older than <paramref name="fromBucket"/>, which the reader no longer lists.</summary>
    public void Forget(string fromBucket)
    {
        foreach (var bucket in _read.Keys.Where(b => string.CompareOrdinal(b, fromBucket) < 0).ToList()) _read.Remove(bucket);
    }
}
