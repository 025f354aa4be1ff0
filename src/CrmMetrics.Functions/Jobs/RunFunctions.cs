using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Invocation;
using CrmMetrics.Functions.LocalRuntime;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Storage.Alerts;
using CrmMetrics.Storage.Runs;

namespace CrmMetrics.Functions.Jobs;

/// <summary>Binding names shared by the run functions' function.json files.</summary>
public static class RunBindings
{
    public const string Days = "days";
    public const string Periods = "periods";
    public const string Message = "message";
    public const string Timer = "timer";
    public const string Alerts = "alerts";
    public const string Done = "done";

    /// <summary>The first step of a plan: its days, or, with none to aggregate, its periods.</summary>
    public static void Emit(InvocationResponse response, RunPlan plan)
    {
        if (plan.Days.Count > 0) response.AddMessages(Days, plan.Days.Select(d => JobMessages.Write(new DayJob(plan.RunId, d))));
        else response.AddMessages(Periods, plan.Periods.Select(p => JobMessages.Write(new PeriodJob(plan.RunId, p.Grain, p.Key))));
        response.Log($"run {plan.RunId}: {plan.Days.Count} days, {plan.Periods.Count} periods");
    }

    /// <summary>
    /// Reads the trigger's job message. One that cannot be read is logged and dropped (the returned
    /// <paramref name="rejected"/> response): retrying cannot fix it.
    /// </summary>
    public static bool TryRead<T>(InvocationRequest request, Func<string?, T> read, ILogger logger, string function, out T job, out InvocationResponse rejected)
    {
        try
        {
            job = read(request.TriggerText(Message));
            rejected = null!;
            return true;
        }
        catch (ValidationException e)
        {
            logger.LogError("{Function} dropped a malformed message: {Errors}", function, e.Errors);
            rejected = new InvocationResponse();
            rejected.Log($"malformed message dropped: {e.Errors}");
            job = default!;
            return false;
        }
    }
}

/// <summary>
/// <c>KpiSchedule</c> (timer, <c>%KpiSchedule%</c>): finds dirty days and due periods and fans out
/// day jobs, then period jobs. The run id comes from the occurrence, so a timer that fires twice
/// for one occurrence starts one run.
/// </summary>
public sealed class KpiScheduleFunction(RunStore runs, RunPlanner planner, IConfiguration configuration, TimeProvider clock, ILogger<KpiScheduleFunction> logger) : IFunctionHandler
{
    public const string FunctionName = "KpiSchedule";

    public string Name => FunctionName;

    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        var response = new InvocationResponse();
        var runId = RunPlanner.ScheduledRunId(Occurrence());
        if (!await runs.CreateAsync(runId, RunPlanner.ScheduleTrigger, null, null, cancellationToken))
        {
            // The other invocation of this occurrence plans it; if it died, the next occurrence picks
            // up the same dirty days and stale periods, which stay marked until processed.
            response.Log($"run {runId} already started for this occurrence");
            return response;
        }
        var plan = await planner.PlanAsync(runId, cancellationToken);
        RunBindings.Emit(response, plan);
        logger.LogInformation("Scheduled run {RunId} started", runId);
        return response;
    }

    private static readonly TimeSpan[] LookBackWindows =
        [TimeSpan.FromMinutes(1), TimeSpan.FromHours(1), TimeSpan.FromDays(1), TimeSpan.FromDays(32), TimeSpan.FromDays(400), TimeSpan.FromDays(1500)];

    /// <summary>The schedule occurrence this invocation stands for: the latest one not after now.</summary>
    private DateTimeOffset Occurrence()
    {
        var now = clock.GetUtcNow();
        var text = configuration["KpiSchedule"];
        if (text is null) return now;
        var schedule = TimerTriggerScheduler.Parse(text, "KpiSchedule");
        // A host may invoke slightly early: look one second ahead, then back in widening windows.
        // Windows up to 1500 days cover every schedule NCRONTAB can express (29 February comes every four years).
        foreach (var window in LookBackWindows)
        {
            if (schedule.GetOccurrences(now - window, now.AddSeconds(1), TimeZoneInfo.Utc, fromInclusive: true, toInclusive: true).LastOrDefault() is { } found && found != default)
                return found;
        }
        return now;
    }
}

