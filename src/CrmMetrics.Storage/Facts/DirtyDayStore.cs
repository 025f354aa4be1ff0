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
    private readonly GroupCall<DateOnly, IReadOnlyDictionary<DateOnly, TableEntity>> _reads;
    private readonly GroupCall<DirtyDay, IReadOnlyDictionary<DirtyDay, int>> _clears;

    public DirtyDayStore(StorageAccount account)
    {
        _table = account.Table(StorageNames.Tables.DirtyDays);
        _marks = new GroupCommit<DateOnly>(WriteMarksAsync);
        _reads = new(days => DayRows.ReadAsync(_table, Partition, days, CancellationToken.None));
        _clears = new(DeleteMarksAsync);
    }

    /// <summary>
    /// Marks the days dirty; returns once they are. Days that callers mark at the same time share a
    /// transaction.
    /// </summary>
    public Task MarkAsync(IEnumerable<DateOnly> days, CancellationToken cancellationToken) => _marks.AddAsync(days.ToList(), cancellationToken);

    private Task WriteMarksAsync(List<DateOnly> days)
    {
        var now = DateTimeOffset.UtcNow;
        // A fresh stamp changes the ETag even when the day was already dirty.
        return PartitionBatches.UpsertAllAsync(_table, days.Distinct().Order()
            .Select(d => new TableEntity(Partition, StorageKeys.DayKey(d)) { ["Stamp"] = Guid.NewGuid().ToString("N"), ["MarkedAt"] = now }));
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

    /// <summary>The day's mark, if it is dirty. Days that callers ask for at the same time share a read.</summary>
    public async Task<DirtyDay?> GetAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var rows = await _reads.AddAsync([day], cancellationToken);
        return rows.TryGetValue(day, out var row) ? new DirtyDay(day, row.ETag, row.GetDateTimeOffset("MarkedAt")) : null;
    }

    /// <summary>
    /// Clears the mark if it is still the one seen before aggregating; returns false when the day
    /// stays dirty: it was marked again, or another aggregation of the same mark finished first (its
    /// partial and ours may have crossed, so the day is marked again to be aggregated once more).
    /// </summary>
    public async Task<bool> ClearAsync(DirtyDay seen, CancellationToken cancellationToken)
    {
        var outcomes = await _clears.AddAsync([seen], cancellationToken);
        switch (outcomes[seen])
        {
            case 204: return true;
            case 412: return false;
            default: // 404
                await MarkAsync([seen.Day], cancellationToken);
                return false;
        }
    }

    /// <summary>
    /// Deletes the marks if their ETags still match, all in one transaction when every one does; when
    /// any does not, one by one. Returns each mark's status: 204 deleted, 412 marked again, 404 gone.
    /// </summary>
    private async Task<IReadOnlyDictionary<DirtyDay, int>> DeleteMarksAsync(List<DirtyDay> seen)
    {
        var outcomes = new Dictionary<DirtyDay, int>(ReferenceEqualityComparer.Instance);
        var days = seen.Select(s => s.Day).ToList();
        if (seen.Count > 1 && seen.Count <= 100 && days.Distinct().Count() == days.Count)
        {
            try
            {
                await _table.SubmitTransactionAsync(seen.Select(s => new TableTransactionAction(TableTransactionActionType.Delete,
                    new TableEntity(Partition, StorageKeys.DayKey(s.Day)), s.ETag)));
                foreach (var s in seen) outcomes[s] = 204;
                return outcomes;
            }
            catch (TableTransactionFailedException)
            {
                // Some mark changed or went: find out which, one by one.
            }
        }
        foreach (var s in seen) outcomes[s] = await DeleteMarkAsync(s);
        return outcomes;
    }

    private async Task<int> DeleteMarkAsync(DirtyDay seen)
    {
        try
        {
            // The SDK reports a missing entity as a 404 response rather than an exception.
            var response = await _table.DeleteEntityAsync(Partition, StorageKeys.DayKey(seen.Day), seen.ETag);
            return response.Status == 404 ? 404 : 204;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return e.Status;
        }
    }
}
