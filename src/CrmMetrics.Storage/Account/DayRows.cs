using Azure.Data.Tables;

namespace CrmMetrics.Storage.Account;

/// <summary>
/// Reads, in one request, the rows of one partition keyed by local day (<see cref="StorageKeys.DayKey"/>)
/// for a set of days: a point read for one day, else one query over the range the days span, kept
/// to the days asked for. Such partitions hold at most a row per calendar day, so the range stays
/// small; this is how grouped callers (<see cref="GroupCall{TItem,TResult}"/>) share a read.
/// </summary>
public static class DayRows
{
    public static async Task<IReadOnlyDictionary<DateOnly, TableEntity>> ReadAsync(TableClient table, string partition, IReadOnlyCollection<DateOnly> days, CancellationToken ct)
    {
        var rows = new Dictionary<DateOnly, TableEntity>();
        if (days.Count == 0) return rows;
        var first = days.Min();
        var last = days.Max();
        if (first == last)
        {
            var row = await table.GetEntityIfExistsAsync<TableEntity>(partition, StorageKeys.DayKey(first), cancellationToken: ct);
            if (row.HasValue) rows[first] = row.Value!;
            return rows;
        }
        var wanted = days.ToHashSet();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {StorageKeys.DayKey(first)} and RowKey le {StorageKeys.DayKey(last)}");
        await foreach (var e in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: ct))
        {
            var day = StorageKeys.ParseDayKey(e.RowKey);
            if (wanted.Contains(day)) rows[day] = e;
        }
        return rows;
    }
}
