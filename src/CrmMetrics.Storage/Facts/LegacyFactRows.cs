using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>
/// The Facts table, where facts were stored one row each (keyed by id within a UTC day and shard
/// partition) before the fact logs. Nothing of this version writes it; its rows are still read, so a
/// store that holds facts from that time keeps them. An empty table costs one probe a minute.
/// </summary>
public sealed class LegacyFactRows(TableClient table)
{
    private static readonly TimeSpan EmptyFor = TimeSpan.FromMinutes(1);
    private Task<bool>? _hasRows;
    private DateTimeOffset _probedAt;

    public async Task<bool> ExistsAsync(Fact fact, CancellationToken ct) =>
        await HasRowsAsync(ct)
        && (await table.GetEntityIfExistsAsync<TableEntity>(StorageKeys.FactPartition(fact.Time, fact.Id), fact.Id, ["RowKey"], ct)).HasValue;

    /// <summary>The rows of one UTC day, shard by shard.</summary>
    public async IAsyncEnumerable<Fact> ReadDayAsync(DateOnly utcDay, [EnumeratorCancellation] CancellationToken ct)
    {
        if (!await HasRowsAsync(ct)) yield break;
        for (var shard = 0; shard < StorageKeys.FactShards; shard++)
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {StorageKeys.FactPartition(utcDay, shard)}");
            await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: ct))
            {
                yield return FactEntity.FromEntity(entity);
            }
        }
    }

    private Task<bool> HasRowsAsync(CancellationToken ct)
    {
        var known = _hasRows;
        // Rows, once there, stay. "None" is asked again after a while: an instance of an earlier
        // version may still be writing rows during a deployment. A failed probe is asked again at
        // once. The probe is shared, so one caller giving up does not cancel it for the others.
        if (known is { IsCompletedSuccessfully: true } && (known.Result || DateTimeOffset.UtcNow - _probedAt < EmptyFor)) return known;
        if (known is null || known.IsCompleted)
        {
            _probedAt = DateTimeOffset.UtcNow;
            _hasRows = known = StorageAnswerLimit.StartShared(() => ProbeAsync(CancellationToken.None));
        }
        return StorageAnswerLimit.WaitShared(known, ct);
    }

    private async Task<bool> ProbeAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var page in table.QueryAsync<TableEntity>(maxPerPage: 1, select: ["RowKey"], cancellationToken: ct).AsPages())
            {
                return page.Values.Count > 0 || page.ContinuationToken is not null;
            }
            return false;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }
}
