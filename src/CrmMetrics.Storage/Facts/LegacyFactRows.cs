using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>
/// The Facts table, where facts were stored one row each (keyed by id within a UTC day and shard
/// partition) before the fact logs. Nothing writes it any more; its rows are still read, so a store
/// that holds facts from that time keeps them. An empty table is noticed once and then costs nothing.
/// </summary>
public sealed class LegacyFactRows(TableClient table)
{
    private Task<bool>? _hasRows;

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
        if (known is { IsCompletedSuccessfully: true }) return known;
        // A failed probe is asked again next time rather than remembered.
        return _hasRows = ProbeAsync(ct);
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
