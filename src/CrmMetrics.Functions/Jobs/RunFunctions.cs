using Cronos;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Alerts;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Alerts;
using CrmMetrics.Storage.Runs;
using Microsoft.Azure.Functions.Worker;
using CrmMetrics.Domain.Periods;

namespace CrmMetrics.Functions.Jobs;

/// <summary>What a run step sends on: day jobs to <c>kpi-days</c>, period jobs to <c>kpi-periods</c> (queue output bindings).</summary>
public sealed class RunJobs
{
    [QueueOutput(StorageNames.Queues.KpiDays)]
    public string[]? Days { get; init; }

    [QueueOutput(StorageNames.Queues.KpiPeriods)]
    public string[]? Periods { get; init; }

    public static readonly RunJobs None = new();

    /// <summary>What is left of a planned run: the days and periods not done, to be sent again (every step is idempotent).</summary>
    public static RunPlan Unfinished(RunRecord run, PeriodCalendar calendar) => new(
        run.RunId,
        run.Days.Where(d => d.State != StepState.Done).Select(d => d.Day).ToList(),
        run.Periods.Where(p => p.State != StepState.Done)
            .Select(p => calendar.TryParse(p.Period, p.Grain, out var period, out _) ? period : null).OfType<Period>().ToList());

    /// <summary>The first step of a plan: its days, or, with none to aggregate, its periods.</summary>
    public static RunJobs FirstStep(RunPlan plan) => plan.Days.Count > 0
        ? new RunJobs { Days = plan.Days.Select(d => JobMessages.Write(new DayJob(plan.RunId, d))).ToArray() }
        : new RunJobs { Periods = RunPlanner.NewestFirst(plan.Periods, p => p.Grain, p => p).Select(p => JobMessages.Write(new PeriodJob(plan.RunId, p.Grain, p.Key))).ToArray() };
}

/// <summary>Reads a job message; one that cannot be read is logged and dropped, since retrying cannot fix it.</summary>
public static class JobMessage
{
    public static bool TryRead<T>(string message, Func<string?, T> read, ILogger logger, string function, out T job)
    {
        try
        {
            job = read(message);
            return true;
        }
        catch (ValidationException e)
        {
            logger.LogError("{Function} dropped a malformed message: {Errors}", function, e.Errors);
            job = default!;
            return false;
        }
    }
}

/// <summary>
/// <c>KpiSchedule</c> (timer, <c>%KpiSchedule%</c>): asks for the occurrence's run with one message to
/// <c>kpi-runs</c>, and <c>StartRun</c> creates, plans and fans it out. The run id comes from the
/// occurrence, so a timer that fires twice for one occurrence starts one run. Nothing is written
/// before that message: a timer invocation is not retried, so one whose output failed (storage away)
/// leaves no run behind that would never end; the next occurrence picks up the same dirty days.
/// </summary>
public sealed class KpiScheduleFunction(IConfiguration configuration, CrmMetricsSettings settings, TimeProvider clock, ILogger<KpiScheduleFunction> logger)
{
    [Function("KpiSchedule")]
    [QueueOutput(StorageNames.Queues.KpiRuns)]
    public string Run([TimerTrigger("%KpiSchedule%")] TimerInfo timer)
    {
        var runId = RunIds.Scheduled(Occurrence(timer));
        logger.LogInformation("KpiSchedule asks for run {RunId}{PastDue}", runId, timer.IsPastDue ? " (past due)" : "");
        return JobMessages.Write(new StartRunJob(runId, RunPlanner.ScheduleTrigger));
    }

    /// <summary>How early a host may invoke an occurrence (clock skew): an occurrence this far ahead of now is taken as the one being run.</summary>
    private static readonly TimeSpan EarlyInvocation = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan[] LookBackWindows =
        [TimeSpan.FromMinutes(1), TimeSpan.FromHours(1), TimeSpan.FromDays(1), TimeSpan.FromDays(32), TimeSpan.FromDays(400), TimeSpan.FromDays(1500)];

