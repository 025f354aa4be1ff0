using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Azure;
using Azure.Data.Tables;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>The outcome of storing facts: which were new and which had been stored before.</summary>
/// <param name="Duplicates">Facts whose id was accepted before (including <paramref name="Conflicting"/>).</param>
/// <param name="Conflicting">
/// Duplicates whose id was accepted with a time on another UTC day: a resend with a changed time. They
/// change nothing, so nothing downstream may apply them either.
/// </param>
public sealed record FactWriteResult(IReadOnlyList<Fact> Accepted, IReadOnlyList<Fact> Duplicates, IReadOnlyList<Fact> Conflicting);

/// <summary>
/// Raw facts in Table Storage, keyed by id within a (UTC day, shard) partition. Inserts go in
/// entity-group transactions of at most 100 entities and 4 MiB, one partition each; an id that
/// exists already is a duplicate and changes nothing. Since a resent fact may carry another time
/// (and so another day partition), every id is first claimed in an id index keyed by the id alone.
/// </summary>
public sealed class FactStore(StorageAccount account)
{
    private const int MaxParallelBatches = 8;
    private const int PageSize = 1000;

    private readonly TableClient _table = account.Table(StorageNames.Tables.Facts);
    private readonly TableClient _ids = account.Table(StorageNames.Tables.FactIds);

    public TableClient Table => _table;

    /// <summary>Inserts facts (already distinct by id). Safe to repeat: repeated ids come back as duplicates.</summary>
    public async Task<FactWriteResult> InsertAsync(IReadOnlyList<Fact> facts, CancellationToken cancellationToken)
    {
        // 1. Claim the ids. An id claimed before for the same UTC day may be a retry of a write that
        //    stopped half-way: the fact row decides. An id claimed for another day is a duplicate.
        var idBatches = facts.Select(f => (Fact: f, Entity: new TableEntity(StorageKeys.FactIdPartition(f.Id), f.Id) { ["Day"] = DayOf(f) }))
            .GroupBy(x => x.Entity.PartitionKey).SelectMany(p => PartitionBatches.Chunk(p, x => x.Entity)).ToList();
        var claimed = new List<Fact>(facts.Count);
        var conflicting = new List<Fact>();
        var gate = new object();
        await Parallel.ForEachAsync(idBatches, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelBatches, CancellationToken = cancellationToken },
            async (batch, ct) =>
            {
                var (added, existing) = await AddAllAsync(_ids, batch, ["Day"], ct);
                lock (gate)
                {
                    claimed.AddRange(added);
                    foreach (var (fact, row) in existing)
                    {
                        if (row.GetString("Day") == DayOf(fact)) claimed.Add(fact);
                        else conflicting.Add(fact);
                    }
                }
            });

        // 2. Insert the facts into their day partitions.
        var batches = claimed.Select(f => (Fact: f, Entity: FactEntity.ToEntity(f))).GroupBy(x => x.Entity.PartitionKey)
            .SelectMany(partition => PartitionBatches.Chunk(partition, x => x.Entity)).ToList();

