using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Alerts;
using CrmMetrics.Storage.Runs;
using Microsoft.Azure.Functions.Worker;
using CrmMetrics.Domain.Periods;

namespace CrmMetrics.Functions.Jobs;

/// <summary>
/// The run steps' poison queues. A step's last attempt records its failure on the run, but some
/// failures leave it no chance to: the worker stopped while running it, the function could not even
/// be built, or storage failed the failure's own write. The host then moves the message to
/// <c>&lt;queue&gt;-poison</c> with nothing recorded, and the run would show <c>running</c> for ever.
/// These functions read those messages and record on the run what became of the step, so a run
/// always ends. A step that did finish meanwhile (another delivery of it) is left as it is.
/// A day or period recorded failed stays dirty or stale, so the next run does it again.
/// </summary>
public sealed class PoisonedJobFunctions(RunStore runs, RunPlanner planner, AlertLedger ledger, StalePeriodStore stalePeriods, HostJsonSettings host, CrmMetricsSettings settings, ILogger<PoisonedJobFunctions> logger,
    ILoggerFactory loggers)
{
    [Function("StartRunPoisoned")]
    public async Task<RunJobs> StartRunAsync([QueueTrigger(StorageNames.Queues.KpiRunsPoison)] string message, int dequeueCount, CancellationToken ct)
    {
        if (!JobMessage.TryRead(message, JobMessages.ReadStartRun, logger, "StartRunPoisoned", out var job)) return RunJobs.None;
        var run = await runs.GetAsync(job.RunId, ct);
        if (run is null)
        {
            // A scheduled run is created by its first step: one that never got that far still gets a record saying why.
            if (job.Trigger != RunPlanner.ScheduleTrigger)
            {
                logger.LogWarning("Run {RunId} does not exist; its start message went to {Queue} and is dropped", job.RunId, StorageNames.Queues.KpiRunsPoison);
                return RunJobs.None;
            }
            await runs.CreateAsync(job.RunId, RunPlanner.ScheduleTrigger, null, null, ct);
        }
        else if (run.JoinedTo is { } joined)
        {
            // It never starts: the run it joined does its work, and GET /api/runs/{id} answers with that run's progress.
            logger.LogWarning("Run {RunId} joined run {Joined}; its start message in {Queue} changes nothing on it", job.RunId, joined, StorageNames.Queues.KpiRunsPoison);
            return RunJobs.None;
        }
        else if (run.Planned)
        {
            return await SendOrFailUnsentJobsAsync(run, dequeueCount, ct);
        }
        else if (run.State != "queued")
        {
            // Failed before planning (refused, or its planning's last attempt recorded why): that error stands.
            logger.LogWarning("Run {RunId} is {State}; its start message in {Queue} changes nothing on it", job.RunId, run.State, StorageNames.Queues.KpiRunsPoison);
            return RunJobs.None;
        }
        await runs.AddErrorAsync(job.RunId, Reason("planning", StorageNames.Queues.KpiRunsPoison), ct);
        logger.LogError("Run {RunId} failed: its start message went to {Queue} after {Attempts} attempts", job.RunId, StorageNames.Queues.KpiRunsPoison, host.MaxDequeueCount);
        return RunJobs.None;
    }

    /// <summary>
    /// A planned run's start message sends its first steps (<see cref="RunJobs.FirstStep"/>): its days, or its periods
    /// when it planned no day. It went to the poison queue, so the host may never have written them, and a run whose
    /// first steps are still pending read <c>running</c> for ever (found in review). This message sends what is still
    /// unfinished again, as a retry of the start message does (every step is idempotent), so the run goes on; a run
    /// whose steps had been sent after all does them twice and never reads <c>failed</c> (it did, until they ended,
    /// when this message failed it at once). Only this message's own last attempt fails the run, saying why, and marks
    /// its pending periods stale (its pending days stay dirty), so the next run does them; a run-level error does not
    /// outlast the steps: if they were sent after all and every step ends done, the run reads <c>succeeded</c>.
    /// Once no first step is pending, they were all delivered and each ends the run through its own queue.
    /// </summary>
    private async Task<RunJobs> SendOrFailUnsentJobsAsync(RunRecord run, int dequeueCount, CancellationToken ct)
    {
        var unsent = run.Days.Count > 0 ? run.Days.Count(d => d.State == StepState.Pending) : run.Periods.Count(p => p.State == StepState.Pending);
        var error = UnsentJobsError();
        if (unsent == 0 || run.Errors.Contains(error))
        {
            logger.LogWarning("Run {RunId} is {State}; its start message in {Queue} changes nothing on it", run.RunId, run.State, StorageNames.Queues.KpiRunsPoison);
            return RunJobs.None;
        }
        if (!host.IsLastAttempt(dequeueCount))
        {
            var again = RunJobs.Unfinished(run, settings.Calendar);
            logger.LogWarning("Run {RunId}: its start message went to {Queue} with {Count} of the steps it sends still pending; its {Days} unfinished days and {Periods} periods are sent again",
                run.RunId, StorageNames.Queues.KpiRunsPoison, unsent, again.Days.Count, again.Periods.Count);
            return RunJobs.FirstStep(again);
        }
        // Marked before the error is recorded, so a retry of this message that finds the error has nothing left to do.
        await stalePeriods.MarkAsync(run.Periods.Where(p => p.State == StepState.Pending).Select(p => p.Period), ct);
        await runs.AddErrorAsync(run.RunId, error, ct);
        logger.LogError("Run {RunId} failed: its start message went to {Queue} after {Attempts} attempts, sending its jobs again from there failed as often, and {Count} of the steps it sends are still pending",
            run.RunId, StorageNames.Queues.KpiRunsPoison, host.MaxDequeueCount, unsent);
        return RunJobs.None;
    }

    private string UnsentJobsError() =>
        Reason("sending the run's jobs", StorageNames.Queues.KpiRunsPoison) +
        $"; sending them again from there failed {host.MaxDequeueCount} times as well. Its steps still pending may never have been sent: its days stay dirty and its periods are marked stale, so the next run does them";

    /// <summary>
    /// A day still pending fails. A day that is done may have been the one to send its run's periods
    /// (<see cref="AggregateDayFunction"/>), its delivery dying before the host wrote them: when every day
    /// is done and no other day holds that claim, its message sends them here.
    /// </summary>
    [Function("AggregateDayPoisoned")]
    [QueueOutput(StorageNames.Queues.KpiPeriods)]
    public async Task<string[]?> AggregateDayAsync([QueueTrigger(StorageNames.Queues.KpiDaysPoison)] string message, CancellationToken ct)
    {
        if (!JobMessage.TryRead(message, JobMessages.ReadDay, logger, "AggregateDayPoisoned", out var job)) return null;
        var day = IsoDay.Text(job.Day);
        // Only a day still pending: one done by another delivery, or failed by its own last attempt, stays as it is.
        var found = await runs.FailPendingDayAsync(job.RunId, job.Day, Reason($"aggregating day {day}", StorageNames.Queues.KpiDaysPoison), ct);
        if (found == StepState.Done && await AggregateDayFunction.PeriodsAfterDayAsync(runs, planner, logger, job, ct) is { } periods)
        {
            logger.LogWarning("Day {Day} of run {RunId} is done; its message in {Queue} sends the run's periods to finalise", day, job.RunId, StorageNames.Queues.KpiDaysPoison);
            return periods;
        }
        if (found != StepState.Pending)
        {
            logger.LogInformation("Day {Day} of run {RunId} is {State}; its message in {Queue} changes nothing", day, job.RunId, Describe(found), StorageNames.Queues.KpiDaysPoison);
            return null;
        }
        logger.LogError("Day {Day} of run {RunId} failed: its message went to {Queue} after {Attempts} attempts", day, job.RunId, StorageNames.Queues.KpiDaysPoison, host.MaxDequeueCount);
        return null;
    }

    [Function("FinalizePeriodPoisoned")]
    public async Task FinalizePeriodAsync([QueueTrigger(StorageNames.Queues.KpiPeriodsPoison)] string message, CancellationToken ct)
    {
        if (!JobMessage.TryRead(message, JobMessages.ReadPeriod, logger, "FinalizePeriodPoisoned", out var job)) return;
        // Stale again first, so the next run does it again (an attempt that promoted its version had cleared the mark).
        // Marked before the failure is recorded, as FinalizePeriod's last attempt does: the other way round, a handler that
        // died between the two left its retry finding the period failed, and the period neither stale nor computed (found
        // by a review). A period another delivery finished meanwhile is computed once more by the next run.
        await stalePeriods.MarkAsync([job.Period], ct);
        var found = await runs.FailPendingPeriodAsync(job.RunId, job.Grain, job.Period, Reason($"finalising {job.Period}", StorageNames.Queues.KpiPeriodsPoison), ct);
        if (found != StepState.Pending)
        {
            logger.LogInformation("Period {Period} of run {RunId} is {State}; its message in {Queue} only marked it for the next run", job.Period, job.RunId, Describe(found), StorageNames.Queues.KpiPeriodsPoison);
            return;
        }
        logger.LogError("Period {Period} of run {RunId} failed: its message went to {Queue} after {Attempts} attempts", job.Period, job.RunId, StorageNames.Queues.KpiPeriodsPoison, host.MaxDequeueCount);
    }

    /// <summary>The period was finalised and its alerts sent; only recording that failed. Recording it is all that is left.</summary>
    [Function("CompletePeriodPoisoned")]
    public async Task CompletePeriodAsync([QueueTrigger(StorageNames.Queues.KpiDonePoison)] string message, CancellationToken ct)
    {
        if (!JobMessage.TryRead(message, JobMessages.ReadPeriodDone, logger, "CompletePeriodPoisoned", out var job)) return;
        logger.LogWarning("Run {RunId}: recording {Period} done failed {Attempts} times; recording it from {Queue}", job.RunId, job.Period, host.MaxDequeueCount, StorageNames.Queues.KpiDonePoison);
        await CompletePeriodFunction.RecordAsync(runs, ledger, logger, loggers.CreateLogger(RunLog.Category), job, ct);
    }

    private static string Describe(StepState? state) => state is { } s ? s.ToString().ToLowerInvariant() : "not planned";

    private string Reason(string step, string queue) =>
        $"{step} did not complete: its message went to {queue} after {host.MaxDequeueCount} attempts with no failure recorded " +
        "(the worker stopped while running it, the function could not start, or storage failed the failure's own write); see the app's log";
}
