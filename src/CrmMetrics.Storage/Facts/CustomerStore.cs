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
/// <param name="account">The storage account.</param>
/// <param name="feed">The feed changed timelines go to; the app shares one with the <see cref="ComplaintStore"/>, so appends made at the same time share a request.</param>
public sealed class CustomerStore(StorageAccount account, StateFeed? feed = null)
{
    private readonly TableClient _customers = account.Table(StorageNames.Tables.Customers);
    private readonly StateFeed _feed = feed ?? new(account);
    // Rows this instance wrote or read lately: most follow-up facts of a customer or case then need no read.
    private readonly RowCache _recent = new(capacity: 32_768);
    // Requests of this instance take turns per partition, so they meet each other's rows in the cache, not in failed transactions.
    private readonly PartitionTurns _turns = new();
    // Days on which the map step met the customer without a known acquisition: "U<yyyyMMdd>" properties on the customer's row.
    private const string UnresolvedPrefix = "U";

    public TableClient Customers => _customers;

    /// <summary>The feed this store appends changed timelines to.</summary>
    public StateFeed Feed => _feed;

    /// <summary>
    /// Adds lifecycle facts to their customers' timelines. The days to re-aggregate are handed to
    /// <paramref name="markDirty"/> before the rows are written; when an attributed customer's segment or
    /// region moves, so is the day from which they include every day, to <paramref name="markEveryDayBefore"/>,
    /// which marks the aggregated days before it (its facts there count in the old segment and region). Every changed timeline goes to the
    /// <see cref="StateFeed"/>: before the write when the row was read (so no stored change can miss
    /// the feed), after it when the row was added blindly (only then is it known to be all there is).
    /// </summary>
    /// <param name="resent">
    /// Ids of facts stored before (a resend, applied again to repair a write that stopped part-way): they do
    /// not make a customer probably new, so its row is read rather than added blindly. A blind add marks the
    /// days its facts give against an empty row before it learns whether the row exists.
    /// </param>
    public async Task ApplyAsync(IEnumerable<Fact> lifecycleFacts, Func<DateTimeOffset, DateOnly> localDay, DateOnly today,
        Func<IReadOnlyCollection<DateOnly>, Task> markDirty, CancellationToken cancellationToken, Func<DateOnly, Task>? markEveryDayBefore = null,
        IReadOnlySet<string>? resent = null)
    {
        var byPartition = lifecycleFacts.GroupBy(f => f.CustomerId!).GroupBy(g => StorageKeys.CustomerPartition(g.Key));
        var added = new System.Collections.Concurrent.ConcurrentBag<StateChange>();
        await Parallel.ForEachAsync(byPartition, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (partition, ct) =>
            {
                var events = partition.ToDictionary(g => g.Key, g => g.Select(LifecycleEvent.From).ToList(), StringComparer.Ordinal);
                using var turn = await _turns.EnterAsync(partition.Key, ct);
                // A customer whose new facts here include an acquisition is most likely new: add its row without reading.
                var written = await PartitionBatches.MergeManyAsync(_customers, partition.Key, events.Keys,
                    customerId => events[customerId].Any(e => e.Type == FactType.CustomerAcquired && resent?.Contains(e.Id) is not true),
                    (customerId, entity) => Merge(customerId, entity, events[customerId], localDay, today),
                    async (outcomes, blind) =>
                    {
                        if (!blind) await _feed.AppendAsync(outcomes.Select(o => o.Change).ToList(), ct);
                        var days = outcomes.SelectMany(o => o.Days).ToHashSet();
                        if (days.Count > 0) await markDirty(days);
                        // Found by an independent reference: an order before both acquisitions stayed in the segment of
                        // the one that arrived first when the earlier one arrived later.
                        if (markEveryDayBefore is not null && outcomes.Min(o => o.EveryDayBefore) is { } before) await markEveryDayBefore(before);
                    }, ct, _recent);
                foreach (var (_, outcome, blind) in written.Where(w => w.Blind)) added.Add(outcome.Change);
            });
        // One append for every partition's new customers. A crash before it leaves the feed without
        // them; readers then read their rows.
        await _feed.AppendAsync(added, cancellationToken);
    }

    /// <param name="EveryDayBefore">
    /// When an attributed customer's segment or region moved: the day from which <see cref="MergeOutcome.Days"/> holds
    /// every day; its facts before it (orders before its first acquisition) may be on any earlier aggregated day.
    /// </param>
    private sealed record MergeOutcome(HashSet<DateOnly> Days, StateChange Change, DateOnly? EveryDayBefore = null);

