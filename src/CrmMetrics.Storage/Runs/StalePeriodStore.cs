using Azure;
using Azure.Data.Tables;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Runs;

/// <summary>A period key whose snapshots are out of date; the ETag tells whether it was marked again meanwhile.</summary>
public sealed record StalePeriod(string Key, ETag ETag);

/// <summary>
/// Period keys whose figures changed without a dirty day (competitor and market observations, goal
/// and plan changes); the next scheduled run finalises them again.
/// </summary>
public sealed class StalePeriodStore
{
    private const string Partition = "stale";
    private readonly TableClient _table;
    private readonly GroupCommit<string> _marks;

    public StalePeriodStore(StorageAccount account)
    {
        _table = account.Table(StorageNames.Tables.StalePeriods);
        _marks = new GroupCommit<string>(WriteMarksAsync);
    }

    /// <summary>
    /// Marks the periods stale; returns once they are. Periods that callers mark at the same time
    /// share a transaction (days aggregated together mostly mark the same periods).
    /// </summary>
    public Task MarkAsync(IEnumerable<string> periodKeys, CancellationToken ct) => _marks.AddAsync(periodKeys.ToList(), ct);

    private Task WriteMarksAsync(List<string> periodKeys) =>
        PartitionBatches.UpsertAllAsync(_table, periodKeys.Distinct(StringComparer.Ordinal)
            .Select(k => new TableEntity(Partition, StorageKeys.Encode(k)) { ["Stamp"] = Guid.NewGuid().ToString("N") }));

    public async Task<StalePeriod?> GetAsync(string periodKey, CancellationToken ct)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, StorageKeys.Encode(periodKey), cancellationToken: ct);
        return row.HasValue ? new StalePeriod(periodKey, row.Value!.ETag) : null;
    }

    public async Task<IReadOnlyList<StalePeriod>> ListAsync(CancellationToken ct)
    {
        var result = new List<StalePeriod>();
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), cancellationToken: ct))
        {
            result.Add(new StalePeriod(StorageKeys.Decode(e.RowKey), e.ETag));
        }
        return result;
    }

    public async Task ClearAsync(StalePeriod seen, CancellationToken ct)
    {
        try
        {
            await _table.DeleteEntityAsync(Partition, StorageKeys.Encode(seen.Key), seen.ETag, ct);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Gone already, or marked again: the next run sees it.
        }
    }
}
