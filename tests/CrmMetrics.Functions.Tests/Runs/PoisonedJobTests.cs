using System.Net;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// A run step's message that reached its poison queue with nothing recorded (the worker died on it,
/// the function could not start, storage failed the failure's own write) ends the step on its run:
/// before, the run showed "running" for ever. The messages are put where the host moves them.
/// </summary>
public class PoisonedJobTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static readonly DateOnly Aggregated = new(2026, 8, 3);
    private static readonly DateOnly Lost = new(2026, 8, 4);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private RunStore Runs => app.Services.GetRequiredService<RunStore>();

    private static Period August => new PeriodCalendar(ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse("2026-08", Grain.Month);

    private async Task<string> PlannedRunAsync(string name)
    {
        var runId = $"{name}-{Guid.NewGuid():N}";
        Assert.True(await Runs.CreateAsync(runId, "api", ["month"], "2026-08", default));
        await Runs.PlanAsync(runId, [Aggregated, Lost], [August], default);
        return runId;
    }

    // The fixture made sure of the poison queues, as the app makes them.
    private Task SendAsync(string queue, string message) => app.Storage.Queue(queue).SendMessageAsync(message);

    private Task<RunRecord> WaitForRunAsync(string runId, Func<RunRecord, bool> done, string what) =>
        Eventually.WaitAsync(async () => (await Runs.GetAsync(runId, default))!, done, Deadline, what);

    [Fact]
    public async Task A_day_whose_message_was_poisoned_fails_with_the_reason_and_a_finished_day_is_left_alone()
    {
        var runId = await PlannedRunAsync("poisoned-day");
        Assert.True(await Runs.CompleteDayAsync(runId, Aggregated, 12, default));
        await SendAsync(StorageNames.Queues.KpiDaysPoison, JobMessages.Write(new DayJob(runId, Aggregated)));
        await SendAsync(StorageNames.Queues.KpiDaysPoison, JobMessages.Write(new DayJob(runId, Lost)));

        var run = await WaitForRunAsync(runId, r => r.Days.Single(d => d.Day == Lost).State == StepState.Failed, "the lost day to fail");
        Assert.Contains("went to kpi-days-poison after 5 attempts", run.Days.Single(d => d.Day == Lost).Error);
        await Eventually.WaitAsync(() => Task.FromResult(app.Logs.Contains($"Day 2026-08-03 of run {runId} is done; its message in kpi-days-poison changes nothing")), Deadline, "the finished day's message to be read");
        run = (await Runs.GetAsync(runId, default))!;
        Assert.Equal(StepState.Done, run.Days.Single(d => d.Day == Aggregated).State);
        Assert.Equal(12, run.Days.Single(d => d.Day == Aggregated).Facts);

        // What a caller sees: the run ended, saying which step and why.
        var response = await app.SendAsync(HttpMethod.Get, $"/api/runs/{runId}", TestKeys.Admin);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await AppFixture.JsonAsync(response);
        Assert.Equal("failed", body.GetProperty("state").GetString());
        Assert.Contains("kpi-days-poison", body.ToString());
        // Its period is never sent while a day failed: it says so, rather than pending for ever (found by probing).
        var step = body.GetProperty("steps").EnumerateArray().Single();
        Assert.Equal("skipped", step.GetProperty("state").GetString());
        Assert.Equal("not finalised: day 2026-08-04 failed; it stays dirty, so the next run aggregates it and finalises this period", step.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_done_days_poisoned_message_sends_the_periods_its_day_claimed_and_leaves_those_of_another_day()
    {
        // The day that claimed the run's periods died on its last attempt before the host wrote them: no other
        // day sends them, so its message in the poison queue does, and the run ends.
        var claimed = await PlannedRunAsync("poisoned-claim");
        var other = await PlannedRunAsync("poisoned-other");
        foreach (var runId in new[] { claimed, other })
        {
            Assert.True(await Runs.CompleteDayAsync(runId, Aggregated, 3, default));
            Assert.True(await Runs.CompleteDayAsync(runId, Lost, 4, default));
        }
        Assert.True(await Runs.ClaimPeriodsAsync(claimed, Lost, default));
        // The other run's periods are another day's to send (its message was not poisoned).
        Assert.True(await Runs.ClaimPeriodsAsync(other, Aggregated, default));
        await SendAsync(StorageNames.Queues.KpiDaysPoison, JobMessages.Write(new DayJob(claimed, Lost)));
        await SendAsync(StorageNames.Queues.KpiDaysPoison, JobMessages.Write(new DayJob(other, Lost)));

        var run = await WaitForRunAsync(claimed, r => r.State != "running", "the claimed run's periods to be finalised");
        Assert.Equal("succeeded", run.State);
        Assert.Equal([(August.Key, StepState.Done)], run.Periods.Select(p => (p.Period, p.State)));
        Assert.True(app.Logs.Contains($"Day 2026-08-04 of run {claimed} is done; its message in kpi-days-poison sends the run's periods to finalise"), app.Logs.Tail());
        await Eventually.WaitAsync(() => Task.FromResult(app.Logs.Contains($"Day 2026-08-04 of run {other} is done; its message in kpi-days-poison changes nothing")), Deadline, "the other run's message to be read");
        Assert.Equal("running", (await Runs.GetAsync(other, default))!.State);
    }

    [Fact]
    public async Task A_run_whose_periods_failed_to_be_sent_succeeds_once_its_poisoned_day_message_sends_them_listing_what_it_got_over()
    {
        // Found in review: the error the last attempt recorded stood, and the run read failed for ever after its periods completed.
        var runId = await PlannedRunAsync("poisoned-recovered");
        Assert.True(await Runs.CompleteDayAsync(runId, Aggregated, 3, default));
        Assert.True(await Runs.CompleteDayAsync(runId, Lost, 4, default));
        // The last attempt of the day holding the claim failed to send the periods, and said so.
        Assert.True(await Runs.ClaimPeriodsAsync(runId, Lost, default));
        await Runs.RecordPeriodsNotSentAsync(runId, "sending the periods to finalise after day 2026-08-04 failed: RequestFailedException: The server is busy.", default);
        Assert.Equal("failed", (await Runs.GetAsync(runId, default))!.State);
        await SendAsync(StorageNames.Queues.KpiDaysPoison, JobMessages.Write(new DayJob(runId, Lost)));

        await WaitForRunAsync(runId, r => r.State == "succeeded", "the run's periods to be sent and finalised");
        var body = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/runs/{runId}", TestKeys.Admin));
        Assert.Equal("succeeded", body.GetProperty("state").GetString());
        Assert.Equal(["sending the periods to finalise after day 2026-08-04 failed: RequestFailedException: The server is busy. (recovered: day 2026-08-04's message sent them afterwards)"],
            body.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task A_poisoned_period_fails_and_a_poisoned_done_message_still_records_its_period()
    {
        var finalised = await PlannedRunAsync("poisoned-done");
        var lost = await PlannedRunAsync("poisoned-period");
        foreach (var runId in new[] { finalised, lost })
        {
            await Runs.CompleteDayAsync(runId, Aggregated, 1, default);
            await Runs.CompleteDayAsync(runId, Lost, 1, default);
        }
        // The finalisation reserved its version before its done message went to the poison queue.
        Assert.Equal(3, (await Runs.ReservationForAsync(finalised, Grain.Month, "2026-08", () => Task.FromResult(3), DateTimeOffset.UtcNow, default)).Version);
        await SendAsync(StorageNames.Queues.KpiDonePoison, JobMessages.Write(new PeriodDoneJob(finalised, Grain.Month, "2026-08", 3, 26)));
        await SendAsync(StorageNames.Queues.KpiPeriodsPoison, JobMessages.Write(new PeriodJob(lost, Grain.Month, "2026-08")));

        var done = await WaitForRunAsync(finalised, r => r.State != "running", "the finalised period to be recorded");
        Assert.Equal("succeeded", done.State);
        Assert.Equal((3, 26), (done.Periods.Single().Version, done.Periods.Single().Rows));
        var failed = await WaitForRunAsync(lost, r => r.State != "running", "the lost period to fail");
        Assert.Equal("failed", failed.State);
        Assert.Contains("finalising 2026-08 did not complete", failed.Periods.Single().Error);
    }

    [Fact]
    public async Task A_poisoned_start_fails_its_run_and_a_scheduled_run_never_created_gets_a_record_saying_why()
    {
        var queued = $"poisoned-start-{Guid.NewGuid():N}";
        Assert.True(await Runs.CreateAsync(queued, "api", null, null, default));
        var scheduled = $"scheduled-{Guid.NewGuid():N}";
        await SendAsync(StorageNames.Queues.KpiRunsPoison, JobMessages.Write(new StartRunJob(queued)));
        await SendAsync(StorageNames.Queues.KpiRunsPoison, JobMessages.Write(new StartRunJob(scheduled, RunPlanner.ScheduleTrigger)));

        var run = await WaitForRunAsync(queued, r => r.State != "queued", "the queued run to fail");
        Assert.Equal("failed", run.State);
        Assert.Contains("planning did not complete: its message went to kpi-runs-poison", Assert.Single(run.Errors));
        var created = await Eventually.WaitAsync(() => Runs.GetAsync(scheduled, default), r => r?.State == "failed", Deadline, "the scheduled run's record, failed");
        Assert.Equal(RunPlanner.ScheduleTrigger, created!.Trigger);
    }

    [Fact]
    public async Task A_planned_runs_poisoned_start_sends_its_unfinished_steps_again_and_changes_nothing_once_they_were_delivered()
    {
        // Found in review: the host may never have written the jobs of a planned run whose start message was poisoned,
        // and it read running for ever. Failing it at once (session 42) made a run whose jobs had been written after all
        // read failed until they ended. The poisoned message sends them again instead, as a retry of the start does.
        var unsent = await PlannedRunAsync("poisoned-unsent");
        // The days were delivered: the run's periods are another message's to send, and they end it.
        var delivered = await PlannedRunAsync("poisoned-delivered");
        Assert.True(await Runs.CompleteDayAsync(delivered, Aggregated, 1, default));
        Assert.True(await Runs.FailDayAsync(delivered, Lost, "IOException: disk full", default));
        await SendAsync(StorageNames.Queues.KpiRunsPoison, JobMessages.Write(new StartRunJob(unsent)));
        await SendAsync(StorageNames.Queues.KpiRunsPoison, JobMessages.Write(new StartRunJob(delivered)));

        var run = await WaitForRunAsync(unsent, r => r.State != "running", "the run whose jobs were sent again to end");
        Assert.Equal("succeeded", run.State);
        Assert.Empty(run.Errors);
        Assert.All(run.Days, d => Assert.Equal(StepState.Done, d.State));
        Assert.Equal([(August.Key, StepState.Done)], run.Periods.Select(p => (p.Period, p.State)));
        Assert.True(app.Logs.Contains($"Run {unsent}: its start message went to kpi-runs-poison with 2 of the steps it sends still pending; its 2 unfinished days and 1 periods are sent again"), app.Logs.Tail());

        await Eventually.WaitAsync(() => Task.FromResult(app.Logs.Contains($"Run {delivered} is failed; its start message in kpi-runs-poison changes nothing on it")), Deadline, "the delivered run's message to be read");
        Assert.Empty((await Runs.GetAsync(delivered, default))!.Errors);
    }

    [Fact]
    public async Task A_planned_run_without_days_whose_start_was_poisoned_has_its_periods_sent_again()
    {
        // With no day to aggregate, the start message sends the periods themselves (review: untested).
        var runId = $"poisoned-periods-{Guid.NewGuid():N}";
        Assert.True(await Runs.CreateAsync(runId, "api", ["month"], "2026-08", default));
        await Runs.PlanAsync(runId, [], [August], default);
        await SendAsync(StorageNames.Queues.KpiRunsPoison, JobMessages.Write(new StartRunJob(runId)));

        var run = await WaitForRunAsync(runId, r => r.State != "running", "the run whose period was sent again to end");
        Assert.Equal("succeeded", run.State);
        Assert.Empty(run.Errors);
        Assert.Equal([(August.Key, StepState.Done)], run.Periods.Select(p => (p.Period, p.State)));
        Assert.True(app.Logs.Contains($"Run {runId}: its start message went to kpi-runs-poison with 1 of the steps it sends still pending; its 0 unfinished days and 1 periods are sent again"), app.Logs.Tail());
    }

    [Fact]
    public async Task The_last_attempt_of_a_planned_runs_poisoned_start_fails_it_while_its_steps_are_pending()
    {
        // Sending the jobs again failed as often as the start message did: the run fails, saying why, and its period is
        // marked stale so the next run computes it (its days stay dirty).
        var unsent = await PlannedRunAsync("poisoned-last");
        var stale = app.Services.GetRequiredService<StalePeriodStore>();
        var marked = await stale.GetAsync(August.Key, default);
        await using var services = await InProcessApp.StartAsync(app.StorageConnectionString);
        var poisoned = ActivatorUtilities.CreateInstance<PoisonedJobFunctions>(services);
        var lastAttempt = services.GetRequiredService<HostJsonSettings>().MaxDequeueCount;

        var sent = await poisoned.StartRunAsync(JobMessages.Write(new StartRunJob(unsent)), lastAttempt, default);
        Assert.Null(sent.Days);
        Assert.Null(sent.Periods);
        var run = (await Runs.GetAsync(unsent, default))!;
        Assert.Equal("failed", run.State);
        Assert.StartsWith("sending the run's jobs did not complete: its message went to kpi-runs-poison after 5 attempts", Assert.Single(run.Errors));
        Assert.EndsWith("sending them again from there failed 5 times as well. Its steps still pending may never have been sent: " +
            "its days stay dirty and its periods are marked stale, so the next run does them", run.Errors[0]);
        Assert.NotEqual(marked?.ETag, (await stale.GetAsync(August.Key, default))?.ETag);
        var body = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/runs/{unsent}", TestKeys.Admin));
        Assert.Equal("failed", body.GetProperty("state").GetString());
        Assert.Contains("kpi-runs-poison", body.GetProperty("errors")[0].GetString());

        // The jobs were written after all, and every step ends done: the run succeeded, what went wrong still listed.
        Assert.True(await Runs.CompleteDayAsync(unsent, Aggregated, 1, default));
        Assert.True(await Runs.CompleteDayAsync(unsent, Lost, 1, default));
        Assert.True(await Runs.CompletePeriodAsync(unsent, Grain.Month, August.Key, 1, 26, default));
        run = (await Runs.GetAsync(unsent, default))!;
        Assert.Equal("succeeded", run.State);
        Assert.Single(run.Errors);
    }

    [Fact]
    public async Task A_joined_runs_poisoned_start_changes_nothing_on_it()
    {
        // It never starts: the run it joined does its work. Before, it was failed for a planning that was never its to do.
        var requestKey = $"poisoned-join-{Guid.NewGuid():N}";
        var queued = $"poisoned-joined-{Guid.NewGuid():N}";
        var joining = $"poisoned-joining-{Guid.NewGuid():N}";
        foreach (var runId in new[] { queued, joining }) Assert.True(await Runs.CreateAsync(runId, "api", ["month"], August.Key, default));
        Assert.Equal(queued, await Runs.QueueOrJoinAsync(queued, requestKey, default));
        Assert.Equal(queued, await Runs.QueueOrJoinAsync(joining, requestKey, default));
        await SendAsync(StorageNames.Queues.KpiRunsPoison, JobMessages.Write(new StartRunJob(joining)));

        await Eventually.WaitAsync(() => Task.FromResult(app.Logs.Contains($"Run {joining} joined run {queued}; its start message in kpi-runs-poison changes nothing on it")), Deadline, "the joined run's message to be read");
        Assert.Empty((await Runs.GetAsync(joining, default))!.Errors);
    }
}
