using CrmMetrics.Domain.Periods;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Snapshots;

namespace CrmMetrics.Functions.Runs;

/// <summary>
/// The periods a run is still recomputing around one it has just finalised, so that its anomaly and trend
/// rules are not judged against figures about to change (found by probing: a run that recomputed a month
/// and the month before it could judge the later one against the earlier one's old figure, send the alert,
/// and resolve it seconds later once the earlier month was done).
/// </summary>
/// <remarks>
/// A period of the run counts as recomputed once its version (reserved by the run) or a newer one is the
/// latest, or once the run recorded it done or failed. Each finalisation promotes its version before it asks,
/// so of periods finalised at the same time the last to promote finds the others recomputed and judges the
/// rules: its own and, through <see cref="Alerts.AlertService.RaiseForLaterPeriodsAsync"/>, those of the later
/// periods whose history it is part of.
/// </remarks>
public sealed class RunPeriodsInFlight(RunStore runs, SnapshotStore snapshots)
{
    /// <summary>
    /// The keys of the run's periods within <paramref name="depth"/> periods of <paramref name="period"/>,
    /// either side, that it has not recomputed yet: two range reads.
    /// </summary>
    public async Task<IReadOnlySet<string>> AroundAsync(string runId, Period period, int depth, CancellationToken ct)
    {
        var (first, last) = (period, period);
        for (var i = 0; i < depth; i++) (first, last) = (first.Previous(), last.Next());
        var plannedRead = Concurrently.Started(() => runs.PeriodsBetweenAsync(runId, period.Grain, first.Key, last.Key, ct));
        var latestRead = Concurrently.Started(async () =>
        {
            var latest = new Dictionary<string, int>(StringComparer.Ordinal);
            await foreach (var l in snapshots.LatestOfGrainAsync(period.Grain, first.Key, last.Key, ct)) latest[l.Period] = l.Version;
            return latest;
        });
        await Task.WhenAll(plannedRead, latestRead);
        var (planned, latest) = (await plannedRead, await latestRead);
        return planned
            .Where(p => p.State == StepState.Pending && !(p.Version > 0 && latest.GetValueOrDefault(p.Period) >= p.Version))
            .Select(p => p.Period)
            .ToHashSet(StringComparer.Ordinal);
    }
}