    /// <summary>
    /// Merges new lifecycle facts into a customer row. Returns null when nothing changed; otherwise
    /// the days whose meaning changed and the timeline for the feed.
    /// </summary>
    private static MergeOutcome? Merge(string customerId, TableEntity entity, List<LifecycleEvent> events, Func<DateTimeOffset, DateOnly> localDay, DateOnly today)
    {
        var timeline = new CustomerTimeline(StorageJson.Read<List<LifecycleEvent>>(entity, "Timeline") ?? []);
        var before = timeline.Effects().ToDictionary(x => x.Event.Id, x => x.Effect);
        var oldFirst = timeline.FirstAcquisition;
        if (!timeline.Add(events)) return null;

        var dirty = new HashSet<DateOnly>();
        foreach (var (e, effect) in timeline.Effects())
        {
            // New facts' own days are marked by ingestion; these are the days whose meaning changed.
            if (before.TryGetValue(e.Id, out var was) && was != effect) dirty.Add(localDay(e.Time));
        }

        var newFirst = timeline.FirstAcquisition;
        DateOnly? everyDayBefore = null;
        var dimensionChanged = newFirst is not null && (oldFirst is null || oldFirst.Segment != newFirst.Segment || oldFirst.Region != newFirst.Region);
        if (dimensionChanged)
        {
            // Every lifecycle fact of the customer counts in the segment and region scopes.
            foreach (var e in timeline.Events) dirty.Add(localDay(e.Time));
            // Days the map step aggregated while the customer was unknown: taken off the row as it is written.
            foreach (var property in entity.Keys.Where(k => k.Length == 9 && k.StartsWith(UnresolvedPrefix, StringComparison.Ordinal)).ToList())
            {
                dirty.Add(StorageKeys.ParseDayKey(property[1..]));
                entity.Remove(property);
            }
            if (oldFirst is not null)
            {
                // Other facts of an already attributed customer: every day since the earlier acquisition.
                var from = localDay(oldFirst.Time < newFirst!.Time ? oldFirst.Time : newFirst.Time);
                for (var d = from; d <= today; d = d.AddDays(1)) dirty.Add(d);
                everyDayBefore = from;
            }
        }

        StorageJson.Write(entity, "Timeline", timeline.Events);
        entity["HasAcquisition"] = newFirst is not null;
        SetOrRemove(entity, "Segment", newFirst?.Segment);
        SetOrRemove(entity, "Region", newFirst?.Region);
        return new MergeOutcome(dirty, new StateChange(customerId, timeline.Events.ToList(), null, null), everyDayBefore);
    }

    /// <summary>
    /// Records that the map step attributed these customers' facts of <paramref name="day"/> to the
    /// unknown segment, as a property merged into each customer's row, so the acquisition that
    /// resolves the customer finds the days in the row it reads anyway.
    /// </summary>
    public async Task RecordUnresolvedAsync(IEnumerable<string> customerIds, DateOnly day, CancellationToken ct)
    {
        var property = UnresolvedPrefix + StorageKeys.DayKey(day);
        foreach (var partition in customerIds.Distinct(StringComparer.Ordinal).GroupBy(StorageKeys.CustomerPartition))
        {
            foreach (var chunk in partition.Chunk(100))
            {
                await _customers.SubmitTransactionAsync(chunk.Select(c => new TableTransactionAction(TableTransactionActionType.UpsertMerge,
                    new TableEntity(partition.Key, c) { [property] = true })), ct);
            }
        }
    }

    /// <summary>The timelines of these customers (those that have a row), read in parallel.</summary>
    public async Task<IReadOnlyDictionary<string, CustomerTimeline>> GetTimelinesAsync(IReadOnlyCollection<string> customerIds, CancellationToken ct)
    {
        var result = new System.Collections.Concurrent.ConcurrentDictionary<string, CustomerTimeline>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(customerIds.GroupBy(StorageKeys.CustomerPartition), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (partition, token) =>
        {
            foreach (var (customerId, row) in await PartitionBatches.ReadManyAsync(_customers, partition.Key, partition, token))
            {
                result[customerId] = TimelineOf(row);
            }
        });
        return result;
    }

    public async Task<CustomerTimeline?> GetTimelineAsync(string customerId, CancellationToken ct)
    {
        var row = await _customers.GetEntityIfExistsAsync<TableEntity>(StorageKeys.CustomerPartition(customerId), customerId, cancellationToken: ct);
        return row.HasValue ? TimelineOf(row.Value!) : null;
    }

    /// <summary>The timeline a customer row holds.</summary>
    public static CustomerTimeline TimelineOf(TableEntity row) => new(StorageJson.Read<List<LifecycleEvent>>(row, "Timeline") ?? []);

    /// <summary>The columns a customer's timeline is stored in, for queries that read only those.</summary>
    public static IReadOnlyList<string> TimelineColumns { get; } = StorageJson.Columns("Timeline");

    private static void SetOrRemove(TableEntity e, string name, string? value)
    {
        if (value is null) e.Remove(name);
        else e[name] = value;
    }
}
