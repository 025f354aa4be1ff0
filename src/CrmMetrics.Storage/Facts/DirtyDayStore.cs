using Azure;
using Azure.Data.Tables;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>A local day whose facts changed since it was last aggregated; the ETag tells whether it changed again.</summary>
public sealed record DirtyDay(DateOnly Day, ETag ETag, DateTimeOffset? MarkedAt);

/// <summary>
/// The days that need (re-)aggregation. Ingestion marks a day before it writes the day's facts, so
/// a crash in between costs a needless re-aggregation, never a lost fact. A day is cleared only if
/// it was not marked again while it was being aggregated.
/// </summary>
public sealed class DirtyDayStore
{
    private const string Partition = "dirty";
    private readonly TableClient _table;
    private readonly GroupCommit<DateOnly> _marks;

    public DirtyDayStore(StorageAccount account)
    {
        _table = account.Table(StorageNames.Tables.DirtyDays);
        _marks = new GroupCommit<DateOnly>(WriteMarksAsync);
    }

    /// <summary>
    /// Marks the days dirty; returns once they are. Days that callers mark at the same time share a
    /// transaction.
    /// </summary>
    public Task MarkAsync(IEnumerable<DateOnly> days, CancellationToken cancellationToken) => _marks.AddAsync(days.ToList(), cancellationToken);

    private async Task WriteMarksAsync(List<DateOnly> days)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var chunk in days.Distinct().Order().Chunk(100))
        {
            // A fresh stamp changes the ETag even when the day was already dirty.
            var actions = chunk.Select(d => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new TableEntity(Partition, StorageKeys.DayKey(d)) { ["Stamp"] = Guid.NewGuid().ToString("N"), ["MarkedAt"] = now }));
            await _table.SubmitTransactionAsync(actions);
        }
    }

    public async Task<IReadOnlyList<DirtyDay>> ListAsync(CancellationToken cancellationToken)
    {
        var result = new List<DirtyDay>();
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), cancellationToken: cancellationToken))
        {
            result.Add(new DirtyDay(StorageKeys.ParseDayKey(e.RowKey), e.ETag, e.GetDateTimeOffset("MarkedAt")));
        }
        return result;
    }

    public async Task<DirtyDay?> GetAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, StorageKeys.DayKey(day), cancellationToken: cancellationToken);
        return row.HasValue ? new DirtyDay(day, row.Value!.ETag, row.Value.GetDateTimeOffset("MarkedAt")) : null;
    }

    /// <summary>
    /// Clears the mark if it is still the one seen before aggregating; returns false when the day
    /// stays dirty: it was marked again, or another aggregation of the same mark finished first (its
    /// partial and ours may have crossed, so the day is marked again to be aggregated once more).
    /// </summary>
    public async Task<bool> ClearAsync(DirtyDay seen, CancellationToken cancellationToken)
    {
        try
        {
            // The SDK reports a missing entity as a 404 response rather than an exception.
            var response = await _table.DeleteEntityAsync(Partition, StorageKeys.DayKey(seen.Day), seen.ETag, cancellationToken);
            if (response.Status != 404) return true;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return false;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
        await MarkAsync([seen.Day], cancellationToken);
        return false;
    }
}