/// <summary><c>StartRun</c> (queue <c>kpi-runs</c>): plans a run requested through the API and fans it out.</summary>
public sealed class StartRunFunction(RunStore runs, RunPlanner planner, CrmMetricsSettings settings, FunctionCatalog catalog, ILogger<StartRunFunction> logger) : IFunctionHandler
{
    public const string FunctionName = "StartRun";

    public string Name => FunctionName;

    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        if (!RunBindings.TryRead(request, JobMessages.ReadStartRun, logger, Name, out StartRunJob job, out var rejected)) return rejected;
        var response = new InvocationResponse();
        var run = await runs.GetAsync(job.RunId, cancellationToken);
        if (run is null)
        {
            response.Log($"run {job.RunId} does not exist; nothing to start");
            return response;
        }
        if (run.Planned)
        {
            // Planned before, but this message came back: the jobs may never have been sent. Send what
            // is still pending again; every step is idempotent.
            var days = run.Days.Where(d => d.State != StepState.Done).Select(d => d.Day).ToList();
            var periods = run.Periods.Where(p => p.State != StepState.Done)
                .Select(p => settings.Calendar.TryParse(p.Period, p.Grain, out var period, out _) ? period : null).OfType<Domain.Periods.Period>().ToList();
            RunBindings.Emit(response, new RunPlan(run.RunId, days, periods));
            return response;
        }
        try
        {
            RunBindings.Emit(response, await planner.PlanAsync(job.RunId, cancellationToken));
        }
        catch (Exception e) when (e is not OperationCanceledException && request.DequeueCount >= catalog.Host.MaxDequeueCount)
        {
            await runs.AddErrorAsync(job.RunId, $"planning failed: {e.GetType().Name}: {e.Message}", CancellationToken.None);
            throw;
        }
        return response;
    }
}

/// <summary>
/// <c>AggregateDay</c> (queue <c>kpi-days</c>): the map step for one day. The last day of a run to
/// finish sends the run's period jobs. On the final attempt a failure is recorded on the run.
/// </summary>
public sealed class AggregateDayFunction(DayAggregation aggregation, RunStore runs, FunctionCatalog catalog, ILogger<AggregateDayFunction> logger) : IFunctionHandler
{
    public const string FunctionName = "AggregateDay";

    public string Name => FunctionName;

    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        if (!RunBindings.TryRead(request, JobMessages.ReadDay, logger, Name, out DayJob job, out var rejected)) return rejected;
        var response = new InvocationResponse();
        try
        {
            var partial = await aggregation.AggregateAsync(job.Day, cancellationToken);
            await runs.CompleteDayAsync(job.RunId, job.Day, partial.FactCount, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException && request.DequeueCount >= catalog.Host.MaxDequeueCount)
        {
            await runs.FailDayAsync(job.RunId, job.Day, $"{e.GetType().Name}: {e.Message}", CancellationToken.None);
            throw;
        }
        response.Log($"aggregated {job.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)} for run {job.RunId}");

        if (await runs.AllDaysDoneAsync(job.RunId, cancellationToken) && await runs.GetAsync(job.RunId, cancellationToken) is { Planned: true } run)
        {
            // Concurrent last days may both send these; finalising a period twice in one run is harmless.
            var pending = run.Periods.Where(p => p.State != StepState.Done).ToList();
            response.AddMessages(RunBindings.Periods, pending.Select(p => JobMessages.Write(new PeriodJob(run.RunId, p.Grain, p.Period))));
            response.Log($"run {run.RunId}: all days aggregated; {pending.Count} periods to finalise");
        }
        return response;
    }
}

