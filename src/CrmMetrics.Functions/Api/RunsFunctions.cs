using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using Microsoft.Azure.Functions.Worker;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Runs;

namespace CrmMetrics.Functions.Api;

/// <summary><c>POST /api/runs</c> (compute now), <c>GET /api/runs</c> (the runs, newest first) and <c>GET /api/runs/{runId}</c> (progress).</summary>
public sealed class RunsFunctions(CrmMetricsSettings settings, RunStore runs, StorageAccount account, TimeProvider clock, ReportingZoneGuard zoneGuard, ILogger<RunsFunctions> logger)
{
    /// <summary><paramref name="Joined"/>: a run for the same grains and period was still queued, and this request joined it.</summary>
    public sealed record RunAccepted(string RunId, string State, string Status, bool Joined);

    public sealed record RunStep(string Grain, string Period, string State, int Version, int Rows, string? Error);

    /// <summary>
    /// A run's progress. <paramref name="JoinedTo"/>: the run this one joined (its request came while that one was
    /// queued); this one never starts, and its state, steps and errors are that run's.
    /// </summary>
    public sealed record RunResponse(
        string RunId,
        string State,
        string? Grain,
        IReadOnlyList<string> Periods,
        int Snapshots,
        IReadOnlyList<string> Errors,
        string Trigger,
        DateTimeOffset CreatedAt,
        int Days,
        int DaysAggregated,
        IReadOnlyList<RunStep> Steps,
        string? JoinedTo);

    [Function("Runs")]
    [ApiOperation("POST", "StartRun", Access.Admin, Summary = "Compute now: { grain, period? } (no period: the current and the just-closed period).",
        Response = typeof(RunAccepted), Status = 202, Problems = [400, 409, 413, 415])]
    public async Task<IResult> StartAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/runs")] HttpRequest request, CancellationToken ct)
    {
        var (body, problem) = await JsonBodies.ReadObjectAsync(request, allowEmpty: true, ct);
        if (problem is not null) return problem;
        using var bodyScope = body;
        var errors = new ValidationErrors();
        Grain? grain = null;
        string? periodKey = null;
        if (!body!.IsEmpty)
        {
            var f = JsonBodies.Fields(body, errors);
            var grainText = f.String("grain", false, s => Grains.TryParse(s, out _) ? null : "must be one of day, week, month, quarter, year");
            if (Grains.TryParse(grainText, out var g)) grain = g;
            periodKey = f.String("period", false, s =>
            {
                if (grainText is not null && grain is null) return null; // the grain error says it
                return QueryParameters.TryPeriod(settings.Calendar, s, grain, out var period, out var error) ? InTheFuture(period) : error;
            });
            if (periodKey is not null && grain is null && settings.Calendar.TryParse(periodKey, out var inferred, out _)) grain = inferred!.Grain;
            f.RefuseMisspelt(["grain", "period"], "a run request");
        }
        if (!errors.IsEmpty) return Problems.Validation(errors);
        // Refused here too, so the caller learns why at once rather than from a failed run.
        if (await zoneGuard.ProblemAsync(ct) is { } zoneProblem) return Problems.Conflict(zoneProblem);

        var runId = RunIds.Requested(clock.GetUtcNow());
        IReadOnlyList<string>? grains = grain is { } chosen ? [Grains.Key(chosen)] : null;
        string queued;
        // The run's record, its start message and its place among queued runs are written whole, with the storage
        // clients' full tries and not cancelled with the request: a record whose answer came after the request's
        // storage limit was stored all the same, without a start message, and stayed queued for good (found by
        // probing under load: the caller got a 503 and no run id). Slow storage makes a slow 202 instead.
        using (Storage.Account.StorageAnswerLimit.Lifted())
        {
            await runs.CreateAsync(runId, RunPlanner.ApiTrigger, grains, periodKey, CancellationToken.None);
            // Held back a moment, so identical requests sent at once find this run still queued and join it (found by
            // probing: sent at once, they mostly got runs of their own, as this run's planning had begun already).
            await account.Queue(StorageNames.Queues.KpiRuns).SendMessageAsync(JobMessages.Write(new StartRunJob(runId)), JoinWindow, cancellationToken: CancellationToken.None);
            // A run like it still queued plans everything this one would: the request joins it (its own run, started, does nothing).
            queued = await runs.QueueOrJoinAsync(runId, RunStore.RequestKey(grains, periodKey), CancellationToken.None);
        }
        if (queued != runId) logger.LogInformation("Run request {RunId} joined run {Queued}, queued for the same grains and period and not planned yet", runId, queued);
        var status = $"/api/runs/{queued}";
        return TypedResults.Accepted(status, new RunAccepted(queued, "queued", status, Joined: queued != runId));
    }

