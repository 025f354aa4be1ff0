using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// A period's job delivered again after a goal was deleted. The app host serves the reads (REST, goal
/// attainment, OData) while the deliveries run in this process beside it, over the host's storage; a
/// delivery stops, or waits, after writing its rows through <see cref="PeriodFinalizer.RowsWritten"/>.
/// </summary>
public class RetriedFinalizationTests(AppFixture app) : IClassFixture<AppFixture>
{
    /// <summary>How long a read may lag a promotion: the host trusts its copy of a period's latest version for 2 s.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_retry_after_a_goal_was_deleted_serves_only_its_own_rows_and_counts_them()
    {
        // Found in review: the retry wrote the version again over the first attempt's rows, so the deleted goal's row
        // stayed, served by REST and OData, while the version recorded the retry's count (/odata/Snapshots/$count one fewer than paging read).
        await using var services = await InProcessApp.StartAsync(app.StorageConnectionString);
        var month = Month("2026-05");
        await PutGoalAsync("rr-kept", month);
        await PutGoalAsync("rr-gone", month);
        var runs = services.GetRequiredService<RunStore>();
        var runId = await runs.PlannedAsync("retry-rows", [], [month], requested: month.Key);
        var finalizer = services.GetRequiredService<PeriodFinalizer>();
        finalizer.RowsWritten = () => throw new InvalidOperationException("the delivery stops after its rows");
        try
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => finalizer.FinalizeAsync(runId, month, default));
        }
        finally
        {
            finalizer.RowsWritten = null;
        }

        await DeleteGoalAsync("rr-gone");
        var retry = await finalizer.FinalizeAsync(runId, month, default);
        Assert.DoesNotContain(retry.Rows, r => r.Scope == "goal:rr-gone");
        await AssertServedAsync(month, retry, ["rr-kept"]);

        // Read by number once a later run made a newer version the latest: still the retry's rows.
        var later = await finalizer.FinalizeAsync(await runs.PlannedAsync("retry-rows-later", [], [month], requested: month.Key), month, default);
        Assert.True(later.Version > retry.Version);
        var byNumber = await ApiDriver.SnapshotsAsync(app, $"grain=month&period={month.Key}&version={retry.Version}");
        Assert.Equal(retry.Rows.Count, byNumber.Count);
        Assert.DoesNotContain(byNumber, r => r.GetProperty("scope").GetString() == "goal:rr-gone");
    }

    [Fact]
    public async Task A_retry_promoted_while_the_first_delivery_still_runs_stays_the_version_read_whole()
    {
        // The first delivery reserves the version and waits after writing its rows (its lease ran out); a second delivery
        // runs whole meanwhile, after a goal was deleted. Neither may leave rows of the other in the version read, and
        // the first, finishing late, does not put its rows (with the deleted goal's) back.
        await using var services = await InProcessApp.StartAsync(app.StorageConnectionString);
        var month = Month("2026-06");
        await PutGoalAsync("rr-both", month);
        await PutGoalAsync("rr-first", month);
        var runId = await services.GetRequiredService<RunStore>().PlannedAsync("retry-rows-twice", [], [month], requested: month.Key);
        var finalizer = services.GetRequiredService<PeriodFinalizer>();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        finalizer.RowsWritten = async () =>
        {
            if (Interlocked.Increment(ref calls) != 1) return;
            held.SetResult();
            await release.Task;
        };
        try
        {
            var first = finalizer.FinalizeAsync(runId, month, default);
            await held.Task.WaitAsync(Deadline);
            await DeleteGoalAsync("rr-first");
            var second = await finalizer.FinalizeAsync(runId, month, default);
            await AssertServedAsync(month, second, ["rr-both"]);

            release.SetResult();
            var firstDone = await first.WaitAsync(Deadline);
            Assert.Equal(second.Version, firstDone.Version);
            // It ends the period on the retry's rows, its alerts judged on them: the retry may have stopped before raising
            // them, its message then finding the period done (found in review).
            Assert.True(firstDone.IsLatest);
            Assert.DoesNotContain(firstDone.Rows, r => r.Scope == "goal:rr-first");
            Assert.Equal(second.Rows.Count, firstDone.Rows.Count);
            await AssertServedAsync(month, second, ["rr-both"]);
        }
        finally
        {
            release.TrySetResult();
            finalizer.RowsWritten = null;
        }
    }

    private static Period Month(string key) => new PeriodCalendar(ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse(key, Grain.Month);

    /// <summary>
    /// Every read of the period shows exactly <paramref name="finalized"/>'s rows and goals: REST pages, a filtered
    /// REST read, the goal attainment API and OData; and <c>/odata/Snapshots/$count</c> counts what OData pages read.
    /// </summary>
    private async Task AssertServedAsync(Period month, FinalizedPeriod finalized, string[] goals)
    {
        // OData and the goal attainment API read the latest version as stored.
        var paged = await ODataRowsAsync("/odata/Snapshots");
        var count = await app.SendAsync(HttpMethod.Get, "/odata/Snapshots/$count", TestKeys.Reader);
        Assert.Equal(HttpStatusCode.OK, count.StatusCode);
        Assert.Equal(paged.Count.ToString(CultureInfo.InvariantCulture), await count.Content.ReadAsStringAsync());
        Assert.Equal(finalized.Rows.Count, (await ODataRowsAsync($"/odata/Snapshots?$filter=Period eq '{month.Key}'")).Count);
        var odataGoals = await ODataRowsAsync($"/odata/GoalAttainment?$filter=Period eq '{month.Key}'");
        Assert.Equal(goals.Order(), odataGoals.Select(r => r.GetProperty("goalId").GetString()!).Order());
        var attainment = await OkAsync($"/api/goals/attainment?period={month.Key}");
        Assert.Equal(goals.Order(), attainment.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("goalId").GetString()!).Order());

        // GET /api/snapshots may answer from the host's copy of the latest version for up to 2 s after another process promoted one.
        var query = $"grain=month&period={month.Key}";
        var expected = Summary(finalized.Rows.Count, goals.Select(g => "goal:" + g));
        await Eventually.WaitAsync(async () =>
        {
            var rows = await ApiDriver.SnapshotsAsync(app, query);
            return Summary(rows.Count, rows.Select(r => r.GetProperty("scope").GetString()!).Where(s => s.StartsWith("goal:", StringComparison.Ordinal)));
        }, served => served == expected, Deadline, $"GET /api/snapshots?{query} to serve {expected}");
        var attainmentRows = await ApiDriver.SnapshotsAsync(app, query + "&indicator=goal.attainment");
        Assert.Equal(goals.Select(g => "goal:" + g).Order(), attainmentRows.Select(r => r.GetProperty("scope").GetString()!).Order());
    }

    private static string Summary(int rows, IEnumerable<string> goalScopes) => $"{rows} rows, goals [{string.Join(", ", goalScopes.Order())}]";

    private async Task<JsonElement> OkAsync(string url)
    {
        var response = await app.SendAsync(HttpMethod.Get, url, TestKeys.Reader);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await AppFixture.JsonAsync(response);
    }

    /// <summary>Every entity of an OData query, following <c>@odata.nextLink</c>.</summary>
    private async Task<List<JsonElement>> ODataRowsAsync(string url)
    {
        var rows = new List<JsonElement>();
        for (string? next = url; next is not null;)
        {
            var page = await OkAsync(next);
            rows.AddRange(page.GetProperty("value").EnumerateArray());
            next = page.TryGetProperty("@odata.nextLink", out var link) ? new Uri(link.GetString()!).PathAndQuery : null;
        }
        return rows;
    }

    private async Task PutGoalAsync(string id, Period month)
    {
        var response = await app.SendAsync(HttpMethod.Put, $"/api/goals/{id}", TestKeys.Admin,
            JsonContent.Create(new { name = id, indicator = "com.orders", grain = "month", period = month.Key, target = 10 }));
        Assert.True(response.IsSuccessStatusCode, $"PUT {id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task DeleteGoalAsync(string id) =>
        Assert.Equal(HttpStatusCode.NoContent, (await app.SendAsync(HttpMethod.Delete, $"/api/goals/{id}", TestKeys.Admin)).StatusCode);
}
