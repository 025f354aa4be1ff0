using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Runs;

public enum StepState { Pending, Done, Failed }

/// <summary>
/// A run's record: what it covers and how far it got. Its state is derived from its steps: a planned run whose
/// every day and period is done succeeded, whatever went wrong on the way (its errors still say what); else one
/// with a failed step or a standing run-level error failed; else it is running once planned, queued before.
/// </summary>
/// <param name="Errors">The run-level errors that stand (a failure to send its periods among them, until it is recovered).</param>
public sealed record RunRecord(
    string RunId,
    string Trigger,
    DateTimeOffset CreatedAt,
    bool Planned,
    IReadOnlyList<string>? RequestedGrains,
    string? RequestedPeriod,
    IReadOnlyList<RunDay> Days,
    IReadOnlyList<RunPeriod> Periods,
    IReadOnlyList<string> Errors)
{
    public string State =>
        // Every step done is the run's whole work done: a run-level error recorded before (periods that failed to be
        // sent, and were sent afterwards) must not leave it failed for ever (found in review).
        Planned && Periods.All(p => p.State == StepState.Done) && Days.All(d => d.State == StepState.Done) ? "succeeded"
        : Errors.Count > 0 || Days.Any(d => d.State == StepState.Failed) || Periods.Any(p => p.State == StepState.Failed) ? "failed"
        : Planned ? "running"
        : "queued";

    public int Snapshots => Periods.Sum(p => p.Rows);

    /// <summary>The run a request made at the same time joined instead (<see cref="RunStore.QueueOrJoinAsync"/>): this one never starts.</summary>
    public string? JoinedTo { get; init; }

    /// <summary>Why the run's periods could not be sent (<see cref="RunStore.RecordPeriodsNotSentAsync"/>), while that stands; also one of <see cref="Errors"/>.</summary>
    public string? PeriodsNotSent { get; init; }

    /// <summary>The reporting calendar its planned period keys were made in (<c>CrmMetrics:Calendar</c>); null when it planned none, or before this was recorded.</summary>
    public string? PlannedCalendar { get; init; }

    /// <summary>Errors the run got over, each saying how (<see cref="RunStore.RecoverPeriodsNotSentAsync"/>): listed, they fail it no longer.</summary>
    public IReadOnlyList<string> Recovered { get; init; } = [];
}

public sealed record RunDay(DateOnly Day, StepState State, long Facts, string? Error);

public sealed record RunPeriod(Grain Grain, string Period, StepState State, int Version, int Rows, string? Error);

/// <summary>
/// Runs in one partition each: a "run" row, a row per day to aggregate and a row per period to
/// finalise. Steps update only their own rows, so fan-out work never contends on one row; only the
/// last days of a run meet on its run row, claiming the sending of its periods (<see cref="ClaimPeriodsAsync"/>).
/// </summary>
public sealed class RunStore(StorageAccount account)
{
    private const string RunRow = "run";
    // The latest scheduled run's id, in a partition no run id can take (they start with "run-" or "sched-").
    private const string SchedulePartition = "schedule";
    private const string LatestRow = "latest";
    // For each kind of API request (its grains and period), the run queued for it, not planned yet.
    private const string RequestPartition = "requests";
    // Every run, newest first by the second its id names (RunIds): a row per run, written before the run's own row.
    private const string IndexPartition = "index";
    // In the index partition, after every run's row (they start with digits): written once the runs created before the
    // index existed have rows in it.
    private const string IndexCompleteRow = "~complete";
    private readonly TableClient _table = account.Table(StorageNames.Tables.Runs);

    /// <summary>Whether the run exists (its run row alone is read).</summary>
    public async Task<bool> ExistsAsync(string runId, CancellationToken ct) =>
        (await _table.GetEntityIfExistsAsync<TableEntity>(StorageKeys.Encode(runId), RunRow, ["RowKey"], ct)).HasValue;

    /// <summary>The id of the latest scheduled run created (<see cref="RecordScheduledAsync"/>), or null.</summary>
    public async Task<string?> LatestScheduledAsync(CancellationToken ct) =>
        (await _table.GetEntityIfExistsAsync<TableEntity>(SchedulePartition, LatestRow, ["RunId"], ct)) is { HasValue: true } row ? row.Value!.GetString("RunId") : null;

    /// <summary>Records <paramref name="runId"/> as the latest scheduled run.</summary>
    public Task RecordScheduledAsync(string runId, CancellationToken ct) =>
        _table.UpsertEntityAsync(new TableEntity(SchedulePartition, LatestRow) { ["RunId"] = runId }, TableUpdateMode.Replace, ct);

