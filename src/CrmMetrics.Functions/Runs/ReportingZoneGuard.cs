using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Aggregates;
using CrmMetrics.Storage.Settings;

namespace CrmMetrics.Functions.Runs;

/// <summary>
/// Keeps runs from mixing two time zones. Day summaries and the lifecycle ledger are cut by local day
/// of the zone in force when they were computed; after <c>CrmMetrics:TimeZone</c> changes, a run would
/// finalise periods from days cut both ways. So no run starts while the setting differs from the zone
/// the stored days were computed in; before any day was computed, the new zone is simply recorded.
/// The steps of runs started before the change (their day and period jobs still queued) ask too: they
/// fail, saying why, rather than cut days in the new zone beside those of the old (found by probing).
/// </summary>
public sealed class ReportingZoneGuard(ReportingZoneStamp stamp, PartialStore partials, CrmMetricsSettings settings, ILogger<ReportingZoneGuard> logger)
{
    // Once the stamp names this process's zone and a day is computed, it keeps doing so: the stamp is
    // replaced only while no day is computed. So the steps of a run read it once per process from then on.
    private volatile bool _confirmed;

    /// <summary>Why no run may start now, or null (recording the zone when this is the first run).</summary>
    public async Task<string?> ProblemAsync(CancellationToken ct)
    {
        if (_confirmed) return null;
        var zone = settings.Calendar.TimeZone.Id;
        var recorded = await stamp.EnsureAsync(zone, ct);
        if (string.Equals(recorded, zone, StringComparison.Ordinal))
        {
            // Before any day is computed, a process in another zone may still replace the stamp (found in review).
            if (await partials.AnyAsync(ct)) _confirmed = true;
            return null;
        }
        if (!await partials.AnyAsync(ct))
        {
            await stamp.ReplaceAsync(zone, ct);
            logger.LogInformation("Reporting time zone {Zone} recorded in place of {Recorded}: no day was computed in that one", zone, recorded);
            return null;
        }
        return $"CrmMetrics:TimeZone is {zone}, but the stored days were computed in {recorded}: a run now would mix both. " +
               $"Set CrmMetrics:TimeZone back to {recorded}, or start on fresh storage and ingest the facts again (see the README, Settings).";
    }
}

/// <summary>A run refused because the reporting time zone changed under stored days (<see cref="ReportingZoneGuard"/>).</summary>
public sealed class ReportingZoneChangedException(string message) : Exception(message);