    /// <summary>
    /// The schedule occurrence this invocation stands for, in the zone the host fires it in. The host
    /// hands it over as the schedule status's <c>Next</c> (the status as it stood before the
    /// invocation): the occurrence being run, or the one that was missed when past due. Taken from the
    /// clock alone, a missed 20:27 run at 20:29:05 was named after 20:29, and two hosts running it either
    /// side of 20:29 would have started two runs (found by the scale-out probe). Without such a status
    /// (no schedule monitor, a start-up run, an admin call) it is the latest occurrence not after now.
    /// </summary>
    private DateTimeOffset Occurrence(TimerInfo timer)
    {
        var now = clock.GetUtcNow();
        if (configuration["KpiSchedule"] is not { Length: > 0 } text) return now;
        CronExpression? schedule = null;
        try
        {
            schedule = CronExpression.Parse(text, CronFormat.IncludeSeconds);
        }
        catch (CronFormatException)
        {
            // A time span (hh:mm:ss), which the host also takes: its occurrences follow the last run, not the calendar.
        }
        if (StatusOccurrence(schedule, timer.ScheduleStatus?.Next, now) is { } handedOver) return handedOver;
        if (schedule is null) return now;
        // A host may invoke slightly early: look EarlyInvocation ahead, then back in widening windows.
        // Windows up to 1500 days cover every schedule NCRONTAB can express (29 February comes every four years).
        foreach (var window in LookBackWindows)
        {
            if (schedule.GetOccurrences(now - window, now + EarlyInvocation, settings.ScheduleZone, fromInclusive: true, toInclusive: true).LastOrDefault() is { } found && found != default)
                return found;
        }
        return now;
    }

    /// <summary>
    /// The status's <c>Next</c> as an occurrence, when it is one of the schedule and not after now (give or
    /// take <see cref="EarlyInvocation"/>): a time without a zone is read in the zone the host fires in, unless it
    /// names no single instant there (a daylight-saving overlap or gap). Anything else (no status, the
    /// unset <c>0001-01-01</c>, an occurrence to come, a time the schedule does not name) is none. A time-span
    /// schedule (<paramref name="schedule"/> null) names no calendar times, so any such time not after now is
    /// its occurrence (found by an operator's probe: a past-due run of <c>00:00:25</c> was named after the clock,
    /// so two hosts running it would have started two runs).
    /// </summary>
    private DateTimeOffset? StatusOccurrence(CronExpression? schedule, DateTime? next, DateTimeOffset now)
    {
        if (next is not { } value || value == default) return null;
        if (value.Kind == DateTimeKind.Unspecified && (settings.ScheduleZone.IsAmbiguousTime(value) || settings.ScheduleZone.IsInvalidTime(value))) return null;
        DateTimeOffset candidate;
        try
        {
            candidate = value.Kind switch
            {
                DateTimeKind.Utc => new DateTimeOffset(value),
                DateTimeKind.Local => new DateTimeOffset(value.ToUniversalTime()),
                _ => new DateTimeOffset(value, settings.ScheduleZone.GetUtcOffset(value)),
            };
        }
        catch (ArgumentOutOfRangeException)
        {
            return null; // a time at the very edge of the calendar, whose UTC cannot be represented
        }
        if (candidate > now + EarlyInvocation) return null;
        return schedule is null || schedule.GetNextOccurrence(candidate, settings.ScheduleZone, inclusive: true) == candidate ? candidate : null;
    }
}

