using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>POST /api/runs refuses periods no fact can fall in: their empty snapshots would stay in the reporting context for good.</summary>
public class RunRequestTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Theory]
    [InlineData("month", "2099-12", "is in the future")]
    [InlineData("month", "9999-12", "years ahead")]
    [InlineData("day", "0001-01-01", "the earliest day a fact may have")]
    [InlineData("year", "1899", "the earliest day a fact may have")]
    public async Task A_period_no_fact_can_fall_in_is_a_400_naming_the_period(string grain, string period, string why)
    {
        var response = await app.SendAsync(HttpMethod.Post, "/api/runs", TestKeys.Admin, JsonContent.Create(new { grain, period }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await AppFixture.JsonAsync(response)).GetProperty("errors");
        Assert.Contains(why, errors.GetProperty("period")[0].GetString());
    }

    [Fact]
    public async Task A_run_that_ends_says_so_in_the_log_with_its_figures()
    {
        // Found by probing: the log told each period done, never the run; an operator had to ask GET /api/runs/{id}.
        var run = await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-09" });
        var runId = run.GetProperty("runId").GetString()!;
        await Eventually.WaitAsync(() => Task.FromResult(app.Logs.Contains($"Run {runId} succeeded: ")), TimeSpan.FromSeconds(30), "the run's end in the log");
        Assert.Contains(app.Logs.Lines, l => l.Contains($"Run {runId} succeeded: ") && l.Contains(" 1 periods, ") && l.Contains(" 0 errors, "));
    }

    [Fact]
    public async Task A_misspelt_period_is_a_400_rather_than_a_run_of_every_period()
    {
        // Found by probing: "perod" was ignored, so the run computed every stale period instead of 2026-10.
        var response = await app.SendAsync(HttpMethod.Post, "/api/runs", TestKeys.Admin, JsonContent.Create(new { grain = "month", perod = "2026-10" }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await AppFixture.JsonAsync(response)).GetProperty("errors");
        Assert.Contains("did you mean period?", errors.GetProperty("perod")[0].GetString());
    }

    [Fact]
    public async Task The_current_period_and_the_first_day_facts_may_have_are_accepted()
    {
        // A day back, so the month is not ahead of the app's own time zone at a month's turn.
        var today = DateTime.UtcNow.AddDays(-1);
        foreach (var (grain, period) in new[] { ("month", $"{today:yyyy-MM}"), ("day", "1900-01-01") })
        {
            var response = await app.SendAsync(HttpMethod.Post, "/api/runs", TestKeys.Admin, JsonContent.Create(new { grain, period }));
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{grain} {period}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task Requests_posted_together_join_the_run_still_queued_and_it_ends_for_all_of_them()
    {
        // Found by probing: 36 runs posted at once each planned every dirty day and stayed queued for over 20 minutes.
        // A run like theirs is queued and held (its start message not sent yet), so no request races the first
        // request's start (left to that race, all eight once started their own on a loaded machine).
        var runs = app.Services.GetRequiredService<RunStore>();
        var held = $"held-{Guid.NewGuid():N}";
        Assert.True(await runs.CreateAsync(held, "api", ["month"], "2026-07", default));
        Assert.Equal(held, await runs.QueueOrJoinAsync(held, RunStore.RequestKey(["month"], "2026-07"), default));

        // Each request races its own start message, sent before it joins: one whose run began planning first keeps its
        // own and is told so. Eight at a time until some joined (a round where all eight lost their races is possible, if rare).
        var own = new List<string>();
        var joined = 0;
        for (var round = 0; round < 5 && joined == 0; round++)
        {
            var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                var response = await app.SendAsync(HttpMethod.Post, "/api/runs", TestKeys.Admin, JsonContent.Create(new { grain = "month", period = "2026-07" }));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                return await AppFixture.JsonAsync(response);
            }));
            Assert.All(answers, a =>
            {
                var runId = a.GetProperty("runId").GetString();
                Assert.Equal(runId == held, a.GetProperty("joined").GetBoolean());
                Assert.Equal($"/api/runs/{runId}", a.GetProperty("status").GetString());
            });
            joined += answers.Count(a => a.GetProperty("joined").GetBoolean());
            own.AddRange(answers.Select(a => a.GetProperty("runId").GetString()!).Where(r => r != held));
        }
        Assert.True(joined > 0, "no request of five rounds of eight joined the queued run");
        Assert.Equal(own.Count, own.Distinct().Count());

        // Released: the run they joined starts, and ends for all of them; so do those that kept their own.
        await app.Storage.Queue(StorageNames.Queues.KpiRuns).SendMessageAsync(JobMessages.Write(new StartRunJob(held)));
        foreach (var runId in own.Prepend(held))
        {
            var run = await Eventually.WaitAsync(async () => await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/runs/{runId}", TestKeys.Admin)),
                r => r.GetProperty("state").GetString() is "succeeded" or "failed", TimeSpan.FromMinutes(2), $"run {runId} to end");
            Assert.Equal("succeeded", run.GetProperty("state").GetString());
        }
        await Eventually.WaitAsync(() => Task.FromResult(app.Logs.Contains("joined run ") && app.Logs.Contains("nothing to start")), TimeSpan.FromSeconds(30), "the joined requests' own runs to be told apart");
    }

    [Fact]
    public async Task Identical_requests_sent_together_get_one_run()
    {
        // Found by probing: sent at once, identical requests mostly got runs of their own, since the first run's start
        // message went out before the others could join it, and its planning began at once. Now it is held back a moment.
        // The host polls kpi-runs without pause while messages keep coming there (start messages of runs that do not
        // exist, which start nothing), as in a busy app: a start message not held back is taken at once.
        using var busy = new CancellationTokenSource();
        var starts = app.Storage.Queue(StorageNames.Queues.KpiRuns);
        var stream = Task.Run(async () =>
        {
            while (!busy.IsCancellationRequested)
            {
                await starts.SendMessageAsync(JobMessages.Write(new StartRunJob($"absent-{Guid.NewGuid():N}")));
                await Task.Delay(50);
            }
        });
        await Eventually.WaitAsync(() => Task.FromResult(app.Logs.Contains("does not exist; nothing to start")), TimeSpan.FromSeconds(30), "the host to take kpi-runs messages");
        // All four at once (not one and then three, which on a loaded machine spread the later ones past the hold).
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
            await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Post, "/api/runs", TestKeys.Admin, JsonContent.Create(new { grain = "month", period = "2026-06" })))));
        busy.Cancel();
        await stream;
        var runId = Assert.Single(answers.Select(a => a.GetProperty("runId").GetString()!).Distinct());
        Assert.Single(answers, a => !a.GetProperty("joined").GetBoolean());
        var run = await Eventually.WaitAsync(async () => await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/runs/{runId}", TestKeys.Admin)),
            r => r.GetProperty("state").GetString() is "succeeded" or "failed", TimeSpan.FromMinutes(2), $"run {runId} to end");
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_run_that_joined_another_reads_that_runs_progress_under_its_own_id()
    {
        // Found in review: the joining run never starts, and its own id (logged when it joins) read queued for ever.
        var runs = app.Services.GetRequiredService<RunStore>();
        var requestKey = $"joined-{Guid.NewGuid():N}";
        var queued = $"joined-queued-{Guid.NewGuid():N}";
        var joining = $"joined-joining-{Guid.NewGuid():N}";
        foreach (var runId in new[] { queued, joining }) Assert.True(await runs.CreateAsync(runId, "api", ["month"], "2026-05", default));
        Assert.Equal(queued, await runs.QueueOrJoinAsync(queued, requestKey, default));
        Assert.Equal(queued, await runs.QueueOrJoinAsync(joining, requestKey, default));

        async Task<JsonElement> ReadJoiningAsync()
        {
            var response = await app.SendAsync(HttpMethod.Get, $"/api/runs/{joining}", TestKeys.Admin);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await AppFixture.JsonAsync(response);
            Assert.Equal(joining, body.GetProperty("runId").GetString());
            Assert.Equal(queued, body.GetProperty("joinedTo").GetString());
            return body;
        }
        Assert.Equal("queued", (await ReadJoiningAsync()).GetProperty("state").GetString());

        // The run joined plans, runs and ends: the joining id says so too.
        var may = new PeriodCalendar(ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse("2026-05", Grain.Month);
        await runs.PlanAsync(queued, [new DateOnly(2026, 5, 3)], [may], default);
        Assert.Equal("running", (await ReadJoiningAsync()).GetProperty("state").GetString());
        Assert.True(await runs.CompleteDayAsync(queued, new DateOnly(2026, 5, 3), 7, default));
        Assert.True(await runs.CompletePeriodAsync(queued, Grain.Month, "2026-05", 4, 26, default));
        var ended = await ReadJoiningAsync();
        Assert.Equal("succeeded", ended.GetProperty("state").GetString());
        Assert.Equal(["2026-05"], ended.GetProperty("periods").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(26, ended.GetProperty("snapshots").GetInt32());
        // A run that joined none names none.
        var own = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/runs/{queued}", TestKeys.Admin));
        Assert.Equal(JsonValueKind.Null, own.GetProperty("joinedTo").ValueKind);
    }
}
