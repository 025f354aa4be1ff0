using Azure;
using Azure.Data.Tables;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Lifecycle;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>
/// Each customer's lifecycle timeline (all their lifecycle facts) and the breakdown dimension it
/// gives them. Applying new facts reports which local days must be aggregated again because the
/// facts changed what other facts mean (a late churn turns a later acquisition into a win-back; a
/// late first acquisition moves the customer to another segment).
/// </summary>
public sealed class CustomerStore(StorageAccount account)
{
    private readonly TableClient _customers = account.Table(StorageNames.Tables.Customers);
    private readonly TableClient _changes = account.Table(StorageNames.Tables.CustomerChanges);
    private readonly TableClient _unresolved = account.Table(StorageNames.Tables.UnresolvedCustomerDays);

    public TableClient Customers => _customers;
    public TableClient Changes => _changes;

    /// <summary>Adds lifecycle facts to their customers' timelines; returns the local days to re-aggregate.</summary>
    public async Task<IReadOnlyCollection<DateOnly>> ApplyAsync(IEnumerable<Fact> lifecycleFacts, Func<DateTimeOffset, DateOnly> localDay, DateOnly today,
        CancellationToken cancellationToken)
    {
        var dirty = new HashSet<DateOnly>();
        var gate = new object();
        await Parallel.ForEachAsync(lifecycleFacts.GroupBy(f => f.CustomerId!), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (group, ct) =>
            {
                var days = await ApplyToCustomerAsync(group.Key, group.Select(LifecycleEvent.From).ToList(), localDay, today, ct);
                lock (gate) dirty.UnionWith(days);
            });
        return dirty;
    }

    private async Task<IReadOnlyCollection<DateOnly>> ApplyToCustomerAsync(string customerId, List<LifecycleEvent> events, Func<DateTimeOffset, DateOnly> localDay,
        DateOnly today, CancellationToken ct)
    {
        var pk = StorageKeys.CustomerPartition(customerId);
        for (var attempt = 0; ; attempt++)
        {
            var row = await _customers.GetEntityIfExistsAsync<TableEntity>(pk, customerId, cancellationToken: ct);
            var entity = row.HasValue ? row.Value! : new TableEntity(pk, customerId);
            var timeline = new CustomerTimeline(StorageJson.Read<List<LifecycleEvent>>(entity, "Timeline") ?? []);
            var before = timeline.Effects().ToDictionary(x => x.Event.Id, x => x.Effect);
            var oldFirst = timeline.FirstAcquisition;
            if (!timeline.Add(events)) return [];

            var dirty = new HashSet<DateOnly>();
            foreach (var (e, effect) in timeline.Effects())
            {
                // New facts' own days are marked by ingestion; these are the days whose meaning changed.
                if (before.TryGetValue(e.Id, out var was) && was != effect) dirty.Add(localDay(e.Time));
            }

            var newFirst = timeline.FirstAcquisition;
            var dimensionChanged = newFirst is not null && (oldFirst is null || oldFirst.Segment != newFirst.Segment || oldFirst.Region != newFirst.Region);
            if (dimensionChanged)
            {
                // Every lifecycle fact of the customer counts in the segment and region scopes.
                foreach (var e in timeline.Events) dirty.Add(localDay(e.Time));
                if (oldFirst is not null)
                {
                    // Other facts of an already attributed customer: every day since the earlier acquisition.
                    var from = localDay(oldFirst.Time < newFirst!.Time ? oldFirst.Time : newFirst.Time);
                    for (var d = from; d <= today; d = d.AddDays(1)) dirty.Add(d);
                }
            }

            StorageJson.Write(entity, "Timeline", timeline.Events);
            entity["HasAcquisition"] = newFirst is not null;
            SetOrRemove(entity, "Segment", newFirst?.Segment);
            SetOrRemove(entity, "Region", newFirst?.Region);
            try
            {
                if (row.HasValue) await _customers.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, ct);
                else await _customers.AddEntityAsync(entity, ct);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412 && attempt < 20)
            {
                continue; // another writer changed the customer; redo with theirs
            }

            if (dimensionChanged)
            {
                await RecordChangeAsync(customerId, newFirst!, ct);
                dirty.UnionWith(await TakeUnresolvedDaysAsync(customerId, ct));
            }
            return dirty;
        }
    }

    private async Task RecordChangeAsync(string customerId, LifecycleEvent first, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var change = new TableEntity(now.ToString("yyyyMMddHH"), $"{now.UtcTicks:D19}-{customerId}")
        {
            ["CustomerId"] = customerId,
            ["HasAcquisition"] = true,
        };
        SetOrRemove(change, "Segment", first.Segment);
        SetOrRemove(change, "Region", first.Region);
        await _changes.UpsertEntityAsync(change, TableUpdateMode.Replace, ct);
    }

    /// <summary>Records that the map step attributed these customers' facts of <paramref name="day"/> to the unknown segment.</summary>
    public async Task RecordUnresolvedAsync(IEnumerable<string> customerIds, DateOnly day, CancellationToken ct)
    {
        var dayKey = StorageKeys.DayKey(day);
        foreach (var partition in customerIds.GroupBy(StorageKeys.CustomerPartition))
        {
            foreach (var chunk in partition.Chunk(100))
            {
                await _unresolved.SubmitTransactionAsync(chunk.Select(c => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                    new TableEntity(partition.Key, $"{c}|{dayKey}"))), ct);
            }
        }
    }

    private async Task<IReadOnlyCollection<DateOnly>> TakeUnresolvedDaysAsync(string customerId, CancellationToken ct)
    {
        var pk = StorageKeys.CustomerPartition(customerId);
        var from = customerId + "|";
        var to = customerId + "}"; // '}' sorts right after '|'
        var rows = new List<TableEntity>();
        await foreach (var e in _unresolved.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey gt {from} and RowKey lt {to}"), cancellationToken: ct))
        {
            rows.Add(e);
        }
        foreach (var chunk in rows.Chunk(100))
        {
            await _unresolved.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.Delete, e, ETag.All)), ct);
        }
        return rows.Select(e => StorageKeys.ParseDayKey(e.RowKey[(e.RowKey.LastIndexOf('|') + 1)..])).ToHashSet();
    }

    public async Task<CustomerTimeline?> GetTimelineAsync(string customerId, CancellationToken ct)
    {
        var row = await _customers.GetEntityIfExistsAsync<TableEntity>(StorageKeys.CustomerPartition(customerId), customerId, cancellationToken: ct);
        return row.HasValue ? new CustomerTimeline(StorageJson.Read<List<LifecycleEvent>>(row.Value!, "Timeline") ?? []) : null;
    }

    /// <summary>The dimension a customer row (or change row) gives; null while the customer has no acquisition.</summary>
    public static CustomerDimension? DimensionOf(TableEntity e) =>
        e.GetBoolean("HasAcquisition") == true ? new CustomerDimension(e.GetString("Segment"), e.GetString("Region")) : null;

    private static void SetOrRemove(TableEntity e, string name, string? value)
    {
        if (value is null) e.Remove(name);
        else e[name] = value;
    }
}