/// <summary>
/// <c>StartRun</c> (queue <c>kpi-runs</c>): plans a run and fans it out; a scheduled run is created here
/// first. The message is retried until the fan-out is written, so a run that exists always gets its jobs.
/// </summary>
public sealed class StartRunFunction(RunStore runs, RunPlanner planner, CrmMetricsSettings settings, HostJsonSettings host, TimeProvider clock, ILogger<StartRunFunction> logger,
    ILoggerFactory loggers)
{
    private readonly ILogger lifecycle = loggers.CreateLogger(RunLog.Category);

    /// <summary>
    /// How long an unfinished scheduled run holds the later occurrences back. Each would plan again
    /// every period the first has still pending, so occurrences firing through a long catch-up
    /// multiplied the work until storage gave way (found by probing: 24 runs and 15,399 period
    /// messages after 25 minutes of a 30-second schedule). Past this, a run is taken for stuck and
    /// the next occurrence starts beside it.
    /// </summary>
    public static readonly TimeSpan MaxHoldBack = TimeSpan.FromHours(3);

    [Function("StartRun")]
    public async Task<RunJobs> RunAsync([QueueTrigger(StorageNames.Queues.KpiRuns)] string message, int dequeueCount, CancellationToken ct)
    {
        if (!JobMessage.TryRead(message, JobMessages.ReadStartRun, logger, "StartRun", out var job)) return RunJobs.None;
        if (job.Trigger == RunPlanner.ScheduleTrigger)
        {
            // A retry of an occurrence whose run exists goes on with it (held back, it would stay queued for
            // good), recording it as the latest if a crash kept it from being recorded and no run created after
            // it has been recorded since (found in review).
            if (dequeueCount > 1 && await runs.ExistsAsync(job.RunId, ct))
            {
                await runs.RecordScheduledIfLaterAsync(job.RunId, ct);
            }
            else if (await UnfinishedScheduledRunAsync(job.RunId, ct) is { } earlier)
            {
                lifecycle.LogInformation("Occurrence {RunId} skipped: scheduled run {Earlier} is still {State} ({Pending} of {Periods} periods pending); the next occurrence after it takes up what changed",
                    job.RunId, earlier.RunId, earlier.State, earlier.Periods.Count(p => p.State != StepState.Done), earlier.Periods.Count);
                return RunJobs.None;
            }
            if (await runs.CreateAsync(job.RunId, RunPlanner.ScheduleTrigger, null, null, ct)) await runs.RecordScheduledAsync(job.RunId, ct);
            else if (dequeueCount <= 1)
            {
                // A second firing of the occurrence: the first message plans the run, and is retried until it has.
                logger.LogInformation("Run {RunId} already started for this occurrence", job.RunId);
                return RunJobs.None;
            }
        }
        var run = await runs.GetAsync(job.RunId, ct);
        if (run is null)
        {
            logger.LogWarning("Run {RunId} does not exist; nothing to start", job.RunId);
            return RunJobs.None;
        }
        if (run.Planned)
        {
            // Planned before, but this message came back: the jobs may never have been sent. Send what
            // is still pending again; every step is idempotent.
            var again = RunJobs.Unfinished(run, settings.Calendar);
            logger.LogInformation("Run {RunId} was planned before; {Days} days and {Periods} periods still pending are sent again", run.RunId, again.Days.Count, again.Periods.Count);
            return RunJobs.FirstStep(again);
        }
        // Requests that come from now on start a run of their own: this one's plan may miss what they ask for.
        // One that joined a run queued before it starts nothing.
        if (run.Trigger == RunPlanner.ApiTrigger && await runs.BeginPlanningAsync(run.RunId, RunStore.RequestKey(run.RequestedGrains, run.RequestedPeriod), ct) is { Plans: false } begun)
        {
            logger.LogInformation("Run {RunId} joined run {Joined}, queued before it for the same grains and period; nothing to start", run.RunId, begun.JoinedTo);
            return RunJobs.None;
        }
        try
        {
            var plan = await planner.PlanAsync(job.RunId, ct);
            if (run.Trigger == RunPlanner.ScheduleTrigger) lifecycle.LogInformation("Scheduled run {RunId} started: {Days} days, {Periods} periods", plan.RunId, plan.Days.Count, plan.Periods.Count);
            else lifecycle.LogInformation("Run {RunId} planned: {Days} days, {Periods} periods", plan.RunId, plan.Days.Count, plan.Periods.Count);
            return RunJobs.FirstStep(plan);
        }
        catch (ReportingZoneChangedException e)
        {
            // Not a passing fault: retrying would not help. The run fails at once, saying why.
            logger.LogError("Run {RunId} refused: {Reason}", job.RunId, e.Message);
            await runs.AddErrorAsync(job.RunId, e.Message, CancellationToken.None);
            return RunJobs.None;
        }
        catch (Exception e) when (e is not OperationCanceledException && host.IsLastAttempt(dequeueCount))
        {
            await runs.AddErrorAsync(job.RunId, $"planning failed: {e.GetType().Name}: {e.Message}", CancellationToken.None);
            throw;
        }
    }

    /// <summary>The latest scheduled run before <paramref name="runId"/> while it is queued or running and younger than <see cref="MaxHoldBack"/>; else null.</summary>
    private async Task<RunRecord?> UnfinishedScheduledRunAsync(string runId, CancellationToken ct)
    {
        if (await runs.LatestScheduledAsync(ct) is not { } latest || latest == runId || await runs.GetAsync(latest, ct) is not { } run) return null;
        if (run.State is not ("queued" or "running")) return null;
        if (clock.GetUtcNow() - run.CreatedAt <= MaxHoldBack) return run;
        logger.LogWarning("Scheduled run {RunId} is still {State} after {Hours} hours; occurrence {Next} starts beside it", run.RunId, run.State, MaxHoldBack.TotalHours, runId);
        return null;
    }
}

