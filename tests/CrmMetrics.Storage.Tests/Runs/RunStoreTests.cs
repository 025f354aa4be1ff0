using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Runs;

/// <summary>A run's record of its days, against a real Azurite.</summary>
public class RunStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly DateOnly Planned = new(2026, 8, 3);
    private static readonly DateOnly NotPlanned = new(2026, 8, 4);

    [Fact]
    public async Task A_planned_day_is_recorded_done_or_failed()
    {
        var runs = new RunStore(await azurite.AccountAsync());
        Assert.True(await runs.CreateAsync("run-days", "api", null, null, default));
        await runs.PlanAsync("run-days", [Planned, NotPlanned], [], default);

        Assert.True(await runs.CompleteDayAsync("run-days", Planned, 42, default));
        Assert.True(await runs.FailDayAsync("run-days", NotPlanned, "IOException: gone", default));

        var run = await runs.GetAsync("run-days", default);
        Assert.Equal([(Planned, StepState.Done, 42L), (NotPlanned, StepState.Failed, 0L)], run!.Days.OrderBy(d => d.Day).Select(d => (d.Day, d.State, d.Facts)));
        Assert.Equal("IOException: gone", run.Days.Single(d => d.Day == NotPlanned).Error);
    }

    [Fact]
    public async Task A_failure_does_not_undo_a_step_that_is_done_and_a_step_done_after_a_failure_keeps_no_error()
    {
        // Found by probing: a delivery whose message went to the poison queue marked failed a period another
        // delivery had finished, and the run then showed succeeded with the error still on its step.
        var runs = new RunStore(await azurite.AccountAsync());
        var august = new Domain.Periods.PeriodCalendar(Domain.Periods.ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse("2026-08", Domain.Periods.Grain.Month);
        Assert.True(await runs.CreateAsync("run-steps", "api", null, null, default));
        await runs.PlanAsync("run-steps", [Planned, NotPlanned], [august], default);

        Assert.True(await runs.CompleteDayAsync("run-steps", Planned, 5, default));
        Assert.False(await runs.FailDayAsync("run-steps", Planned, "late failure", default));
        Assert.True(await runs.FailDayAsync("run-steps", NotPlanned, "first delivery died", default));
        // A poisoned delivery fails only a pending step: the failure its last attempt recorded stays as it was.
        Assert.Equal(StepState.Failed, await runs.FailPendingDayAsync("run-steps", NotPlanned, "poisoned", default));
        Assert.Equal(StepState.Done, await runs.FailPendingDayAsync("run-steps", Planned, "poisoned", default));
        Assert.Null(await runs.FailPendingDayAsync("run-steps", new DateOnly(2026, 8, 5), "poisoned", default));
        Assert.Equal("first delivery died", (await runs.GetAsync("run-steps", default))!.Days.Single(d => d.Day == NotPlanned).Error);
        Assert.True(await runs.CompleteDayAsync("run-steps", NotPlanned, 9, default));
        await runs.CompletePeriodAsync("run-steps", august.Grain, august.Key, 3, 26, default);
        Assert.False(await runs.FailPeriodAsync("run-steps", august.Grain, august.Key, "late failure", default));

        var run = (await runs.GetAsync("run-steps", default))!;
        Assert.Equal("succeeded", run.State);
        Assert.All(run.Days, d => Assert.Null(d.Error));
        Assert.Null(run.Periods.Single().Error);
        Assert.Equal((3, 26), (run.Periods.Single().Version, run.Periods.Single().Rows));

        // A period it did not plan is no step of it: its failure is not recorded either (as a stray day's is not).
        Assert.False(await runs.FailPeriodAsync("run-steps", august.Grain, "2026-09", "a period it did not plan", default));
        Assert.Equal("succeeded", (await runs.GetAsync("run-steps", default))!.State);
        Assert.Single((await runs.GetAsync("run-steps", default))!.Periods);
    }

    [Fact]
    public async Task A_failure_to_send_the_periods_fails_the_run_until_it_is_recovered_and_a_run_whose_steps_all_end_done_succeeded()
    {
        // Found in review: the failure stood after the day's poisoned message sent the periods, and the run read failed
        // for ever although every period then completed.
        var runs = new RunStore(await azurite.AccountAsync());
        var august = new Domain.Periods.PeriodCalendar(Domain.Periods.ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse("2026-08", Domain.Periods.Grain.Month);
        Assert.True(await runs.CreateAsync("run-unsent", "api", null, null, default));
        await runs.PlanAsync("run-unsent", [Planned], [august], default);
        Assert.True(await runs.CompleteDayAsync("run-unsent", Planned, 5, default));
        Assert.False(await runs.RecoverPeriodsNotSentAsync("run-unsent", "nothing to recover", default));

        await runs.RecordPeriodsNotSentAsync("run-unsent", "sending the periods failed: IOException: gone", default);
        var stopped = (await runs.GetAsync("run-unsent", default))!;
        Assert.Equal("failed", stopped.State);
        Assert.Equal(["sending the periods failed: IOException: gone"], stopped.Errors);

        Assert.True(await runs.RecoverPeriodsNotSentAsync("run-unsent", "sent afterwards", default));
        Assert.False(await runs.RecoverPeriodsNotSentAsync("run-unsent", "sent again", default));
        var going = (await runs.GetAsync("run-unsent", default))!;
        Assert.Equal("running", going.State);
        Assert.Empty(going.Errors);
        Assert.Null(going.PeriodsNotSent);
        Assert.Equal(["sending the periods failed: IOException: gone (recovered: sent afterwards)"], going.Recovered);

        Assert.True(await runs.CompletePeriodAsync("run-unsent", august.Grain, august.Key, 3, 26, default));
        Assert.Equal("succeeded", (await runs.GetAsync("run-unsent", default))!.State);
        // Every step done is the run's whole work done: an error recorded on the way is listed, and fails it no longer.
        await runs.AddErrorAsync("run-unsent", "an error recorded on the way", default);
        var ended = (await runs.GetAsync("run-unsent", default))!;
        Assert.Equal("succeeded", ended.State);
        Assert.Equal(["an error recorded on the way"], ended.Errors);
    }

    [Fact]
    public async Task A_day_of_no_run_or_outside_the_plan_is_not_recorded_and_writes_nothing()
    {
        // A job message that names no planned day must not leave a stray day row on a run.
        var runs = new RunStore(await azurite.AccountAsync());
        Assert.True(await runs.CreateAsync("run-plan", "api", null, null, default));
        await runs.PlanAsync("run-plan", [Planned], [], default);

        Assert.False(await runs.CompleteDayAsync("run-plan", NotPlanned, 7, default));
        Assert.False(await runs.FailDayAsync("run-plan", NotPlanned, "boom", default));
        Assert.False(await runs.CompleteDayAsync("run-nobody-created", Planned, 7, default));

        Assert.Equal([Planned], (await runs.GetAsync("run-plan", default))!.Days.Select(d => d.Day));
        Assert.Null(await runs.GetAsync("run-nobody-created", default));
    }

    [Fact]
    public async Task Every_delivery_of_a_periods_job_computes_its_version_as_of_the_instant_fixed_with_it()
    {
        // Found by probing: two deliveries at once wrote one version's rows with different computedAt
        // (an OData filter on the time then lost rows) and projections of different instants.
        var runs = new RunStore(await azurite.AccountAsync());
        var calendar = new Domain.Periods.PeriodCalendar(Domain.Periods.ReportingCalendar.Gregorian, TimeZoneInfo.Utc);
        var month = calendar.Parse("2026-09", Domain.Periods.Grain.Month);
        Assert.True(await runs.CreateAsync("run-instant", "api", null, null, default));
        await runs.PlanAsync("run-instant", [], [month], default);
        var first = new DateTimeOffset(2026, 10, 1, 6, 0, 0, 123, TimeSpan.Zero).AddTicks(4567);
        var reserved = 0;
        Task<int> Reserve() => Task.FromResult(Interlocked.Increment(ref reserved) + 40);

        // The delivery that reserves is the first (it alone writes the version's own partition); every later one is not.
        Assert.Equal(new VersionReservation(41, first, First: true), await runs.ReservationForAsync("run-instant", month.Grain, month.Key, Reserve, first, default));
        // A redelivery minutes later takes the same version and instant; no other version is reserved.
        Assert.Equal(new VersionReservation(41, first), await runs.ReservationForAsync("run-instant", month.Grain, month.Key, Reserve, first.AddMinutes(7), default));
        Assert.Equal(1, reserved);
        // Completing the period keeps the instant: a delivery that read the run before it and reserves after computes at it too.
        Assert.True(await runs.CompletePeriodAsync("run-instant", month.Grain, month.Key, 41, 10, default));
        Assert.Equal(new VersionReservation(41, first), await runs.ReservationForAsync("run-instant", month.Grain, month.Key, Reserve, first.AddMinutes(9), default));
    }

    [Fact]
    public async Task A_period_of_no_run_or_outside_the_plan_is_not_recorded_and_writes_nothing()
    {
        // Found by probing: a done message for a period the run never planned added it to a finished run's record.
        var runs = new RunStore(await azurite.AccountAsync());
        var calendar = new Domain.Periods.PeriodCalendar(Domain.Periods.ReportingCalendar.Gregorian, TimeZoneInfo.Utc);
        var (planned, stray) = (calendar.Parse("2026-08", Domain.Periods.Grain.Month), calendar.Parse("2026-03", Domain.Periods.Grain.Month));
        Assert.True(await runs.CreateAsync("run-periods", "api", null, null, default));
        await runs.PlanAsync("run-periods", [], [planned], default);

        Assert.Equal(0, await runs.ReservedVersionAsync("run-periods", planned.Grain, planned.Key, default));
        Assert.Null(await runs.ReservedVersionAsync("run-periods", stray.Grain, stray.Key, default));
        Assert.Null(await runs.ReservedVersionAsync("run-periods", Domain.Periods.Grain.Year, "2026", default));
        Assert.Null(await runs.ReservedVersionAsync("run-nobody-created", planned.Grain, planned.Key, default));
        Assert.False(await runs.CompletePeriodAsync("run-periods", stray.Grain, stray.Key, 99, 5, default));
        Assert.False(await runs.CompletePeriodAsync("run-nobody-created", planned.Grain, planned.Key, 99, 5, default));
        Assert.Equal(7, (await runs.ReservationForAsync("run-periods", planned.Grain, planned.Key, () => Task.FromResult(7), DateTimeOffset.UtcNow, default)).Version);
        Assert.Equal(7, await runs.ReservedVersionAsync("run-periods", planned.Grain, planned.Key, default));
        Assert.True(await runs.CompletePeriodAsync("run-periods", planned.Grain, planned.Key, 7, 5, default));

        var run = (await runs.GetAsync("run-periods", default))!;
        Assert.Equal([planned.Key], run.Periods.Select(p => p.Period));
        Assert.Equal("succeeded", run.State);
        Assert.Null(await runs.GetAsync("run-nobody-created", default));
    }

    [Fact]
    public async Task Of_days_claiming_a_runs_periods_at_once_one_holds_the_claim_and_keeps_it()
    {
        // Found by probing: the last days of a run, finishing together, each sent every period (one up to 13 times).
        var runs = new RunStore(await azurite.AccountAsync());
        var days = Enumerable.Range(1, 16).Select(d => new DateOnly(2026, 9, d)).ToList();
        Assert.True(await runs.CreateAsync("run-claim", "api", null, null, default));
        await runs.PlanAsync("run-claim", days, [], default);

        Assert.Null(await runs.PeriodsSenderAsync("run-claim", default));
        var claims = await Task.WhenAll(days.Select(d => Task.Run(() => runs.ClaimPeriodsAsync("run-claim", d, default))));

        var holder = days[Assert.Single(Enumerable.Range(0, days.Count), i => claims[i])];
        Assert.Equal(holder, await runs.PeriodsSenderAsync("run-claim", default));
        // The claim stays with its day (a later delivery of its message sends again), through a write of the record.
        await runs.AddErrorAsync("run-claim", "an error recorded meanwhile", default);
        Assert.True(await runs.ClaimPeriodsAsync("run-claim", holder, default));
        foreach (var day in days.Where(d => d != holder)) Assert.False(await runs.ClaimPeriodsAsync("run-claim", day, default));
        Assert.Equal(["an error recorded meanwhile"], (await runs.GetAsync("run-claim", default))!.Errors);
        Assert.False(await runs.ClaimPeriodsAsync("run-nobody-created", holder, default));
        Assert.Null(await runs.GetAsync("run-nobody-created", default));
    }

    [Fact]
    public async Task Requests_like_a_queued_run_join_it_until_its_planning_releases_them()
    {
        var runs = new RunStore(await azurite.AccountAsync());
        var key = RunStore.RequestKey(["month"], "2026-08");
        async Task<string> RequestAsync(string runId)
        {
            Assert.True(await runs.CreateAsync(runId, "api", ["month"], "2026-08", default));
            return await runs.QueueOrJoinAsync(runId, key, default);
        }

        // Sixteen at once: one is queued, the others join it and never start.
        var ids = Enumerable.Range(0, 16).Select(i => $"run-join-{i:00}").ToList();
        var answers = await Task.WhenAll(ids.Select(id => Task.Run(() => RequestAsync(id))));
        var queued = Assert.Single(answers.Distinct());
        foreach (var id in ids.Where(id => id != queued)) Assert.Equal(queued, (await runs.GetAsync(id, default))!.JoinedTo);
        Assert.Null((await runs.GetAsync(queued, default))!.JoinedTo);
        // Another kind of request has its own run.
        Assert.True(await runs.CreateAsync("run-join-year", "api", ["year"], null, default));
        Assert.Equal("run-join-year", await runs.QueueOrJoinAsync("run-join-year", RunStore.RequestKey(["year"], null), default));

        // Once its planning has begun, a request gets a run of its own, and that one is joined next.
        Assert.True((await runs.BeginPlanningAsync(queued, key, default)).Plans);
        Assert.Equal("run-join-after", await RequestAsync("run-join-after"));
        Assert.Equal("run-join-after", await RequestAsync("run-join-later"));
        // A run that planned or failed without releasing (a crash, a poisoned start) is not joined.
        await runs.PlanAsync("run-join-after", [], [], default);
        Assert.Equal("run-join-planned", await RequestAsync("run-join-planned"));
        await runs.AddErrorAsync("run-join-planned", "planning failed", default);
        Assert.Equal("run-join-failed", await RequestAsync("run-join-failed"));
        // Releasing is the queued run's own: another run's release leaves the entry.
        Assert.True((await runs.BeginPlanningAsync("run-join-after", key, default)).Plans);
        Assert.Equal("run-join-failed", await RequestAsync("run-join-last"));
        // A joined run starts nothing.
        Assert.False((await runs.BeginPlanningAsync("run-join-last", key, default)).Plans);
    }

    [Fact]
    public async Task A_run_whose_planning_began_before_its_request_was_recorded_is_not_joined_and_plans_or_joins_never_both()
    {
        // Found in review: the start message is sent before the request is recorded, so a run's planning can
        // begin first; a later request then joined it and was told its facts would be computed.
        var runs = new RunStore(await azurite.AccountAsync());
        var key = RunStore.RequestKey(["month"], "2026-09");
        Assert.True(await runs.CreateAsync("run-early", "api", ["month"], "2026-09", default));
        Assert.True((await runs.BeginPlanningAsync("run-early", key, default)).Plans);   // its start message came first
        Assert.Equal("run-early", await runs.QueueOrJoinAsync("run-early", key, default));
        Assert.True(await runs.CreateAsync("run-late", "api", ["month"], "2026-09", default));
        Assert.Equal("run-late", await runs.QueueOrJoinAsync("run-late", key, default));

        // A request whose own run began planning first is not marked joined: it plans.
        Assert.True(await runs.CreateAsync("run-own", "api", ["month"], "2026-09", default));
        Assert.True((await runs.BeginPlanningAsync("run-own", key, default)).Plans);
        Assert.Equal("run-own", await runs.QueueOrJoinAsync("run-own", key, default));
        Assert.Null((await runs.GetAsync("run-own", default))!.JoinedTo);
    }
}
