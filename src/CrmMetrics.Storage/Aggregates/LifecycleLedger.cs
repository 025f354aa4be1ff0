using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Aggregates;

/// <summary>A day's ledger row as read: its version (the row's ETag; null when the day has none) and its deltas in canonical form.</summary>
public sealed record LedgerRow(ETag? Version, string? Deltas)
{
    /// <summary>
    /// Whether these deltas differ from the row's: when they do, every later period changes too, and
    /// the map step marks those periods stale before it writes the row.
    /// </summary>
    public bool Differs(IReadOnlyDictionary<string, ActiveDelta> deltas) => Deltas != LifecycleLedger.Canonical(deltas);
}

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
    private readonly GroupCall<ConditionalWrite, IReadOnlyDictionary<ConditionalWrite, bool>> _conditionalWrites;

    public LifecycleLedger(StorageAccount account)
    {
        _table = account.Table(StorageNames.Tables.LifecycleLedger);
        _reads = new(days => DayRows.ReadAsync(_table, Partition, days, CancellationToken.None));
        _conditionalWrites = new(WriteIfUnchangedAsync);
    }

    /// <summary>The day's row as stored now. Days that callers read at the same time share a read.</summary>
    public async Task<LedgerRow> ReadAsync(DateOnly day, CancellationToken ct)
    {
        var rows = await _reads.AddAsync([day], ct);
        return rows.TryGetValue(day, out var row) ? new LedgerRow(row.ETag, StorageJsonRead(row)) : new LedgerRow(null, null);
    }

    /// <summary>
    /// Stores the day's deltas if its row is still at <paramref name="seen"/> (null: if the day still
    /// has none); returns false, having written nothing, when another aggregation wrote the row since.
    /// The row is written even when its deltas do not change (a day without any keeps an empty row),
    /// so every aggregation that stores its partial moves the row's version, and an older aggregation
    /// that read the version before cannot write after it. Days that callers store at the same time
    /// share a transaction when every one of them is unchanged.
    /// </summary>
    public async Task<bool> TryWriteAsync(DateOnly day, IReadOnlyDictionary<string, ActiveDelta> deltas, ETag? seen, CancellationToken ct)
    {
        var row = Row(day, deltas) ?? new TableEntity(Partition, StorageKeys.DayKey(day));
        // An entity's ETag, once set (even to the empty one), is no longer "never read": set it only for a row seen.
        if (seen is { } version) row.ETag = version;
        var write = new ConditionalWrite(row);
        return (await _conditionalWrites.AddAsync([write], ct))[write];
    }

    /// <summary>A day's row to write; its ETag is the condition (none: the day must still have no row).</summary>
    private sealed class ConditionalWrite(TableEntity row)
    {
        public TableEntity Row => row;
    }

    private static TableEntity? Row(DateOnly day, IReadOnlyDictionary<string, ActiveDelta> deltas)
    {
        if (deltas.Count == 0) return null;
        var entity = new TableEntity(Partition, StorageKeys.DayKey(day));
        StorageJson.Write(entity, "Deltas", Sorted(deltas));
        return entity;
    }

    /// <summary>
    /// Conditional writes of the days callers store at the same time, sharing transactions; each caller
    /// learns whether its own row was written. (Two writes of one day in a group make the transaction
    /// invalid; the group call then makes each caller's write on its own.)
    /// </summary>
    private async Task<IReadOnlyDictionary<ConditionalWrite, bool>> WriteIfUnchangedAsync(List<ConditionalWrite> writes)
    {
        var refused = (await PartitionBatches.WriteIfUnchangedAsync(_table, writes, w => w.Row, CancellationToken.None)).ToHashSet();
        return writes.ToDictionary(w => w, w => !refused.Contains(w));
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

    /// <summary>Deltas in the form rows are compared in.</summary>
    internal static string? Canonical(IReadOnlyDictionary<string, ActiveDelta> deltas) =>
        deltas.Count == 0 ? null : JsonSerializer.Serialize(Sorted(deltas), StorageJson.Options);

    /// <summary>A row's deltas in canonical form (scopes in ordinal order, as <see cref="Canonical"/> writes them).</summary>
    private static string? StorageJsonRead(TableEntity e) =>
        StorageJson.Read<Dictionary<string, ActiveDelta>>(e, "Deltas") is { Count: > 0 } d ? Canonical(d) : null;
}