/// <summary>
/// <c>AggregateDay</c> (queue <c>kpi-days</c>): the map step for one day. The last day of a run to
/// finish sends the run's period jobs. On the final attempt a failure is recorded on the run.
/// </summary>
/// <remarks>
/// Days run 16 at a time, so several last days may see every day done at once; each sent every period
/// (found by probing: one period finalised up to 13 times in one run, its alerts evaluated as often).
/// Now the day that claims the sending on the run's record (<see cref="RunStore.ClaimPeriodsAsync"/>,
/// a write conditional on the record's ETag, so one day wins) sends them, and the others nothing. The
/// host writes the period messages after the function returns, so the claim can land and the messages
/// never be written (the worker died, the write failed). The claim therefore names the day, not the
/// delivery: that day's message, not deleted, comes back and sends them again, on a retry or, after
/// its last attempt, from the poison queue (<see cref="PoisonedJobFunctions.AggregateDayAsync"/>). At
/// worst a period is sent twice (a crash after the host wrote them), and finalising is idempotent.
/// </remarks>
public sealed class AggregateDayFunction(DayAggregation aggregation, RunStore runs, RunPlanner planner, ReportingZoneGuard zoneGuard, HostJsonSettings host, ILogger<AggregateDayFunction> logger)
{
    [Function("AggregateDay")]
    [QueueOutput(StorageNames.Queues.KpiPeriods)]
    public async Task<string[]?> RunAsync([QueueTrigger(StorageNames.Queues.KpiDays)] string message, int dequeueCount, CancellationToken ct)
    {
        if (!JobMessage.TryRead(message, JobMessages.ReadDay, logger, "AggregateDay", out var job)) return null;
        if (await zoneGuard.ProblemAsync(ct) is { } zoneProblem)
        {
            // Not a passing fault: the day fails at once, saying why, rather than being cut in another zone.
            logger.LogError("Day {Day} of run {RunId} refused: {Reason}", IsoDay.Text(job.Day), job.RunId, zoneProblem);
            if (await runs.FailDayUnlessDoneAsync(job.RunId, job.Day, zoneProblem, CancellationToken.None) == StepState.Done)
            {
                await FailPeriodsOfRefusedDayAsync(job, zoneProblem, ct);
            }
            return null;
        }
        bool planned;
        try
        {
            // The day's partial belongs to no run: aggregating it for a message that names no planned
            // day is wasted work, not a wrong result, so the run is checked by the write that records it.
            var partial = await aggregation.AggregateAsync(job.Day, ct);
            planned = await runs.CompleteDayAsync(job.RunId, job.Day, partial.FactCount, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException && host.IsLastAttempt(dequeueCount))
        {
            await runs.FailDayAsync(job.RunId, job.Day, $"{e.GetType().Name}: {e.Message}", CancellationToken.None);
            throw;
        }
        if (!planned)
        {
            logger.LogWarning("Run {RunId} does not exist or did not plan day {Day}; the day was aggregated but is not recorded on it",
                job.RunId, IsoDay.Text(job.Day));
            return null;
        }

        try
        {
            return await PeriodsAfterDayAsync(runs, planner, logger, job, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException && host.IsLastAttempt(dequeueCount))
        {
            // The run says why it could not go on, rather than staying running with periods never sent (found in
            // review); its poisoned message tries once more, and if it sends them the run reads running again (see PeriodsAfterDayAsync).
            // Not when another day holds the claim: that day sends them, and the run must not read failed meanwhile (found in review).
            if (await OtherSenderAsync(runs, job, logger) is { } other)
            {
                logger.LogWarning("Day {Day} of run {RunId} failed while checking whether it sends the periods; day {Other} sends them", IsoDay.Text(job.Day), job.RunId, IsoDay.Text(other));
                throw;
            }
            await runs.RecordPeriodsNotSentAsync(job.RunId, $"sending the periods to finalise after day {IsoDay.Text(job.Day)} failed: {e.GetType().Name}: {e.Message}", CancellationToken.None);
            throw;
        }
    }

    /// <summary>The day other than the job's that holds the claim to send the run's periods; null when none does, this one does, or storage cannot say.</summary>
    private static async Task<DateOnly?> OtherSenderAsync(RunStore runs, DayJob job, ILogger logger)
    {
        try
        {
            return await runs.PeriodsSenderAsync(job.RunId, CancellationToken.None) is { } holder && holder != job.Day ? holder : null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Run {RunId}: which day sends its periods could not be read: {Error}", job.RunId, e.Message.Split('\n')[0]);
            return null;
        }
    }

    /// <summary>
    /// A day recorded done whose message came back (its delivery died before it claimed the run's periods, or
    /// before the host wrote them) and was refused for a changed zone. When it is the day to send the periods,
    /// no other day will: the run read <c>running</c> for ever (found in review). It claims them as it would have
    /// (so no other day sends them later: a run's periods go out once at most), and the periods still pending
    /// fail instead, naming the day and the zone change. They stay marked stale: the first scheduled run once the
    /// setting is set back finalises them. (Sent, they would only be refused one by one in the new zone.)
    /// </summary>
    private async Task FailPeriodsOfRefusedDayAsync(DayJob job, string zoneProblem, CancellationToken ct)
    {
        if (await ClaimedRunAsync(runs, job, ct) is not { } run) return;
        var pending = run.Periods.Where(p => p.State == StepState.Pending).ToList();
        if (pending.Count == 0) return;
        var day = IsoDay.Text(job.Day);
        var reason = $"not finalised: day {day}, whose message sends the run's periods, came back after it was aggregated and was refused: {zoneProblem}";
        foreach (var period in pending) await runs.FailPendingPeriodAsync(job.RunId, period.Grain, period.Period, reason, CancellationToken.None);
        logger.LogError("Run {RunId} failed: its {Count} pending periods ({Periods}) are not finalised, since day {Day}, whose message sends them, was refused for the changed reporting zone",
            job.RunId, pending.Count, string.Join(", ", pending.Select(p => $"{Grains.Key(p.Grain)} {p.Period}")), day);
    }

    /// <summary>The planned run, when every day of it is done and the job's day holds (or now takes) the claim to send its periods; else null.</summary>
    private static async Task<RunRecord?> ClaimedRunAsync(RunStore runs, DayJob job, CancellationToken ct) =>
        await runs.AllDaysDoneAsync(job.RunId, ct) && await runs.ClaimPeriodsAsync(job.RunId, job.Day, ct)
            && await runs.GetAsync(job.RunId, ct) is { Planned: true } run ? run : null;

    /// <summary>
    /// The run's period jobs when every day of it is done and the job's day holds the claim to send them
    /// (see the remarks above); else null. Also what a done day's message in the poison queue sends.
    /// </summary>
    internal static async Task<string[]?> PeriodsAfterDayAsync(RunStore runs, RunPlanner planner, ILogger logger, DayJob job, CancellationToken ct)
    {
        if (await ClaimedRunAsync(runs, job, ct) is not { } run) return null;
        var pending = await planner.PeriodsToFinaliseAsync(run, ct);
        // This day's last attempt failed to send them and said so, failing the run: they go out now, so it is running
        // again, and its errors say how that failure was got over (it ended failed even when its periods then completed).
        if (run.PeriodsNotSent is not null) await runs.RecoverPeriodsNotSentAsync(run.RunId, $"day {IsoDay.Text(job.Day)}'s message sent them afterwards", ct);
        logger.LogInformation("Run {RunId}: all days aggregated; {Count} periods to finalise", run.RunId, pending.Count);
        return planner.NewestFirst(pending).Select(p => JobMessages.Write(new PeriodJob(run.RunId, p.Grain, p.Period))).ToArray();
    }
}

/// <summary>
/// <c>FinalizePeriod</c> (queue <c>kpi-periods</c>): the reduce step for one period of a run. Its
/// alerts are sent before it returns; the period's done message (queue output to <c>kpi-done</c>)
/// is written by the host after that, so a period counts done only once its alerts are out.
/// </summary>
public sealed class FinalizePeriodFunction(PeriodFinalizer finalizer, RunStore runs, RunPeriodsInFlight inFlight, AlertService alerts, IAlertSender sender,
    StalePeriodStore stalePeriods, ReportingZoneGuard zoneGuard, CrmMetricsSettings settings, HostJsonSettings host, ILogger<FinalizePeriodFunction> logger)
{
    [Function("FinalizePeriod")]
    [QueueOutput(StorageNames.Queues.KpiDone)]
    public async Task<string?> RunAsync([QueueTrigger(StorageNames.Queues.KpiPeriods)] string message, int dequeueCount, string id, CancellationToken ct)
    {
        if (!JobMessage.TryRead(message, JobMessages.ReadPeriod, logger, "FinalizePeriod", out var job)) return null;
        var run = await runs.GetAsync(job.RunId, ct);
        if (run is null)
        {
            logger.LogWarning("Run {RunId} does not exist; {Period} is not finalised for it", job.RunId, job.Period);
            return null;
        }
        // A run finalises the periods it planned: a stray message (resent by hand, or naming another
        // period) would otherwise add one to its record.
        if (!run.Periods.Any(p => p.Grain == job.Grain && p.Period == job.Period))
        {
            logger.LogWarning("Run {RunId} did not plan {Period} ({Grain}); it is not finalised for it", job.RunId, job.Period, Domain.Periods.Grains.Key(job.Grain));
            return null;
        }
        // The queue message names this delivery: a retry of it resends what it raised, nothing else.
        var delivery = string.IsNullOrEmpty(id) ? $"{job.RunId}|{job.Grain}|{job.Period}" : id;
        if (run.Periods.FirstOrDefault(p => p.Grain == job.Grain && p.Period == job.Period) is { State: StepState.Done })
        {
            // Another delivery of this period completed it while this one was down; what this one
            // had claimed (and the other therefore left alone) still has to go out.
            var claimed = await alerts.ClaimedByAsync(delivery, ct);
            await sender.SendAsync(claimed, delivery, ct);
            // No done message follows to confirm them: confirmed here, or a later run of the period would take them over and send them again.
            await alerts.MarkDeliveredAsync(delivery, ct);
            logger.LogInformation("{Period} already finalised by run {RunId}; {Count} alerts this delivery had claimed sent again", job.Period, job.RunId, claimed.Count);
            return null;
        }
        if (CalendarChange(run, job.Grain, job.Period) is { } calendarProblem)
        {
            // Checked after the branch above too, and before the key is read: under the calendar now it names another period, or none.
            logger.LogError("Period {Period} ({Grain}) of run {RunId} refused: {Reason}", job.Period, Domain.Periods.Grains.Key(job.Grain), job.RunId, calendarProblem);
            await runs.FailPeriodAsync(job.RunId, job.Grain, job.Period, calendarProblem, CancellationToken.None);
            return null;
        }
        // A run plans only periods the API accepts: one centuries ahead would stay among the scorecard's periods for good.
        if (!Api.QueryParameters.TryPeriod(settings.Calendar, job.Period, job.Grain, out var period, out var error))
        {
            await runs.FailPeriodAsync(job.RunId, job.Grain, job.Period, $"period: {error}", ct);
            logger.LogError("Period {Period} ({Grain}) of run {RunId} cannot be finalised: {Error}", job.Period, Domain.Periods.Grains.Key(job.Grain), job.RunId, error);
            return null;
        }
        if (await zoneGuard.ProblemAsync(ct) is { } zoneProblem)
        {
            // Checked after the branch above, so a delivery of a period finished meanwhile still sends what it claimed.
            // Its days were cut in another zone than the one its period would be read in now.
            logger.LogError("Period {Period} ({Grain}) of run {RunId} refused: {Reason}", job.Period, Domain.Periods.Grains.Key(job.Grain), job.RunId, zoneProblem);
            await runs.FailPeriodAsync(job.RunId, job.Grain, job.Period, zoneProblem, CancellationToken.None);
            return null;
        }
        try
        {
            // A retry after a crash recomputes the same version (the run reserved it) and resends its alerts.
            var result = await finalizer.FinalizeAsync(job.RunId, period!, ct);
            // Alerts speak of the period's current figures only, and anomaly and trend rules of figures the run is not still recomputing.
            var recomputing = result.IsLatest ? await RecomputingAsync(run, period!, ct) : null;
            var messages = result.IsLatest
                ? [.. await alerts.RaiseAsync(period!, result.Rows, delivery, ct, recomputing), .. await alerts.RaiseForLaterPeriodsAsync(period!, delivery, ct, recomputing)]
                : await alerts.ClaimedByAsync(delivery, ct);
            await sender.SendAsync(messages, delivery, ct);
            logger.LogInformation("Finalised {Period} as version {Version} ({Rows} rows), {Alerts} alerts", job.Period, result.Version, result.Rows.Count, messages.Count);
            // The run counts the period done once this message is read, that is after the alerts were sent.
            return JobMessages.Write(new PeriodDoneJob(job.RunId, job.Grain, job.Period, result.Version, result.Rows.Count, delivery));
        }
        catch (Exception e) when (e is not OperationCanceledException && host.IsLastAttempt(dequeueCount))
        {
            // Stale again, so the next run does it again: a failure after its version was promoted (sending its
            // alerts) had cleared the mark, and no run would have judged its alerts, or the anomaly and trend rules
            // of the later periods waiting for it (found in review).
            await stalePeriods.MarkAsync([job.Period], CancellationToken.None);
            await runs.FailPeriodAsync(job.RunId, job.Grain, job.Period, $"{e.GetType().Name}: {e.Message}", CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// Why a run planned before <c>CrmMetrics:Calendar</c> changed may not finalise its period, or null: the key was made in
    /// the other calendar and now reads as another period (a fiscal year or quarter) or as none. Finalised, it computed that
    /// other period without a word (found in review). A key that names the same days under both (a day, a week, a month
    /// between gregorian and fiscal calendars) goes on, as do runs planned under the calendar now.
    /// </summary>
    private string? CalendarChange(RunRecord run, Grain grain, string periodKey)
    {
        if (RunPlanner.OtherCalendar(run, settings.Calendar) is not { } planned || !settings.Calendar.NamesOtherDays(planned, periodKey, grain)) return null;
        return $"CrmMetrics:Calendar is {settings.Calendar.Calendar.Setting}, but the run was planned under {planned}: {periodKey} is a period of {planned}. " +
               $"Not finalised; a run started now plans its periods under {settings.Calendar.Calendar.Setting}.";
    }

    /// <summary>The run's other periods of the grain it has not recomputed yet, as far as anomaly and trend rules read; none are looked for when it has no other.</summary>
    private async Task<IReadOnlySet<string>?> RecomputingAsync(RunRecord run, Period period, CancellationToken ct) =>
        run.Periods.Count(p => p.Grain == period.Grain) > 1 && await alerts.HistoryDepthAsync(period.Grain, ct) is > 0 and var depth
            ? await inFlight.AroundAsync(run.RunId, period, depth, ct)
            : null;
}

/// <summary><c>CompletePeriod</c> (queue <c>kpi-done</c>): records a finalised period on its run, once its alerts are out.</summary>
public sealed class CompletePeriodFunction(RunStore runs, AlertLedger ledger, ILogger<CompletePeriodFunction> logger, ILoggerFactory loggers)
{
    [Function("CompletePeriod")]
    public async Task RunAsync([QueueTrigger(StorageNames.Queues.KpiDone)] string message, CancellationToken ct)
    {
        if (!JobMessage.TryRead(message, JobMessages.ReadPeriodDone, logger, "CompletePeriod", out var job)) return;
        await RecordAsync(runs, ledger, logger, loggers.CreateLogger(RunLog.Category), job, ct);
    }

    /// <summary>Records the period done on its run (idempotent); also what a <c>kpi-done</c> message that went to the poison queue gets.</summary>
    internal static async Task RecordAsync(RunStore runs, AlertLedger ledger, ILogger logger, ILogger lifecycle, PeriodDoneJob job, CancellationToken ct)
    {
        // Only the message of the period's own finalisation is recorded: a stray one (resent by hand, or
        // of another run) would otherwise add a period to the run's record or change its version.
        var reserved = await runs.ReservedVersionAsync(job.RunId, job.Grain, job.Period, ct);
        if (reserved != job.Version)
        {
            logger.LogWarning(reserved is null ? "Run {RunId} does not exist or did not plan {Period} ({Grain}); version {Version} is not recorded on it"
                : "Run {RunId} finalises {Period} ({Grain}) as another version than {Version}; the message is not recorded on it",
                job.RunId, job.Period, Domain.Periods.Grains.Key(job.Grain), job.Version);
            return;
        }
        // Written after the alerts, so they are out: a later retry of that delivery must not resend them.
        if (job.Invocation is not null) await ledger.MarkDeliveredAsync(job.Invocation, ct);
        if (!await runs.CompletePeriodAsync(job.RunId, job.Grain, job.Period, job.Version, job.Rows, ct))
        {
            logger.LogWarning("Run {RunId} was removed before {Period} was recorded on it", job.RunId, job.Period);
            return;
        }
        logger.LogInformation("Run {RunId}: {Period} done (version {Version})", job.RunId, job.Period, job.Version);
        // The last period of a run says how the run ended, so the log tells an operator without asking
        // GET /api/runs/{id} (found by probing). Two last periods at once may both say it.
        if (!await runs.AnyPeriodPendingAsync(job.RunId, ct) && await runs.GetAsync(job.RunId, ct) is { State: "succeeded" or "failed" } run)
        {
            lifecycle.LogInformation("Run {RunId} {State}: {Days} days, {Periods} periods, {Rows} snapshot rows, {Errors} errors, in {Seconds:0} s",
                run.RunId, run.State, run.Days.Count, run.Periods.Count, run.Snapshots,
                run.Errors.Count + run.Days.Count(d => d.State == StepState.Failed) + run.Periods.Count(p => p.State == StepState.Failed),
                (DateTimeOffset.UtcNow - run.CreatedAt).TotalSeconds);
        }
    }
}

/// <summary>
/// The category of a run's lifecycle lines, one each: planned or started, an occurrence skipped, ended with its figures.
/// The main command shows them beside its warnings (found by a soak: a 694-period catch-up and skipped timer firings left
/// its log silent, and an operator could not tell a catch-up from an outage).
/// </summary>
public static class RunLog
{
    public const string Category = "CrmMetrics.Runs";
}
