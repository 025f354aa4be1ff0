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
public sealed class LifecycleLedger(StorageAccount account)
{
    private const string Partition = "ledger";
    private readonly TableClient _table = account.Table(StorageNames.Tables.LifecycleLedger);

    /// <summary>Stores the day's deltas; returns whether they differ from what was stored (later periods then change too).</summary>
    public async Task<bool> WriteAsync(DateOnly day, IReadOnlyDictionary<string, ActiveDelta> deltas, CancellationToken ct)
    {
        var rk = StorageKeys.DayKey(day);
        var json = deltas.Count == 0 ? null : JsonSerializer.Serialize(new SortedDictionary<string, ActiveDelta>(deltas.ToDictionary(), StringComparer.Ordinal), StorageJson.Options);
        var existing = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, rk, cancellationToken: ct);
        var stored = existing.HasValue ? StorageJsonRead(existing.Value!) : null;
        if (stored == json) return false;
        if (json is null) await _table.DeleteEntityAsync(Partition, rk, cancellationToken: ct);
        else
        {
            var entity = new TableEntity(Partition, rk);
            StorageJson.Write(entity, "Deltas", new SortedDictionary<string, ActiveDelta>(deltas.ToDictionary(), StringComparer.Ordinal));
            await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct);
        }
        return true;
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

    private static string? StorageJsonRead(TableEntity e) =>
        StorageJson.Read<SortedDictionary<string, ActiveDelta>>(e, "Deltas") is { } d ? JsonSerializer.Serialize(d, StorageJson.Options) : null;
}
