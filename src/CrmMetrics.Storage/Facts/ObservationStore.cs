using Azure;
using Azure.Data.Tables;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>A competitor's or the market's figure for a period; the latest observation (by time, then id) wins.</summary>
public sealed record Observation(string PeriodKey, string? Competitor, string Indicator, double Value, DateTimeOffset Time, string FactId);

/// <summary>Competitor and market observations by period key, one row per (competitor, indicator).</summary>
public sealed class ObservationStore(StorageAccount account)
{
    private readonly TableClient _table = account.Table(StorageNames.Tables.Observations);

    /// <summary>Stores observations, keeping the latest of each (period, competitor, indicator). The caller marks their periods stale first.</summary>
    public async Task ApplyAsync(IEnumerable<Fact> observations, CancellationToken ct)
    {
        // The latest of each (period, competitor, indicator) in this batch; then compare with what is stored.
        var latest = observations
            .GroupBy(f => (f.PeriodKey!, f.Competitor, f.Indicator!))
            .Select(g => g.OrderByDescending(f => f.Time.UtcTicks).ThenByDescending(f => f.Id, StringComparer.Ordinal).First());
        await Parallel.ForEachAsync(latest, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (f, token) =>
            await StoreIfNewerAsync(f, token));
    }

    private async Task<bool> StoreIfNewerAsync(Fact f, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(f.PeriodKey!);
        var rk = f.Type == FactType.MarketObservation ? "market|" + f.Indicator : $"competitor|{StorageKeys.Encode(f.Competitor!)}|{f.Indicator}";
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var row = await _table.GetEntityIfExistsAsync<TableEntity>(pk, rk, cancellationToken: ct);
            if (row.HasValue)
            {
                var stored = row.Value!;
                var storedTime = stored.GetDateTimeOffset("Time")!.Value;
                var storedId = stored.GetString("FactId")!;
                if (storedTime > f.Time || (storedTime == f.Time && string.CompareOrdinal(storedId, f.Id) >= 0)) return false;
            }
            var entity = new TableEntity(pk, rk)
            {
                ["Period"] = f.PeriodKey,
                ["Indicator"] = f.Indicator,
                ["Value"] = f.Value!.Value,
                ["Time"] = f.Time.ToUniversalTime(),
                ["FactId"] = f.Id,
            };
            if (f.Competitor is not null) entity["Competitor"] = f.Competitor;
            try
            {
                if (row.HasValue) await _table.UpdateEntityAsync(entity, row.Value!.ETag, TableUpdateMode.Replace, ct);
                else await _table.AddEntityAsync(entity, ct);
                return true;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Someone else stored one meanwhile; compare again.
            }
        }
        throw new ConcurrentChangeException($"The observation {f.Id} kept conflicting with concurrent writes; retry it.");
    }

    public async Task<IReadOnlyList<Observation>> ForPeriodAsync(string periodKey, CancellationToken ct)
    {
        var result = new List<Observation>();
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {StorageKeys.Encode(periodKey)}"), cancellationToken: ct))
        {
            result.Add(new Observation(periodKey, e.GetString("Competitor"), e.GetString("Indicator")!, e.GetDouble("Value")!.Value,
                e.GetDateTimeOffset("Time")!.Value, e.GetString("FactId")!));
        }
        return result;
    }
}