    /// <summary>How long a requested run's start message stays invisible: identical requests within it join the run.</summary>
    public static readonly TimeSpan JoinWindow = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Why no fact can fall in the period yet, if none can: it starts after today (a period no fact can ever
    /// fall in is refused by <see cref="QueryParameters.TryPeriod"/>). Its snapshots would be empty, and would
    /// stay in the reporting context (the scorecard's choice of periods) for good.
    /// </summary>
    private string? InTheFuture(Period period)
    {
        // The latest day a fact may already have: facts are accepted a little ahead of the clock.
        var latest = settings.Calendar.LocalDateOf(clock.GetUtcNow() + FactRules.DefaultFutureTolerance);
        return period.FirstDay > latest ? $"is in the future: {period.Key} starts on {IsoDay.Text(period.FirstDay)}, after today ({IsoDay.Text(latest)})" : null;
    }

    /// <summary>A run as a listing shows it: <see cref="RunResponse"/> without its steps, counted instead.</summary>
    public sealed record RunSummary(
        string RunId,
        string State,
        string Trigger,
        DateTimeOffset CreatedAt,
        string? Grain,
        string? Period,
        int Days,
        int DaysAggregated,
        int PeriodCount,
        int PeriodsDone,
        int Snapshots,
        int ErrorCount,
        string? JoinedTo);

    public sealed record RunList(IReadOnlyList<RunSummary> Items, string? ContinuationToken);

    public const int MaxPageSize = 100;

    /// <summary>With <c>state</c>, the most runs one page reads to find the ones in that state (each is a read of its own).</summary>
    public const int MaxRunsExaminedPerPage = 100;

    private static readonly string[] RunStates = ["queued", "running", "succeeded", "failed"];

    [Function("RunList")]
    [ApiOperation("GET", "ListRuns", Access.Admin, Query = ["trigger", "state", "since", "until", "pageSize", "continuationToken"],
        Summary = "Runs, newest first by the instant each stands for (a scheduled run's occurrence, a requested run's request): state, trigger, days and periods done, snapshots, errors; filters trigger, state, since, until; paged.",
        Response = typeof(RunList), Problems = [400])]
    public async Task<IResult> ListAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/runs")] HttpRequest request, CancellationToken ct)
    {
        var q = new QueryParameters(request, new ValidationErrors(), settings.Calendar);
        var trigger = q.Raw("trigger");
        if (trigger is not null && trigger is not (RunPlanner.ApiTrigger or RunPlanner.ScheduleTrigger))
            q.Errors.Add("trigger", $"must be {RunPlanner.ApiTrigger} or {RunPlanner.ScheduleTrigger}");
        var state = q.Raw("state");
        if (state is not null && !RunStates.Contains(state)) q.Errors.Add("state", $"must be one of {string.Join(", ", RunStates)}");
        var since = q.Instant("since");
        var until = q.Instant("until");
        if (since is not null && until is not null && until < since) q.Errors.Add("until", "must not be before since");
        var pageSize = q.Int("pageSize", 20, 1, MaxPageSize);
        var query = RunListCursor.Fingerprint(trigger, state, since, until);
        string? after = null;
        if (q.Raw("continuationToken") is { } token)
        {
            var cursor = RunListCursor.TryDecode(token);
            if (cursor is null) q.Errors.Add("continuationToken", "is not a token this API gave out; start again without it");
            else if (q.Errors.IsEmpty && cursor.Query != query)
                q.Errors.Add("continuationToken", "was given for another query: send it with the trigger, state, since and until it came with, or start again without it");
            else after = cursor.After;
        }
        if (!q.Errors.IsEmpty) return Problems.Validation(q.Errors);

        var (indexed, more) = await runs.ListAsync(since, until, trigger, after, state is null ? pageSize : MaxRunsExaminedPerPage, ct);
        var summaries = new RunSummary?[indexed.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, indexed.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (i, token) =>
        {
            // A row whose run was never created (a crash between the two writes) lists nothing.
            if (await runs.GetAsync(indexed[i].RunId, token) is { } run) summaries[i] = Summary(run, await ProgressAsync(run, token));
        });
        // With a state, the page ends at the last run read, and holds those of them in that state (perhaps none).
        var items = new List<RunSummary>(pageSize);
        var last = -1;
        for (var i = 0; i < indexed.Count && items.Count < pageSize; i++)
        {
            last = i;
            if (summaries[i] is { } summary && (state is null || summary.State == state)) items.Add(summary);
        }
        var next = more || last < indexed.Count - 1 ? new RunListCursor(query, indexed[last].Key).Encode() : null;
        return TypedResults.Ok(new RunList(items, next));
    }

    private static RunSummary Summary(RunRecord run, RunRecord progress) => new(
        run.RunId,
        progress.State,
        run.Trigger,
        run.CreatedAt,
        run.RequestedGrains is [var single] ? single : null,
        run.RequestedPeriod,
        progress.Days.Count,
        progress.Days.Count(d => d.State == StepState.Done),
        progress.Periods.Count,
        progress.Periods.Count(p => p.State == StepState.Done),
        progress.Snapshots,
        ErrorsOf(progress).Count,
        run.JoinedTo);

    /// <summary>Where a listing of runs goes on: after the index key of the last run the page before read, for the query it came with.</summary>
    private sealed record RunListCursor(string Query, string After)
    {
        /// <summary>What chooses the runs (not the page size), hashed: the same for every page of one listing.</summary>
        public static string Fingerprint(string? trigger, string? state, DateTimeOffset? since, DateTimeOffset? until) =>
            PageTokens.Fingerprint(trigger, state, PageTokens.Part(since), PageTokens.Part(until));

        public string Encode() => PageTokens.Encode(this);

        public static RunListCursor? TryDecode(string token) =>
            PageTokens.TryDecode<RunListCursor>(token) is { Query: not null, After: not null } cursor && RunStore.IsIndexKey(cursor.After) ? cursor : null;
    }

    [Function("Run")]
    [ApiOperation("GET", "GetRun", Access.Admin, Summary = "A run's state, periods, snapshot count and errors.", Response = typeof(RunResponse), Problems = [400, 404])]
    public async Task<IResult> GetAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/runs/{runId}")] HttpRequest request, string runId, CancellationToken ct)
    {
        if (!Domain.Facts.Vocabulary.IsKey(runId)) return Problems.Validation("runId", "is not a run id");
        var run = await runs.GetAsync(runId, ct);
        if (run is null) return Problems.NotFound($"There is no run {runId}.");
        var progress = await ProgressAsync(run, ct);
        return TypedResults.Ok(new RunResponse(
            run.RunId,
            progress.State,
            progress.RequestedGrains is [var single] ? single : null,
            progress.Periods.Select(p => p.Period).ToList(),
            progress.Snapshots,
            ErrorsOf(progress),
            run.Trigger,
            run.CreatedAt,
            progress.Days.Count,
            progress.Days.Count(d => d.State == StepState.Done),
            Steps(progress),
            run.JoinedTo));
    }

    /// <summary>
    /// Whose progress a run shows. A run that joined another never starts: the one it joined computes what it asked
    /// for, so its progress is this one's (it read queued for ever). Runs are never removed, so the one joined is there.
    /// </summary>
    private async Task<RunRecord> ProgressAsync(RunRecord run, CancellationToken ct) =>
        run.JoinedTo is { } joined ? await runs.GetAsync(joined, ct) ?? run : run;

    /// <summary>
    /// A run's errors as a caller reads them: errors the run got over stay listed, each saying how (the state says
    /// whether anything still stands), then its days' and periods' errors.
    /// </summary>
    private static List<string> ErrorsOf(RunRecord progress) =>
        progress.Errors.Concat(progress.Recovered).Concat(progress.Days.Where(d => d.Error is not null).Select(d => $"day {IsoDay.Text(d.Day)}: {d.Error}"))
            .Concat(progress.Periods.Where(p => p.Error is not null).Select(p => $"{Grains.Key(p.Grain)} {p.Period}: {p.Error}")).ToList();

    /// <summary>
    /// The period steps as a caller reads them. Its periods are sent once every day is done, so while a day has
    /// failed a pending period never will be: it reads <c>skipped</c>, saying why and what happens to it,
    /// rather than <c>pending</c> for ever (found by probing).
    /// </summary>
    private static List<RunStep> Steps(RunRecord run)
    {
        var failedDays = run.Days.Where(d => d.State == StepState.Failed).Select(d => IsoDay.Text(d.Day)).ToList();
        var days = failedDays.Count <= 3 ? string.Join(", ", failedDays) : $"{string.Join(", ", failedDays.Take(3))} and {failedDays.Count - 3} more";
        var skipped = failedDays.Count == 1 ? $"not finalised: day {days} failed; it stays dirty, so the next run aggregates it and finalises this period"
            : $"not finalised: days {days} failed; they stay dirty, so the next run aggregates them and finalises this period";
        return run.Periods.Select(p => p.State == StepState.Pending && failedDays.Count > 0
            ? new RunStep(Grains.Key(p.Grain), p.Period, "skipped", p.Version, p.Rows, skipped)
            : new RunStep(Grains.Key(p.Grain), p.Period, p.State.ToString().ToLowerInvariant(), p.Version, p.Rows, p.Error)).ToList();
    }
}