    /// <summary>
    /// Records <paramref name="runId"/>, a scheduled run that exists, as the latest unless the run recorded was
    /// created after it (or at the same instant): a retried start message whose first delivery died between creating
    /// its run and recording it. Run ids name occurrences, and a past-due occurrence runs after a later one, so the
    /// ids' order is not the order the runs were created in (found in review: compared by id, an older-named run
    /// still going could lose "latest" to a finished one, and the next occurrence would start beside it). The record
    /// is replaced only as it was read, so an occurrence recorded meanwhile is compared again rather than overwritten.
    /// "Latest" stays the run created last: a retried run created before it is not recorded, so it holds no later
    /// occurrence back once the recorded one has ended (a narrow case: it takes a crash before the record).
    /// </summary>
    public async Task RecordScheduledIfLaterAsync(string runId, CancellationToken ct)
    {
        var created = await CreatedAtAsync(runId, ct);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var row = await _table.GetEntityIfExistsAsync<TableEntity>(SchedulePartition, LatestRow, ["RunId"], ct);
            var latest = new TableEntity(SchedulePartition, LatestRow) { ["RunId"] = runId };
            try
            {
                if (!row.HasValue)
                {
                    await _table.AddEntityAsync(latest, ct);
                    return;
                }
                var recorded = row.Value!.GetString("RunId");
                if (recorded == runId) return;
                if (recorded is not null && await CreatedAtAsync(recorded, ct) is { } recordedAt && (created is null || recordedAt >= created)) return;
                await _table.UpdateEntityAsync(latest, row.Value.ETag, TableUpdateMode.Replace, ct);
                return;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Recorded by another start meanwhile: read it and compare again.
            }
        }
        throw new ConcurrentChangeException($"The latest scheduled run kept changing concurrently; {runId} was not compared with it (20 attempts).");
    }

    /// <summary>When the run was created (its run row's <c>CreatedAt</c> alone is read); null when it does not exist.</summary>
    private async Task<DateTimeOffset?> CreatedAtAsync(string runId, CancellationToken ct) =>
        (await _table.GetEntityIfExistsAsync<TableEntity>(StorageKeys.Encode(runId), RunRow, ["CreatedAt"], ct)) is { HasValue: true } row ? row.Value!.GetDateTimeOffset("CreatedAt") : null;

    private static string DayRow(DateOnly day) => "day|" + StorageKeys.DayKey(day);
    private static string PeriodRow(Grain grain, string period) => $"period|{Grains.Key(grain)}|{StorageKeys.Encode(period)}";

    /// <summary>
    /// Creates the run; false when it exists already (a timer that fired twice). Its index row
    /// (<see cref="ListAsync"/>) is written first, under a key the id alone decides, so a crash between the two
    /// writes leaves a row that names no run (listings skip it) rather than a run no listing shows, and a second
    /// creation writes the same row again.
    /// </summary>
    public async Task<bool> CreateAsync(string runId, string trigger, IReadOnlyList<string>? grains, string? period, CancellationToken ct)
    {
        await IndexAsync(runId, trigger, ct);
        try
        {
            await _table.AddEntityAsync(new TableEntity(StorageKeys.Encode(runId), RunRow)
            {
                ["Trigger"] = trigger,
                ["CreatedAt"] = DateTimeOffset.UtcNow,
                ["Planned"] = false,
                ["Grains"] = grains is null ? null : string.Join(",", grains),
                ["Period"] = period,
            }, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }

    /// <summary>
    /// Records the run's days and periods, then marks it planned, with the calendar the periods' keys were made in
    /// (<see cref="RunRecord.PlannedCalendar"/>). Called again before it is marked
    /// planned (a crash while planning), it simply writes the same rows again: no step can have run,
    /// because steps are enqueued only after planning.
    /// </summary>
    public async Task PlanAsync(string runId, IReadOnlyCollection<DateOnly> days, IReadOnlyCollection<Period> periods, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(runId);
        var rows = days.Select(d => new TableEntity(pk, DayRow(d)) { ["State"] = nameof(StepState.Pending), ["Day"] = StorageKeys.DayKey(d) })
            .Concat(periods.Select(p => PendingPeriod(pk, p)));
        foreach (var chunk in rows.Chunk(100))
        {
            await _table.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), ct);
        }
        var planned = new TableEntity(pk, RunRow) { ["Planned"] = true, ["DayCount"] = days.Count, ["PeriodCount"] = periods.Count };
        if (periods.FirstOrDefault() is { } any) planned["Calendar"] = any.Calendar.Calendar.Setting;
        await _table.UpdateEntityAsync(planned, ETag.All, TableUpdateMode.Merge, ct);
    }

    /// <summary>
    /// Adds periods to a planned run, pending; one it has already (added by a concurrent call, perhaps
    /// finalised since) is left as it is.
    /// </summary>
    public async Task AddPeriodsAsync(string runId, IReadOnlyCollection<Period> periods, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(runId);
        await Parallel.ForEachAsync(periods, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (p, token) =>
        {
            try
            {
                await _table.AddEntityAsync(PendingPeriod(pk, p), token);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
            }
        });
    }

    /// <summary>A period's row in a run, pending.</summary>
    private static TableEntity PendingPeriod(string pk, Period p) =>
        new(pk, PeriodRow(p.Grain, p.Key)) { ["State"] = nameof(StepState.Pending), ["Grain"] = Grains.Key(p.Grain), ["Period"] = p.Key };

    /// <summary>
    /// Records a planned day as aggregated (clearing a failure another delivery of it recorded: the day
    /// is done). False, writing nothing, when the run planned no such day (no such run, or a day outside
    /// its plan): a day's row exists from planning on, so one conditional update both checks and records.
    /// </summary>
    public async Task<bool> CompleteDayAsync(string runId, DateOnly day, long facts, CancellationToken ct)
    {
        try
        {
            await _table.UpdateEntityAsync(new TableEntity(StorageKeys.Encode(runId), DayRow(day)) { ["State"] = nameof(StepState.Done), ["Facts"] = facts, ["Day"] = StorageKeys.DayKey(day) },
                ETag.All, TableUpdateMode.Replace, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }

    /// <summary>
    /// Records a planned day as failed, unless it is done (another delivery of it finished: a failure
    /// written after that would end a run that succeeded as failed). False, writing nothing, when the run
    /// planned no such day or it is done.
    /// </summary>
    public async Task<bool> FailDayAsync(string runId, DateOnly day, string error, CancellationToken ct) =>
        (await FailStepAsync(DayFailure(runId, day, error), mayCreate: false, onlyPending: false, ct)).Written;

    /// <summary>
    /// Records a planned day as failed only while it is pending (a delivery that went to the poison queue:
    /// a failure its last attempt recorded stays as it was). The state the day had, null when the run
    /// planned no such day; the failure is written only when that was <see cref="StepState.Pending"/>.
    /// </summary>
    public async Task<StepState?> FailPendingDayAsync(string runId, DateOnly day, string error, CancellationToken ct) =>
        (await FailStepAsync(DayFailure(runId, day, error), mayCreate: false, onlyPending: true, ct)).Found;

    /// <summary>
    /// As <see cref="FailDayAsync"/> (a failure written unless the day is done), but the state the day had:
    /// null when the run planned no such day, <see cref="StepState.Done"/> when the failure was not written.
    /// </summary>
    public async Task<StepState?> FailDayUnlessDoneAsync(string runId, DateOnly day, string error, CancellationToken ct) =>
        (await FailStepAsync(DayFailure(runId, day, error), mayCreate: false, onlyPending: false, ct)).Found;

    private static TableEntity DayFailure(string runId, DateOnly day, string error) =>
        new(StorageKeys.Encode(runId), DayRow(day)) { ["State"] = nameof(StepState.Failed), ["Error"] = Truncate(error), ["Day"] = StorageKeys.DayKey(day) };

    private static TableEntity PeriodFailure(string runId, Grain grain, string period, string error) =>
        new(StorageKeys.Encode(runId), PeriodRow(grain, period)) { ["State"] = nameof(StepState.Failed), ["Error"] = Truncate(error), ["Grain"] = Grains.Key(grain), ["Period"] = period };

    /// <summary>
    /// Merges a failure into a step's row unless the row says done (or, with <paramref name="onlyPending"/>,
    /// anything but pending); with <paramref name="mayCreate"/>, a missing row is written. Whether it was
    /// written, and the state the row had (null when there was none), in one point read per attempt.
    /// </summary>
    private async Task<(bool Written, StepState? Found)> FailStepAsync(TableEntity failure, bool mayCreate, bool onlyPending, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var row = await _table.GetEntityIfExistsAsync<TableEntity>(failure.PartitionKey, failure.RowKey, cancellationToken: ct);
            StepState? found = !row.HasValue ? null : Enum.TryParse<StepState>(row.Value!.GetString("State"), out var s) ? s : StepState.Pending;
            if (found == StepState.Done || onlyPending && found is not StepState.Pending || found is null && !mayCreate) return (false, found);
            try
            {
                if (row.HasValue) await _table.UpdateEntityAsync(failure, row.Value!.ETag, TableUpdateMode.Merge, ct);
                else await _table.AddEntityAsync(failure, ct);
                return (true, found);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Written meanwhile (done, perhaps): decide again on what is there now.
            }
        }
        throw new ConcurrentChangeException($"The step {failure.RowKey} of run {failure.PartitionKey} kept changing concurrently; its failure was not recorded (20 attempts).");
    }

    /// <summary>
    /// The snapshot version this run writes for the period and the instant its figures are computed
    /// at, both reserved on the first call (the instant is <paramref name="now"/> then) and reused by redeliveries: every delivery of the period's job
    /// computes the same rows with the same <c>computedAt</c> (found by probing: two deliveries at once
    /// wrote one version's rows with several times, and projections of different instants, so a
    /// filter on the time lost rows and an alert's figure differed from the row stored). A version
    /// reserved by an earlier release, without its instant, is computed at <paramref name="now"/>.
    /// Exactly one call gets <see cref="VersionReservation.First"/>: the one whose write recorded the reservation.
    /// </summary>
    public async Task<VersionReservation> ReservationForAsync(string runId, Grain grain, string period, Func<Task<int>> reserve, DateTimeOffset now, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(runId);
        var rk = PeriodRow(grain, period);
        static VersionReservation? Of(TableEntity row, DateTimeOffset now) =>
            row.GetInt32("Version") is { } v and > 0 ? new VersionReservation(v, row.GetDateTimeOffset("ComputedAt") ?? now) : null;
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(pk, rk, cancellationToken: ct);
        if (row.HasValue && Of(row.Value!, now) is { } existing) return existing;
        // From here on one call's write lands: that call, and no other, is the first.
        var version = await reserve();
        var entity = row.HasValue ? row.Value! : new TableEntity(pk, rk) { ["State"] = nameof(StepState.Pending), ["Grain"] = Grains.Key(grain), ["Period"] = period };
        entity["Version"] = version;
        entity["ComputedAt"] = now;
        try
        {
            if (row.HasValue) await _table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, ct);
            else await _table.AddEntityAsync(entity, ct);
            return new VersionReservation(version, now, First: true);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // A concurrent delivery reserved first: use its version and instant (ours stay unused).
            return Of((await _table.GetEntityAsync<TableEntity>(pk, rk, cancellationToken: ct)).Value, now) ?? new VersionReservation(version, now);
        }
    }

    /// <summary>
    /// The snapshot version the run reserved for a period it planned (0 while none is); null when it
    /// planned no such period (or there is no such run).
    /// </summary>
    public async Task<int?> ReservedVersionAsync(string runId, Grain grain, string period, CancellationToken ct)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(StorageKeys.Encode(runId), PeriodRow(grain, period), ["Version"], ct);
        return row.HasValue ? row.Value!.GetInt32("Version") ?? 0 : null;
    }

    /// <summary>
    /// Records a planned period done, replacing the whole row: a failure another delivery of it recorded
    /// no longer stands. False, writing nothing, when the run planned no such period.
    /// </summary>
    public async Task<bool> CompletePeriodAsync(string runId, Grain grain, string period, int version, int rows, CancellationToken ct)
    {
        try
        {
            // The instant fixed with the version stays (found in review: a delivery that read the run before
            // this and reserved after would otherwise compute the version again at its own instant).
            var reserved = await _table.GetEntityIfExistsAsync<TableEntity>(StorageKeys.Encode(runId), PeriodRow(grain, period), ["ComputedAt"], ct);
            var done = new TableEntity(StorageKeys.Encode(runId), PeriodRow(grain, period))
            {
                ["State"] = nameof(StepState.Done), ["Version"] = version, ["Rows"] = rows, ["Grain"] = Grains.Key(grain), ["Period"] = period,
            };
            if (reserved.HasValue && reserved.Value!.GetDateTimeOffset("ComputedAt") is { } computedAt) done["ComputedAt"] = computedAt;
            await _table.UpdateEntityAsync(done, ETag.All, TableUpdateMode.Replace, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }

    /// <summary>
    /// Records a planned period failed, unless it is done (see <see cref="FailDayAsync"/>); false, writing
    /// nothing, when it was done or the run planned no such period.
    /// </summary>
    public async Task<bool> FailPeriodAsync(string runId, Grain grain, string period, string error, CancellationToken ct) =>
        (await FailStepAsync(PeriodFailure(runId, grain, period, error), mayCreate: false, onlyPending: false, ct)).Written;

    /// <summary>Records a planned period as failed only while it is pending (see <see cref="FailPendingDayAsync"/>); the state it had.</summary>
    public async Task<StepState?> FailPendingPeriodAsync(string runId, Grain grain, string period, string error, CancellationToken ct) =>
        (await FailStepAsync(PeriodFailure(runId, grain, period, error), mayCreate: false, onlyPending: true, ct)).Found;

    /// <summary>Records a run-level error: it fails the run unless every step of it ends done.</summary>
    public Task AddErrorAsync(string runId, string error, CancellationToken ct) =>
        ChangeRunRowAsync(runId, row =>
        {
            row["Errors"] = Appended(row.GetString("Errors"), error);
            return true;
        }, "the error was not recorded", ct);

    /// <summary>
    /// Records why the run's periods could not be sent (the last attempt of the day holding the claim failed):
    /// the run reads failed, saying why, until that day's message, from the poison queue, sends them after all
    /// and calls <see cref="RecoverPeriodsNotSentAsync"/>. A failure recorded before is replaced: one stands at a time.
    /// </summary>
    public Task RecordPeriodsNotSentAsync(string runId, string error, CancellationToken ct) =>
        ChangeRunRowAsync(runId, row =>
        {
            row["PeriodsNotSent"] = Truncate(error);
            return true;
        }, "the failure to send its periods was not recorded", ct);

    /// <summary>
    /// The run's periods are being sent after a failure to send them was recorded: that failure moves to the
    /// errors the run got over, saying how (<paramref name="how"/>), so it reads running again and succeeds if
    /// its periods do. False, writing nothing, when no such failure stands.
    /// </summary>
    public Task<bool> RecoverPeriodsNotSentAsync(string runId, string how, CancellationToken ct) =>
        ChangeRunRowAsync(runId, row =>
        {
            if (row.GetString("PeriodsNotSent") is not { } failure) return false;
            row.Remove("PeriodsNotSent");
            row["Recovered"] = Appended(row.GetString("Recovered"), $"{failure} (recovered: {how})");
            return true;
        }, "the recovery of its periods' sending was not recorded", ct);

    /// <summary>
    /// Changes the run's row as <paramref name="change"/> says (false: nothing to change), written If-Match the
    /// version read and tried again on a concurrent change. Whether it was written.
    /// </summary>
    private async Task<bool> ChangeRunRowAsync(string runId, Func<TableEntity, bool> change, string notDone, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(runId);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var row = (await _table.GetEntityAsync<TableEntity>(pk, RunRow, cancellationToken: ct)).Value;
            if (!change(row)) return false;
            try
            {
                await _table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);
                return true;
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
            }
        }
        throw new ConcurrentChangeException($"Run {runId}'s record kept changing concurrently; {notDone} (20 attempts).");
    }

    /// <summary>A JSON list of strings (null: none yet) with <paramref name="item"/> added, truncated.</summary>
    private static string Appended(string? list, string item)
    {
        var items = ListOf(list);
        items.Add(Truncate(item));
        return JsonSerializer.Serialize(items);
    }

    /// <summary>The strings of a JSON list kept on the run's row (null: none yet).</summary>
    private static List<string> ListOf(string? list) => JsonSerializer.Deserialize<List<string>>(list ?? "[]")!;

    public async Task<RunRecord?> GetAsync(string runId, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(runId);
        // The store's own partitions hold no run: the index would be read whole for nothing (found in review).
        if (pk is IndexPartition or SchedulePartition or RequestPartition) return null;
        var rows = await ReadRowsAsync(pk, ct);
        if (!rows.TryGetValue(RunRow, out var run)) return null;
        var days = new List<RunDay>();
        var periods = new List<RunPeriod>();
        foreach (var (rk, e) in rows)
        {
            if (rk.StartsWith("day|", StringComparison.Ordinal))
                days.Add(new RunDay(StorageKeys.ParseDayKey(rk[4..]), StateOf(e), e.GetInt64("Facts") ?? 0, e.GetString("Error")));
            else if (rk.StartsWith("period|", StringComparison.Ordinal) && PeriodOf(e) is { } period)
                periods.Add(period);
        }
        var periodsNotSent = run.GetString("PeriodsNotSent");
        var errors = ListOf(run.GetString("Errors"));
        if (periodsNotSent is not null) errors.Add(periodsNotSent);
        return new RunRecord(runId, run.GetString("Trigger") ?? "", run.GetDateTimeOffset("CreatedAt") ?? default, run.GetBoolean("Planned") ?? false,
            run.GetString("Grains")?.Split(',', StringSplitOptions.RemoveEmptyEntries), run.GetString("Period"),
            days.OrderBy(d => d.Day).ToList(), periods.OrderBy(p => p.Grain).ThenBy(p => p.Period, StringComparer.Ordinal).ToList(),
            errors)
        {
            JoinedTo = run.GetString("JoinedTo"),
            PlannedCalendar = run.GetString("Calendar"),
            PeriodsNotSent = periodsNotSent,
            Recovered = ListOf(run.GetString("Recovered")),
        };
    }

    /// <summary>
    /// Writes the run's index row (<see cref="ListAsync"/>) as its creation does: for a run an earlier version of the app
    /// created, which wrote none (instances of both versions serve during a deployment, after the first listing indexed
    /// the runs there were).
    /// </summary>
    public async Task IndexAsync(string runId, string trigger, CancellationToken ct) =>
        await _table.UpsertEntityAsync(IndexEntry(runId, trigger), TableUpdateMode.Replace, ct);

    /// <summary>
    /// A run's row in the index: keyed by the second its id names, inverted so that the newest come first (an id
    /// that names none, only ever a test's, sorts after every other), then by the id.
    /// </summary>
    private static TableEntity IndexEntry(string runId, string trigger) =>
        new(IndexPartition, IndexKey(runId)) { ["RunId"] = runId, ["Trigger"] = trigger };

    private static string IndexKey(string runId) => $"{Inverted(RunIds.NamedTime(runId) ?? DateTimeOffset.MinValue)}|{StorageKeys.Encode(runId)}";

    /// <summary>Ticks counted back from the last instant, as 19 digits: later instants sort first.</summary>
    private static string Inverted(DateTimeOffset instant, int plus = 0) =>
        (DateTimeOffset.MaxValue.UtcTicks - instant.UtcTicks + plus).ToString("D19", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="key"/> has the form of an index row's key (a listing's cursor comes back from callers).</summary>
    public static bool IsIndexKey(string key) =>
        key.Length > 20 && key[19] == '|' && key.AsSpan(0, 19).IndexOfAnyExceptInRange('0', '9') < 0;

    /// <summary>
    /// Runs newest first by the second their ids name (a scheduled run's occurrence, a requested run's request),
    /// at most <paramref name="take"/>, after the index key <paramref name="after"/> (the last one a page before
    /// gave): named at or after <paramref name="since"/>, before <paramref name="until"/>, with the
    /// <paramref name="trigger"/> given. Each comes with its index key; <c>More</c> says whether runs follow.
    /// Rows of runs whose creation never got past its index row are among them: <see cref="GetAsync"/> finds
    /// no run for them. The first listing indexes the runs created before the index was kept.
    /// </summary>
    public async Task<(IReadOnlyList<(string RunId, string Key)> Runs, bool More)> ListAsync(DateTimeOffset? since, DateTimeOffset? until, string? trigger, string? after,
        int take, CancellationToken ct)
    {
        await IndexEarlierRunsAsync(ct);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {IndexPartition} and RowKey lt {IndexCompleteRow}");
        // A run named at `since` or later has an inverted time of at most since's; one named before `until`, more than until's.
        if (since is { } s) filter += " and " + TableClient.CreateQueryFilter($"RowKey lt {Inverted(s, plus: 1)}");
        if (until is { } u) filter += " and " + TableClient.CreateQueryFilter($"RowKey ge {Inverted(u, plus: 1)}");
        if (after is not null) filter += " and " + TableClient.CreateQueryFilter($"RowKey gt {after}");
        if (trigger is not null) filter += " and " + TableClient.CreateQueryFilter($"Trigger eq {trigger}");
        var runs = new List<(string RunId, string Key)>(take);
        await foreach (var e in _table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(take + 1, 1000), select: ["RowKey", "RunId"], cancellationToken: ct))
        {
            if (runs.Count == take) return (runs, true);
            runs.Add((e.GetString("RunId") ?? StorageKeys.Decode(e.RowKey[20..]), e.RowKey));
        }
        return (runs, false);
    }

    private bool _earlierRunsIndexed;

    /// <summary>
    /// Gives every run created before the index was kept its index row, once: every run's row is read from the whole
    /// table, the missing index rows are written, then a row saying so. Runs created meanwhile write their own, the
    /// same ones, so listings that do this at once write nothing twice.
    /// </summary>
    private async Task IndexEarlierRunsAsync(CancellationToken ct)
    {
        if (_earlierRunsIndexed) return;
        if ((await _table.GetEntityIfExistsAsync<TableEntity>(IndexPartition, IndexCompleteRow, ["RowKey"], ct)).HasValue)
        {
            _earlierRunsIndexed = true;
            return;
        }
        var entries = new List<TableEntity>();
        await foreach (var run in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {RunRow}"), select: ["PartitionKey", "Trigger"], cancellationToken: ct))
        {
            entries.Add(IndexEntry(StorageKeys.Decode(run.PartitionKey), run.GetString("Trigger") ?? ""));
        }
        foreach (var chunk in entries.Chunk(100))
        {
            await _table.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), ct);
        }
        await _table.UpsertEntityAsync(new TableEntity(IndexPartition, IndexCompleteRow) { ["Runs"] = entries.Count }, TableUpdateMode.Replace, ct);
        _earlierRunsIndexed = true;
    }

    /// <summary>What identifies a kind of API request: its grains and period (none: the defaults).</summary>
    public static string RequestKey(IReadOnlyList<string>? grains, string? period) =>
        StorageKeys.Encode($"{(grains is null ? "*" : string.Join(",", grains))}|{period ?? "*"}");

    /// <summary>
    /// Records <paramref name="runId"/> (created, its start message sent) as the run queued for requests of
    /// <paramref name="requestKey"/>, or, when another such run is still queued (its planning not begun, no
    /// error), joins that one and returns its id: it plans every day marked until it starts, so it computes
    /// all this request would. <paramref name="runId"/> is then marked <see cref="RunRecord.JoinedTo"/> that
    /// run and starts nothing. Found by probing: 36 runs posted at once each planned every dirty day and
    /// stayed queued for more than 20 minutes.
    /// </summary>
    /// <remarks>
    /// A run's planning begins with <see cref="BeginPlanningAsync"/>: it flags the run's row, then removes the
    /// entry. A request joins with a write conditional on the entry's version, so it joins only a run whose
    /// planning reads the dirty days after it; one that finds the flag (its run's planning began before the
    /// entry named it) takes the entry for its own run. A run is marked joined only while its own planning
    /// has not begun (both writes are conditional on its row's version), so it either plans or joins, never both.
    /// </remarks>
    public async Task<string> QueueOrJoinAsync(string runId, string requestKey, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            try
            {
                await _table.AddEntityAsync(new TableEntity(RequestPartition, requestKey) { ["RunId"] = runId }, ct);
                return runId;
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
            }
            var entry = await _table.GetEntityIfExistsAsync<TableEntity>(RequestPartition, requestKey, cancellationToken: ct);
            if (!entry.HasValue) continue; // released meanwhile
            var queued = entry.Value!.GetString("RunId");
            if (queued == runId) return runId;
            var joinable = queued is not null && await GetRunRowAsync(queued, ct) is { } row && row.GetBoolean("Planned") != true && row.GetBoolean("PlanningBegan") != true
                && (row.GetString("Errors") ?? "[]") == "[]" && row.GetString("JoinedTo") is null;
            try
            {
                if (!joinable)
                {
                    // The entry names a run that began planning, failed or is gone: this one is the queued run now.
                    await _table.UpdateEntityAsync(new TableEntity(RequestPartition, requestKey) { ["RunId"] = runId }, entry.Value.ETag, TableUpdateMode.Replace, ct);
                    return runId;
                }
                // Moves the entry's version: the queued run's planning, if it read the entry before, reads it again, so it starts after this.
                await _table.UpdateEntityAsync(new TableEntity(RequestPartition, requestKey) { ["JoinedAt"] = DateTimeOffset.UtcNow }, entry.Value.ETag, TableUpdateMode.Merge, ct);
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
                continue; // released or replaced meanwhile: decide again on what is there now
            }
            return await MarkJoinedAsync(runId, queued!, ct) ? queued! : runId;
        }
        throw new ConcurrentChangeException($"The queued run for requests like {runId}'s kept changing concurrently (20 attempts).");
    }

    /// <summary>Marks <paramref name="runId"/> joined to <paramref name="queued"/> unless its own planning began (its start message came first); true when marked.</summary>
    private async Task<bool> MarkJoinedAsync(string runId, string queued, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            if (await GetRunRowAsync(runId, ct) is not { } own || own.GetBoolean("PlanningBegan") == true || own.GetBoolean("Planned") == true) return false;
            try
            {
                await _table.UpdateEntityAsync(new TableEntity(StorageKeys.Encode(runId), RunRow) { ["JoinedTo"] = queued }, own.ETag, TableUpdateMode.Merge, ct);
                return true;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
            }
        }
        throw new ConcurrentChangeException($"Run {runId}'s record kept changing concurrently; it was not joined to {queued} (20 attempts).");
    }

    /// <summary>
    /// Called by an API run before it plans: flags its row, then ends its standing as the run requests of
    /// <paramref name="requestKey"/> join; requests that come later get a run of their own. True when the run
    /// may plan; false when it joined another (named in <c>JoinedTo</c>; null when the run is gone): it starts nothing.
    /// </summary>
    public async Task<(bool Plans, string? JoinedTo)> BeginPlanningAsync(string runId, string requestKey, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (attempt == 20) throw new ConcurrentChangeException($"Run {runId}'s record kept changing concurrently; its planning did not begin (20 attempts).");
            if (await GetRunRowAsync(runId, ct) is not { } row) return (false, null);
            if (row.GetString("JoinedTo") is { } joined) return (false, joined);
            if (row.GetBoolean("PlanningBegan") == true) break;
            try
            {
                await _table.UpdateEntityAsync(new TableEntity(StorageKeys.Encode(runId), RunRow) { ["PlanningBegan"] = true }, row.ETag, TableUpdateMode.Merge, ct);
                break;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
            }
        }
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var entry = await _table.GetEntityIfExistsAsync<TableEntity>(RequestPartition, requestKey, cancellationToken: ct);
            if (!entry.HasValue || entry.Value!.GetString("RunId") != runId) return (true, null);
            try
            {
                await _table.DeleteEntityAsync(RequestPartition, requestKey, entry.Value.ETag, ct);
                return (true, null);
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
                // A request joined meanwhile: it is in, and the entry is read again.
            }
        }
        throw new ConcurrentChangeException($"Run {runId} could not release its requests: they kept joining it concurrently (20 attempts).");
    }

    private async Task<TableEntity?> GetRunRowAsync(string runId, CancellationToken ct) =>
        await _table.GetEntityIfExistsAsync<TableEntity>(StorageKeys.Encode(runId), RunRow, cancellationToken: ct) is { HasValue: true } row ? row.Value : null;

    /// <summary>Whether a period of the run is still pending (neither done nor failed): one read, which stops at the first.</summary>
    public async Task<bool> AnyPeriodPendingAsync(string runId, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(runId);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"period|"} and RowKey lt {"period}"} and State ne {nameof(StepState.Done)} and State ne {nameof(StepState.Failed)}");
        await foreach (var _ in _table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["RowKey"], cancellationToken: ct)) return true;
        return false;
    }

    /// <summary>
    /// The run's periods of <paramref name="grain"/> from <paramref name="from"/> to <paramref name="to"/>
    /// (period keys, inclusive; they sort as the periods do), from one range read of its period rows.
    /// </summary>
    public async Task<IReadOnlyList<RunPeriod>> PeriodsBetweenAsync(string runId, Grain grain, string from, string to, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(runId);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {PeriodRow(grain, from)} and RowKey le {PeriodRow(grain, to)}");
        var periods = new List<RunPeriod>();
        await foreach (var e in _table.QueryAsync<TableEntity>(filter, cancellationToken: ct))
        {
            if (PeriodOf(e) is { } period) periods.Add(period);
        }
        return periods;
    }

    private static StepState StateOf(TableEntity e) => Enum.TryParse<StepState>(e.GetString("State"), out var s) ? s : StepState.Pending;

    private static RunPeriod? PeriodOf(TableEntity e) => Grains.TryParse(e.GetString("Grain"), out var grain)
        ? new RunPeriod(grain, e.GetString("Period")!, StateOf(e), e.GetInt32("Version") ?? 0, e.GetInt32("Rows") ?? 0, e.GetString("Error"))
        : null;

    /// <summary>Whether every day of the run is aggregated (and none failed).</summary>
    public async Task<bool> AllDaysDoneAsync(string runId, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(runId);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"day|"} and RowKey lt {"day}"}");
        await foreach (var e in _table.QueryAsync<TableEntity>(filter, select: ["RowKey", "State"], cancellationToken: ct))
        {
            if (e.GetString("State") != nameof(StepState.Done)) return false;
        }
        return true;
    }

    /// <summary>
    /// Claims for <paramref name="day"/> the sending of the run's period jobs, once its days are all done.
    /// Of the last days finishing together, one takes it: the claim names the day on the run row
    /// (<c>PeriodsSentBy</c>) and is written only if the row is still at the version (ETag) read without
    /// it, so a concurrent claim is refused and then finds the winner's. True when the day holds the
    /// claim, taken now or before: it stays with the day, so a later delivery of that day's message (a
    /// retry after the periods' messages were lost) sends them again. False when another day holds it,
    /// or there is no such run.
    /// </summary>
    public async Task<bool> ClaimPeriodsAsync(string runId, DateOnly day, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(runId);
        var sender = StorageKeys.DayKey(day);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var row = await _table.GetEntityIfExistsAsync<TableEntity>(pk, RunRow, ["PeriodsSentBy"], ct);
            if (!row.HasValue) return false;
            if (row.Value!.GetString("PeriodsSentBy") is { } holder) return holder == sender;
            try
            {
                await _table.UpdateEntityAsync(new TableEntity(pk, RunRow) { ["PeriodsSentBy"] = sender }, row.Value.ETag, TableUpdateMode.Merge, ct);
                return true;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
                // Written meanwhile (claimed by another day, or an error recorded): decide again on what is there now.
            }
        }
        throw new ConcurrentChangeException($"Run {runId}'s record kept changing concurrently; sending its periods was not claimed (20 attempts).");
    }

    /// <summary>The day holding the claim to send the run's periods (<see cref="ClaimPeriodsAsync"/>), or null while none does.</summary>
    public async Task<DateOnly?> PeriodsSenderAsync(string runId, CancellationToken ct)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(StorageKeys.Encode(runId), RunRow, ["PeriodsSentBy"], ct);
        return row.HasValue && row.Value!.GetString("PeriodsSentBy") is { } holder ? StorageKeys.ParseDayKey(holder) : null;
    }

    private async Task<Dictionary<string, TableEntity>> ReadRowsAsync(string pk, CancellationToken ct)
    {
        var rows = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), cancellationToken: ct)) rows[e.RowKey] = e;
        return rows;
    }

    private static string Truncate(string s) => s.Length <= 2000 ? s : s[..2000];
}

/// <summary>The snapshot version a run writes for a period, and the instant its figures are computed at.</summary>
/// <param name="First">
/// True for the one delivery of the period's job that reserved it (recorded it on the run): only that one writes the
/// version's rows to the partition its number names; every other delivery writes to a partition of its own.
/// </param>
public readonly record struct VersionReservation(int Version, DateTimeOffset ComputedAt, bool First = false);
