using Azure;
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
public sealed class ComplaintStore(StorageAccount account)
{
    private readonly TableClient _table = account.Table(StorageNames.Tables.Complaints);

    public async Task<IReadOnlyCollection<DateOnly>> ApplyAsync(IEnumerable<Fact> complaintFacts, Func<DateTimeOffset, DateOnly> localDay, CancellationToken cancellationToken)
    {
        var dirty = new HashSet<DateOnly>();
        var gate = new object();
        await Parallel.ForEachAsync(complaintFacts.GroupBy(f => f.CaseId!), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (group, ct) =>
            {
                var days = await ApplyToCaseAsync(group.Key, group.Select(ComplaintEvent.From).ToList(), localDay, ct);
                lock (gate) dirty.UnionWith(days);
            });
        return dirty;
    }

    private async Task<IReadOnlyCollection<DateOnly>> ApplyToCaseAsync(string caseId, List<ComplaintEvent> events, Func<DateTimeOffset, DateOnly> localDay, CancellationToken ct)
    {
        var pk = StorageKeys.CasePartition(caseId);
        var rk = StorageKeys.Encode(caseId);
        for (var attempt = 0; ; attempt++)
        {
            var row = await _table.GetEntityIfExistsAsync<TableEntity>(pk, rk, cancellationToken: ct);
            var entity = row.HasValue ? row.Value! : new TableEntity(pk, rk);
            var complaint = new ComplaintCase(caseId, StorageJson.Read<List<ComplaintEvent>>(entity, "Events") ?? []);
            var (openedBefore, resolvedBefore) = (complaint.Opened, complaint.Resolved);
            if (!complaint.Add(events)) return [];

            var dirty = new HashSet<DateOnly>();
            if (resolvedBefore is not null && (resolvedBefore.Id != complaint.Resolved?.Id || openedBefore?.Id != complaint.Opened?.Id))
            {
                dirty.Add(localDay(resolvedBefore.Time));
            }
            if (complaint.Resolved is { } resolved && openedBefore?.Id != complaint.Opened?.Id) dirty.Add(localDay(resolved.Time));

            StorageJson.Write(entity, "Events", complaint.Events);
            try
            {
                if (row.HasValue) await _table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, ct);
                else await _table.AddEntityAsync(entity, ct);
                return dirty;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412 && attempt < 20)
            {
                // Another writer changed the case; redo with theirs.
            }
        }
    }

    public async Task<IReadOnlyDictionary<string, ComplaintCase>> GetManyAsync(IEnumerable<string> caseIds, CancellationToken ct)
    {
        var result = new System.Collections.Concurrent.ConcurrentDictionary<string, ComplaintCase>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(caseIds.Distinct(), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (caseId, token) =>
        {
            var row = await _table.GetEntityIfExistsAsync<TableEntity>(StorageKeys.CasePartition(caseId), StorageKeys.Encode(caseId), cancellationToken: token);
            if (row.HasValue) result[caseId] = new ComplaintCase(caseId, StorageJson.Read<List<ComplaintEvent>>(row.Value!, "Events") ?? []);
        });
        return result;
    }
}