        var accepted = new List<Fact>(facts.Count);
        var duplicates = new List<Fact>(conflicting);
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelBatches, CancellationToken = cancellationToken },
            async (batch, ct) =>
            {
                var (ok, existing) = await AddAllAsync(_table, batch, ["PartitionKey"], ct);
                lock (gate)
                {
                    accepted.AddRange(ok);
                    duplicates.AddRange(existing.Select(e => e.Item));
                }
            });
        return new FactWriteResult(accepted, duplicates, conflicting);
    }

    private static string DayOf(Fact f) => StorageKeys.DayKey(DateOnly.FromDateTime(f.Time.UtcDateTime));

    /// <summary>
    /// Adds one partition's rows in a transaction; rows that exist already are read (the columns
    /// named) and returned instead of added. Safe to repeat.
    /// </summary>
    private static async Task<(List<T> Added, List<(T Item, TableEntity Row)> Existing)> AddAllAsync<T>(
        TableClient table, List<(T Item, TableEntity Entity)> batch, IEnumerable<string> readColumns, CancellationToken ct)
    {
        var existing = new List<(T, TableEntity)>();
        var pending = batch;
        var columns = readColumns.ToList();
        for (var attempt = 0; pending.Count > 0; attempt++)
        {
            try
            {
                await table.SubmitTransactionAsync(pending.Select(x => new TableTransactionAction(TableTransactionActionType.Add, x.Entity)), ct);
                return (pending.Select(x => x.Item).ToList(), existing);
            }
            catch (TableTransactionFailedException e) when (e.Status == 409 && attempt < 10)
            {
                // Some rows exist already. Find them all at once rather than one failed transaction per row.
                var found = await Task.WhenAll(pending.Select(async x =>
                    (x, (await table.GetEntityIfExistsAsync<TableEntity>(x.Entity.PartitionKey, x.Entity.RowKey, columns, ct)))));
                existing.AddRange(found.Where(r => r.Item2.HasValue).Select(r => (r.x.Item, r.Item2.Value!)));
                pending = found.Where(r => !r.Item2.HasValue).Select(r => r.x).ToList();
            }
        }
        return ([], existing);
    }

    /// <summary>
    /// Streams the facts of one local day as pages of columns over <paramref name="labels"/>, reading
    /// each shard partition of the UTC days it overlaps once, in parallel, page by page; never holds
    /// the day in memory. The same <see cref="FactColumns"/> is refilled for every page: use a page
    /// before asking for the next.
    /// </summary>
    public async IAsyncEnumerable<FactColumns> ScanDayAsync(DateOnly localDay, PeriodCalendar calendar, FactLabels labels,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var page = new FactColumns(labels, PageSize);
        await foreach (var entity in ScanDayEntitiesAsync(localDay, calendar, select: null, cancellationToken))
        {
            page.Add(FactEntity.FromEntity(entity));
            if (page.Count < PageSize) continue;
            yield return page;
            page.Clear();
        }
        if (page.Count > 0) yield return page;
    }

    /// <summary>The raw rows of one local day; <paramref name="select"/> limits the columns read.</summary>
    public async IAsyncEnumerable<TableEntity> ScanDayEntitiesAsync(DateOnly localDay, PeriodCalendar calendar, IEnumerable<string>? select,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var start = calendar.StartOfDay(localDay);
        var end = calendar.StartOfDay(localDay.AddDays(1));
        var partitions = new List<string>();
        for (var utcDay = DateOnly.FromDateTime(start.UtcDateTime); utcDay <= DateOnly.FromDateTime(end.AddTicks(-1).UtcDateTime); utcDay = utcDay.AddDays(1))
        {
            for (var shard = 0; shard < StorageKeys.FactShards; shard++) partitions.Add(StorageKeys.FactPartition(utcDay, shard));
        }

        var channel = Channel.CreateBounded<TableEntity>(new BoundedChannelOptions(4000) { SingleReader = true });
        var columns = select?.ToList();
        // Producers stop when the reader stops early, so no query is left blocked on a full channel.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producers = Task.WhenAll(partitions.Select(async pk =>
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and Time ge {start} and Time lt {end}");
            await foreach (var page in _table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: columns, cancellationToken: stop.Token).AsPages())
            {
                foreach (var entity in page.Values) await channel.Writer.WriteAsync(entity, stop.Token);
            }
        }));
        _ = producers.ContinueWith(t => channel.Writer.TryComplete(t.Exception?.GetBaseException()), TaskScheduler.Default);

        var finished = false;
        try
        {
            await foreach (var entity in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return entity;
            }
            finished = true;
        }
        finally
        {
            if (!finished) await stop.CancelAsync();
        }
        await producers;
    }

    public async Task<Fact?> GetAsync(string id, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(StorageKeys.FactPartition(time, id), id, cancellationToken: cancellationToken);
        return row.HasValue ? FactEntity.FromEntity(row.Value!) : null;
    }
}
