using Azure.Data.Tables;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Lifecycle;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>
/// Complaint cases by caseId: their opens and resolves, matched across days and arrival order.
/// Applying facts reports the days of resolves whose meaning changed (the open arrived after the
/// resolve, or an earlier resolve replaced the counted one), so those days are aggregated again.
/// </summary>
/// <param name="account">The storage account.</param>
/// <param name="feed">The feed changed cases go to (shared with the <see cref="CustomerStore"/> in the app).</param>
public sealed class ComplaintStore(StorageAccount account, StateFeed? feed = null)
{
    private readonly TableClient _table = account.Table(StorageNames.Tables.Complaints);
    private readonly StateFeed _feed = feed ?? new(account);
    // Rows this instance wrote or read lately: most follow-up facts of a customer or case then need no read.
    private readonly RowCache _recent = new(capacity: 32_768);
    // Requests of this instance take turns per partition, so they meet each other's rows in the cache, not in failed transactions.
    private readonly PartitionTurns _turns = new();

    /// <summary>
    /// Adds complaint facts to their cases; the days to re-aggregate go to <paramref name="markDirty"/>
    /// before the rows are written. Changed cases go to the <see cref="StateFeed"/> as timelines do
    /// (see <see cref="CustomerStore.ApplyAsync"/>).
    /// </summary>
    /// <param name="resent">Ids of facts stored before: they do not make a case probably new (as for <see cref="CustomerStore.ApplyAsync"/>).</param>
    public async Task ApplyAsync(IEnumerable<Fact> complaintFacts, Func<DateTimeOffset, DateOnly> localDay, Func<IReadOnlyCollection<DateOnly>, Task> markDirty,
        CancellationToken cancellationToken, IReadOnlySet<string>? resent = null)
    {
        var byPartition = complaintFacts.GroupBy(f => f.CaseId!).GroupBy(g => StorageKeys.CasePartition(g.Key));
        var added = new System.Collections.Concurrent.ConcurrentBag<StateChange>();
        await Parallel.ForEachAsync(byPartition, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (partition, ct) =>
            {
                var events = partition.ToDictionary(g => StorageKeys.Encode(g.Key), g => (CaseId: g.Key, Events: g.Select(ComplaintEvent.From).ToList()), StringComparer.Ordinal);
                using var turn = await _turns.EnterAsync(partition.Key, ct);
                // A case newly opened here is most likely new: add its row without reading.
                var written = await PartitionBatches.MergeManyAsync(_table, partition.Key, events.Keys,
                    rk => events[rk].Events.Any(e => e.Type == FactType.ComplaintOpened && resent?.Contains(e.Id) is not true),
                    (rk, entity) => Merge(events[rk].CaseId, entity, events[rk].Events, localDay),
                    async (outcomes, blind) =>
                    {
                        if (!blind) await _feed.AppendAsync(outcomes.Select(o => o.Change).ToList(), ct);
                        var days = outcomes.SelectMany(o => o.Days).ToHashSet();
                        if (days.Count > 0) await markDirty(days);
                    }, ct, _recent);
                foreach (var (_, outcome, blind) in written.Where(w => w.Blind)) added.Add(outcome.Change);
            });
        await _feed.AppendAsync(added, cancellationToken);
    }

    private sealed record MergeOutcome(HashSet<DateOnly> Days, StateChange Change);

    /// <summary>Merges facts into a case row; null when nothing changed, else the days of resolves whose meaning changed and the case for the feed.</summary>
    private static MergeOutcome? Merge(string caseId, TableEntity entity, List<ComplaintEvent> events, Func<DateTimeOffset, DateOnly> localDay)
    {
        var complaint = CaseOf(caseId, entity);
        var (openedBefore, resolvedBefore) = (complaint.Opened, complaint.Resolved);
        if (!complaint.Add(events)) return null;

        var dirty = new HashSet<DateOnly>();
        if (resolvedBefore is not null && (resolvedBefore.Id != complaint.Resolved?.Id || openedBefore?.Id != complaint.Opened?.Id))
        {
            dirty.Add(localDay(resolvedBefore.Time));
        }
        if (complaint.Resolved is { } resolved && openedBefore?.Id != complaint.Opened?.Id) dirty.Add(localDay(resolved.Time));
        StorageJson.Write(entity, "Events", complaint.Events);
        return new MergeOutcome(dirty, new StateChange(null, null, caseId, complaint.Events.ToList()));
    }

    public async Task<IReadOnlyDictionary<string, ComplaintCase>> GetManyAsync(IEnumerable<string> caseIds, CancellationToken ct)
    {
        var result = new System.Collections.Concurrent.ConcurrentDictionary<string, ComplaintCase>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(caseIds.Distinct(), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (caseId, token) =>
        {
            var row = await _table.GetEntityIfExistsAsync<TableEntity>(StorageKeys.CasePartition(caseId), StorageKeys.Encode(caseId), cancellationToken: token);
            if (row.HasValue) result[caseId] = CaseOf(caseId, row.Value!);
        });
        return result;
    }

    private static ComplaintCase CaseOf(string caseId, TableEntity row) => new(caseId, StorageJson.Read<List<ComplaintEvent>>(row, "Events") ?? []);
}
