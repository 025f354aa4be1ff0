using System.Security.Cryptography;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Storage.Runs;

namespace CrmMetrics.Functions.Runs;

/// <summary>A planned run: the days to aggregate first and the periods to finalise after them.</summary>
public sealed record RunPlan(string RunId, IReadOnlyList<DateOnly> Days, IReadOnlyList<Period> Periods);

/// <summary>
/// Decides what a run does. Every run aggregates every dirty day (active customers at any boundary
/// depend on all earlier days). A run requested for a period then finalises that period; a scheduled
/// run, or one requested without a period, finalises the current and just-closed period of every
/// configured grain (of the requested grain only, when one is named), every period of those grains a
/// dirty day falls in, and every period of them marked stale.
/// </summary>
public sealed class RunPlanner(DirtyDayStore dirtyDays, StalePeriodStore stalePeriods, RunStore runs, CrmMetricsSettings settings, TimeProvider clock,
    ReportingZoneGuard zoneGuard, ILogger<RunPlanner> logger)
{
    public const string ApiTrigger = "api";
    public const string ScheduleTrigger = "schedule";

    public static string NewRunId(DateTimeOffset now) =>
        $"run-{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss", System.Globalization.CultureInfo.InvariantCulture)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    /// <summary>The run id of a timer occurrence: the same occurrence always gets the same run.</summary>
    public static string ScheduledRunId(DateTimeOffset occurrence) =>
        "sched-" + occurrence.UtcDateTime.ToString("yyyyMMdd'T'HHmmss", System.Globalization.CultureInfo.InvariantCulture);

    public async Task<RunPlan> PlanAsync(string runId, CancellationToken ct)
    {
        var run = await runs.GetAsync(runId, ct) ?? throw new InvalidOperationException($"Run {runId} does not exist.");
        if (await zoneGuard.ProblemAsync(ct) is { } zoneProblem) throw new ReportingZoneChangedException(zoneProblem);
        var calendar = settings.Calendar;
        var today = clock.GetUtcNow();
        var days = (await dirtyDays.ListAsync(ct)).Select(d => d.Day).Order().ToList();
        var periods = new HashSet<Period>();
        if (run.Trigger != ScheduleTrigger && run.RequestedPeriod is { } key && run.RequestedGrains is [var grainName] && Grains.TryParse(grainName, out var requestedGrain))
        {
            periods.Add(calendar.Parse(key, requestedGrain));
        }
        else
        {
            // The timer's run, or a requested one without a period ("compute now"): every period of its
            // grains that is due or that a change since the last run touched (events.md: late facts'
            // periods are recomputed by the next run).
            var grains = run.Trigger == ScheduleTrigger || run.RequestedGrains is null
                ? settings.Grains.ToHashSet()
                : run.RequestedGrains.Select(name => Grains.TryParse(name, out var g) ? g : (Grain?)null).OfType<Grain>().ToHashSet();
            foreach (var grain in grains)
            {
                var current = calendar.PeriodOf(grain, today);
                periods.Add(current);
                periods.Add(current.Previous());
                foreach (var day in days) periods.Add(calendar.PeriodOf(grain, day));
            }
            // The timer takes every stale period, of any grain (an observation or a goal may name a grain
            // not configured); a requested run those of its grains.
            foreach (var stale in await stalePeriods.ListAsync(ct))
            {
                if (!calendar.TryParse(stale.Key, out var period, out _)) logger.LogWarning("Stale period key {Key} is not a period of {Calendar}; ignored", stale.Key, calendar);
                else if (run.Trigger == ScheduleTrigger || grains.Contains(period!.Grain)) periods.Add(period!);
            }
        }
        var ordered = periods.OrderBy(p => p.Grain).ThenBy(p => p.Start).ToList();
        await runs.PlanAsync(runId, days, ordered, ct);
        logger.LogInformation("Run {RunId} planned: {Days} days to aggregate, {Periods} periods to finalise", runId, days.Count, ordered.Count);
        return new RunPlan(runId, days, ordered);
    }
}
