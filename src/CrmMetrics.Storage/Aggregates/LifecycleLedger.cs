using System.Text.Json;
using Azure.Data.Tables;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Aggregates;

/// <summary>Active customers per customer-state scope at the start and the end of a period.</summary>
public sealed record ActiveCustomers(IReadOnlyDictionary<string, long> AtStart, IReadOnlyDictionary<string, long> AtEnd);

/// <summary>
/// Each local day's change in active customers per scope (org, segment, region), one small row per
/// day in a single partition. Active customers at any boundary are the sum of all earlier days, so a
/// period reads this ledger (a few thousand rows at most) instead of every customer.
/// </summary>
public sealed class LifecycleLedger
{
    private const string Partition = "ledger";
    private readonly TableClient _table;
    private readonly GroupCall<DateOnly, IReadOnlyDictionary<DateOnly, TableEntity>> _reads;
    private readonly GroupCommit<(string RowKey, TableEntity? Row)> _writes;

    public LifecycleLedger(StorageAccount account)
    {
        _table = account.Table(StorageNames.Tables.LifecycleLedger);
        _reads = new(days => DayRows.ReadAsync(_table, Partition, days, CancellationToken.None));
        _writes = new(WriteRowsAsync);
    }

    /// <summary>
    /// Whether the day's deltas differ from what is stored: when they do, every later period changes
    /// too. Callers mark those periods stale before <see cref="WriteAsync"/>, so a crash in between
    /// leaves a period marked twice rather than a change unnoticed.
    /// Days that callers compare at the same time share a read.
    /// </summary>
    public async Task<bool> DiffersAsync(DateOnly day, IReadOnlyDictionary<string, ActiveDelta> deltas, CancellationToken ct)
    {
        var rows = await _reads.AddAsync([day], ct);
        var stored = rows.TryGetValue(day, out var row) ? StorageJsonRead(row) : null;
        return stored != Serialize(deltas);
    }

    /// <summary>
    /// Stores the day's deltas (a day without any removes its row). Days that callers store at the
    /// same time share a transaction.
    /// </summary>
    public Task WriteAsync(DateOnly day, IReadOnlyDictionary<string, ActiveDelta> deltas, CancellationToken ct)
    {
        var rk = StorageKeys.DayKey(day);
        if (deltas.Count == 0) return _writes.AddAsync([(rk, null)], ct);
        var entity = new TableEntity(Partition, rk);
        StorageJson.Write(entity, "Deltas", Sorted(deltas));
        return _writes.AddAsync([(rk, entity)], ct);
    }

    /// <summary>
    /// Writes a group's rows: upserts in transactions, removals one by one (a missing row is not an
    /// error). Deletes and upserts share the group so that, as with separate requests in call order,
    /// the later write of a day wins when two aggregations of it race.
    /// </summary>
    private async Task WriteRowsAsync(List<(string RowKey, TableEntity? Row)> writes)
    {
        var latest = writes.GroupBy(w => w.RowKey, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        await PartitionBatches.UpsertAllAsync(_table, latest.Where(w => w.Row is not null).Select(w => w.Row!));
        foreach (var (rk, _) in latest.Where(w => w.Row is null))
        {
            await _table.DeleteEntityAsync(Partition, rk); // a missing row is not an error here
        }
    }

    /// <summary>Active customers per scope before <paramref name="firstDay"/> and through <paramref name="lastDay"/>.</summary>
    public async Task<ActiveCustomers> ActiveAsync(DateOnly firstDay, DateOnly lastDay, CancellationToken ct)
    {
        var start = new Dictionary<string, long>(StringComparer.Ordinal);
        var end = new Dictionary<string, long>(StringComparer.Ordinal);
        var through = StorageKeys.DayKey(lastDay);
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey le {through}"), cancellationToken: ct))
        {
            var day = StorageKeys.ParseDayKey(e.RowKey);
            foreach (var (scope, delta) in StorageJson.Read<Dictionary<string, ActiveDelta>>(e, "Deltas") ?? [])
            {
                end[scope] = end.GetValueOrDefault(scope) + delta.Net;
                if (day < firstDay) start[scope] = start.GetValueOrDefault(scope) + delta.Net;
            }
        }
        foreach (var scope in end.Keys) start.TryAdd(scope, 0);
        return new ActiveCustomers(start, end);
    }

    private static SortedDictionary<string, ActiveDelta> Sorted(IReadOnlyDictionary<string, ActiveDelta> deltas) =>
        new(deltas.ToDictionary(), StringComparer.Ordinal);

    private static string? Serialize(IReadOnlyDictionary<string, ActiveDelta> deltas) =>
        deltas.Count == 0 ? null : JsonSerializer.Serialize(Sorted(deltas), StorageJson.Options);

    private static string? StorageJsonRead(TableEntity e) =>
        StorageJson.Read<SortedDictionary<string, ActiveDelta>>(e, "Deltas") is { } d ? JsonSerializer.Serialize(d, StorageJson.Options) : null;
}
