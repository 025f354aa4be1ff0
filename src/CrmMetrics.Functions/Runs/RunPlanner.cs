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
/// dirty day falls in, and every period of them marked stale, also those its own aggregations mark
/// (<see cref="PeriodsToFinaliseAsync"/>).
/// </summary>
public sealed class RunPlanner(DirtyDayStore dirtyDays, StalePeriodStore stalePeriods, RunStore runs, CrmMetricsSettings settings, TimeProvider clock,
    ReportingZoneGuard zoneGuard, ILogger<RunPlanner> logger, Storage.Snapshots.SnapshotStore snapshots)
{
    public const string ApiTrigger = "api";
    public const string ScheduleTrigger = "schedule";

    public async Task<RunPlan> PlanAsync(string runId, CancellationToken ct)
    {
        var run = await runs.GetAsync(runId, ct) ?? throw new InvalidOperationException($"Run {runId} does not exist.");
        if (await zoneGuard.ProblemAsync(ct) is { } zoneProblem) throw new ReportingZoneChangedException(zoneProblem);
        var calendar = settings.Calendar;
        var today = clock.GetUtcNow();
        var days = (await dirtyDays.ListAsync(ct)).Select(d => d.Day).Order().ToList();
        var periods = new HashSet<Period>();
        if (OnePeriodOf(run) is { } requested)
        {
            periods.Add(requested);
        }
        else
        {
            // The timer's run, or a requested one without a period ("compute now"): every period of its
            // grains that is due or that a change since the last run touched (events.md: late facts'
            // periods are recomputed by the next run).
            var grains = GrainsOf(run);
            foreach (var grain in grains)
            {
                var current = calendar.PeriodOf(grain, today);
                periods.Add(current);
                // The timer leaves out a just-closed period computed since it ended: nothing changed it unless a dirty day
                // falls in it or it is marked stale, which add it below (found by a soak: every 5-minute run rewrote the
                // closed day, week and month with the same figures, and storage grew by their rows each time).
                // A run requested without a period still computes it, as api.md's "current and just-closed" says.
                var previous = current.Previous();
                if (run.Trigger != ScheduleTrigger || !await ComputedSinceItEndedAsync(previous, ct)) periods.Add(previous);
                foreach (var day in days) periods.Add(calendar.PeriodOf(grain, day));
            }
            periods.UnionWith(await StalePeriodsAsync(run, grains, ct));
        }
        var ordered = InOrder(periods);
        // A run an earlier version of the app created (instances of both serve during a deployment) has no index row.
        await runs.IndexAsync(runId, run.Trigger, ct);
        await runs.PlanAsync(runId, days, ordered, ct);
        logger.LogInformation("Run {RunId} planned: {Days} days to aggregate, {Periods} periods to finalise", runId, days.Count, ordered.Count);
        return new RunPlan(runId, days, ordered);
    }

    /// <summary>
    /// The periods a run finalises once its days are aggregated: the pending ones it planned and, for a run
    /// without a period, the stale periods of its grains it did not plan, added to it first. Aggregating a
    /// day with a late churn or acquisition marks every later period stale (their active customers change),
    /// after the run was planned: such a run left those it had computed before with their old figures,
    /// beside earlier and later periods already right, until a second run (found by probing).
    /// </summary>
    public async Task<IReadOnlyList<RunPeriod>> PeriodsToFinaliseAsync(RunRecord run, CancellationToken ct)
    {
        var pending = run.Periods.Where(p => p.State != StepState.Done).ToList();
        // A run whose periods are all done is over: a day message delivered again after it succeeded must not
        // reopen it with periods marked since (found in review).
        // Nor does one planned under another calendar take stale periods of this one: its steps refuse every period (FinalizePeriod).
        if (OtherCalendar(run, settings.Calendar) is not null || OnePeriodOf(run) is not null || pending.Count == 0) return pending;
        var planned = run.Periods.Select(p => (p.Grain, p.Period)).ToHashSet();
        var added = InOrder((await StalePeriodsAsync(run, GrainsOf(run), ct)).Where(p => !planned.Contains((p.Grain, p.Key))));
        if (added.Count == 0) return pending;
        await runs.AddPeriodsAsync(run.RunId, added, ct);
        logger.LogInformation("Run {RunId}: its aggregations marked {Count} more periods stale; they are finalised with the others", run.RunId, added.Count);
        return [.. pending, .. added.Select(p => new RunPeriod(p.Grain, p.Key, StepState.Pending, 0, 0, null))];
    }

    /// <summary>The calendar the run's period keys were made in, when <c>CrmMetrics:Calendar</c> has changed since it was planned; else null.</summary>
    public static string? OtherCalendar(RunRecord run, PeriodCalendar now) =>
        run.PlannedCalendar is { } planned && planned != now.Calendar.Setting ? planned : null;

    /// <summary>
    /// The order a run sends its period jobs in: the newest period of every grain first, then the one before of every
    /// grain, and so on; a key that no longer parses under the calendar goes last (its step fails it, saying why).
    /// The queue hands them out about in that order, so in a catch-up of hundreds of periods the current and
    /// just-closed ones, which the scorecard shows and executives read, are ready within the first minute, not after
    /// the historic ones (found by a soak: a first scheduled run after the demo finalised some 700 day, week,
    /// quarter and year periods by grain and date, the current ones among the last). Anomaly and trend rules of a
    /// period finalised before its history are judged once that history is recomputed (<see cref="RunPeriodsInFlight"/>).
    /// </summary>
    public static IReadOnlyList<T> NewestFirst<T>(IEnumerable<T> periods, Func<T, Grain> grainOf, Func<T, Period?> periodOf)
    {
        var known = periods.Select(p => (Item: p, Grain: grainOf(p), Period: periodOf(p))).ToList();
        return known.Where(p => p.Period is not null)
            .GroupBy(p => p.Grain)
            .SelectMany(g => g.OrderByDescending(p => p.Period!.Start).Select((p, rank) => (p.Item, p.Grain, Rank: rank)))
            .OrderBy(p => p.Rank).ThenBy(p => p.Grain)
            .Select(p => p.Item)
            .Concat(known.Where(p => p.Period is null).Select(p => p.Item))
            .ToList();
    }

    /// <summary><see cref="NewestFirst{T}"/> for a run's recorded periods, their keys read under the calendar now.</summary>
    public IReadOnlyList<RunPeriod> NewestFirst(IEnumerable<RunPeriod> periods) =>
        NewestFirst(periods, p => p.Grain, p => settings.Calendar.TryParse(p.Period, p.Grain, out var period, out _) ? period : null);

    /// <summary>Periods in the order a run records them: by grain, then by start.</summary>
    private static List<Period> InOrder(IEnumerable<Period> periods) => periods.OrderBy(p => p.Grain).ThenBy(p => p.Start).ToList();

    /// <summary>The one period a run was requested for; null for the timer's, or one requested without a period.</summary>
    private Period? OnePeriodOf(RunRecord run) =>
        run.Trigger != ScheduleTrigger && run.RequestedPeriod is { } key && run.RequestedGrains is [var name] && Grains.TryParse(name, out var grain)
            ? settings.Calendar.Parse(key, grain)
            : null;

    /// <summary>The grains a run without a period finalises: every configured one for the timer or a run naming none, else those named.</summary>
    private HashSet<Grain> GrainsOf(RunRecord run) => run.Trigger == ScheduleTrigger || run.RequestedGrains is null
        ? settings.Grains.ToHashSet()
        : run.RequestedGrains.Select(name => Grains.TryParse(name, out var g) ? g : (Grain?)null).OfType<Grain>().ToHashSet();

    /// <summary>Whether the period's latest version, served under the calendar now, was computed at or after its end.</summary>
    private async Task<bool> ComputedSinceItEndedAsync(Period period, CancellationToken ct) =>
        await snapshots.LatestAsync(period.Grain, period.Key, ct) is { Version: > 0 } latest
        && latest.ComputedAt >= period.End
        && SnapshotReader.CalendarChange(latest, settings.Calendar) is null;

    /// <summary>
    /// The stale periods a run without a period takes: the timer every one, of any grain (an observation
    /// or a goal may name a grain not configured); a requested run those of its grains; none that has not begun.
    /// </summary>
    private async Task<List<Period>> StalePeriodsAsync(RunRecord run, HashSet<Grain> grains, CancellationToken ct)
    {
        var found = new List<Period>();
        var now = clock.GetUtcNow();
        foreach (var stale in await stalePeriods.ListAsync(ct))
        {
            if (!settings.Calendar.TryParse(stale.Key, out var period, out _)) logger.LogWarning("Stale period key {Key} is not a period of {Calendar}; ignored", stale.Key, settings.Calendar);
            // One that has not begun (an observation may name a later month or year) waits, marked, until it has:
            // computed now, its empty figures would stay among the scorecard's periods (as POST /api/runs refuses
            // to make them) and go stale unmarked (found by probing).
            else if (period!.Start > now) continue;
            // A key marked under another calendar may read as a period no fact can fall in (under persian 1405-08 is a month of
            // 2026; under gregorian, of 1405 AD): its step would refuse it, failing every run that took it while the mark stayed.
            else if (PeriodReach.Problem(settings.Calendar, period, stale.Key, now) is { } problem)
                logger.LogWarning("Stale period key {Key} is not a period of {Calendar} that a fact can fall in ({Problem}); ignored", stale.Key, settings.Calendar, problem);
            else if (run.Trigger == ScheduleTrigger || grains.Contains(period.Grain)) found.Add(period);
        }
        return found;
    }
}
