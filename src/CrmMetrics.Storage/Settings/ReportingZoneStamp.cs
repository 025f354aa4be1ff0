using Azure;
using Azure.Data.Tables;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Settings;

/// <summary>
/// The time zone the stored day summaries and lifecycle ledger were cut in. They are kept by local day
/// and say nothing of the zone themselves, so a deployment records it once and a later change of
/// <c>CrmMetrics:TimeZone</c> can be told from the zone it was computed in.
/// </summary>
public sealed class ReportingZoneStamp(StorageAccount account)
{
    private const string Partition = "deployment";
    private const string Row = "reporting-zone";
    private readonly TableClient _table = account.Table(StorageNames.Tables.Deployment);

    /// <summary>The zone recorded, recording <paramref name="zoneId"/> when none is yet.</summary>
    public async Task<string> EnsureAsync(string zoneId, CancellationToken ct)
    {
        // Recorded once per deployment: read it (one point read on every later call), add it only when absent.
        for (var attempt = 0; ; attempt++)
        {
            var row = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, Row, cancellationToken: ct);
            if (row.HasValue) return row.Value!.GetString("TimeZone") ?? zoneId;
            try
            {
                await _table.AddEntityAsync(new TableEntity(Partition, Row) { ["TimeZone"] = zoneId, ["RecordedAt"] = DateTimeOffset.UtcNow }, ct);
                return zoneId;
            }
            catch (RequestFailedException e) when (e.Status == 409 && attempt == 0)
            {
                // Another instance recorded it meanwhile: read what it recorded.
            }
        }
    }

    /// <summary>Records <paramref name="zoneId"/> in place of what was recorded (when nothing was computed in the old one).</summary>
    public async Task ReplaceAsync(string zoneId, CancellationToken ct) =>
        await _table.UpsertEntityAsync(new TableEntity(Partition, Row) { ["TimeZone"] = zoneId, ["RecordedAt"] = DateTimeOffset.UtcNow }, TableUpdateMode.Replace, ct);
}