/// <summary><c>FinalizePeriod</c> (queue <c>kpi-periods</c>): the reduce step for one period of a run.</summary>
public sealed class FinalizePeriodFunction(PeriodFinalizer finalizer, RunStore runs, Alerts.AlertService alerts,
    CrmMetricsSettings settings, FunctionCatalog catalog, ILogger<FinalizePeriodFunction> logger)
    : IFunctionHandler
{
    public const string FunctionName = "FinalizePeriod";

    public string Name => FunctionName;

    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        if (!RunBindings.TryRead(request, JobMessages.ReadPeriod, logger, Name, out PeriodJob job, out var rejected)) return rejected;
        var response = new InvocationResponse();
        if (!settings.Calendar.TryParse(job.Period, job.Grain, out var period, out var error))
        {
            await runs.FailPeriodAsync(job.RunId, job.Grain, job.Period, $"period: {error}", cancellationToken);
            response.Log($"period {job.Period} is not a {Domain.Periods.Grains.Key(job.Grain)} of {settings.Calendar}: {error}");
            return response;
        }
        // The queue message names this delivery: a retry of it resends what it raised, nothing else.
        var invocation = request.MessageId ?? $"{job.RunId}|{job.Grain}|{job.Period}";
        var run = await runs.GetAsync(job.RunId, cancellationToken);
        if (run?.Periods.FirstOrDefault(p => p.Grain == job.Grain && p.Period == job.Period) is { State: StepState.Done })
        {
            // Another delivery of this period completed it while this one was down; what this one
            // had claimed (and the other therefore left alone) still has to go out.
            var claimed = await alerts.ClaimedByAsync(invocation, cancellationToken);
            if (claimed.Count > 0) response.AddMessages(RunBindings.Alerts, claimed);
            response.Log($"{job.Period} already finalised by run {job.RunId}; {claimed.Count} alerts this delivery had claimed sent again");
            return response;
        }
        try
        {
            // A retry after a crash recomputes the same version (the run reserved it) and resends its alerts.
            var result = await finalizer.FinalizeAsync(job.RunId, period!, cancellationToken);
            // Alerts speak of the period's current figures only.
            var messages = result.IsLatest
                ? await alerts.RaiseAsync(period!, result.Rows, invocation, cancellationToken)
                : await alerts.ClaimedByAsync(invocation, cancellationToken);
            if (messages.Count > 0) response.AddMessages(RunBindings.Alerts, messages);
            // The run counts the period done once this message is read, that is after the alerts were sent.
            response.AddMessages(RunBindings.Done, [JobMessages.Write(new PeriodDoneJob(job.RunId, job.Grain, job.Period, result.Version, result.Rows.Count, invocation))]);
            response.Log($"finalised {job.Period} as version {result.Version} ({result.Rows.Count} rows), {messages.Count} alerts");
        }
        catch (Exception e) when (e is not OperationCanceledException && request.DequeueCount >= catalog.Host.MaxDequeueCount)
        {
            await runs.FailPeriodAsync(job.RunId, job.Grain, job.Period, $"{e.GetType().Name}: {e.Message}", CancellationToken.None);
            throw;
        }
        return response;
    }
}

/// <summary><c>CompletePeriod</c> (queue <c>kpi-done</c>): records a finalised period on its run, once its alerts are out.</summary>
public sealed class CompletePeriodFunction(RunStore runs, AlertLedger ledger, ILogger<CompletePeriodFunction> logger) : IFunctionHandler
{
    public const string FunctionName = "CompletePeriod";

    public string Name => FunctionName;

    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        if (!RunBindings.TryRead(request, JobMessages.ReadPeriodDone, logger, Name, out PeriodDoneJob job, out var rejected)) return rejected;
        // Written after the alerts, so they are out: a later retry of that delivery must not resend them.
        if (job.Invocation is not null) await ledger.MarkDeliveredAsync(job.Invocation, cancellationToken);
        await runs.CompletePeriodAsync(job.RunId, job.Grain, job.Period, job.Version, job.Rows, cancellationToken);
        var response = new InvocationResponse();
        response.Log($"run {job.RunId}: {job.Period} done (version {job.Version})");
        return response;
    }
}
