using System.Net;
using System.Text.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// The reporting context says which computed periods are out of date (facts that change them arrived
/// after they were computed), so the scorecard can say so, until a run brings them up to date.
/// </summary>
public class StalePeriodVisibilityTests(StalePeriodVisibilityTests.Fixture app) : IClassFixture<StalePeriodVisibilityTests.Fixture>
{
    public sealed class Fixture : AppFixture
    {
        protected override IEnumerable<KeyValuePair<string, string?>> Settings() =>
            [new("CrmMetrics:Calendar", "gregorian"), new("CrmMetrics:TimeZone", "UTC")];
    }

    private static object Order(string id, string time) => new { id, type = "order", time, customerId = "C-1", data = new { amount = 100, currency = "EUR" } };

    private async Task<JsonElement> OctoberAsync()
    {
        var context = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/reporting-context", TestKeys.Reader));
        return context.GetProperty("grains").EnumerateArray().Single(g => g.GetProperty("grain").GetString() == "month")
            .GetProperty("periods").EnumerateArray().Single(p => p.GetProperty("key").GetString() == "2026-10");
    }

    [Fact]
    public async Task A_computed_period_is_stale_from_a_late_fact_until_a_run_finalises_it_again()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(new[] { Order("v-1", "2026-10-05T10:00:00Z") })).StatusCode);
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-10" });
        var fresh = await OctoberAsync();
        Assert.True(fresh.GetProperty("computed").GetBoolean());
        Assert.False(fresh.GetProperty("stale").GetBoolean());

        // A late order of that month: its day waits to be aggregated again.
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(new[] { Order("v-2", "2026-10-20T10:00:00Z") })).StatusCode);
        Assert.True((await OctoberAsync()).GetProperty("stale").GetBoolean());

        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-10" });
        Assert.False((await OctoberAsync()).GetProperty("stale").GetBoolean());
    }

    [Fact]
    public async Task The_scopes_follow_a_periods_new_version()
    {
        // The context keeps each period version's scopes (a version's rows never change), so a new version must be read again.
        object ChannelOrder(string id, string channel) => new { id, type = "order", time = "2026-06-10T10:00:00Z", customerId = "SC-1", channel, data = new { amount = 10, currency = "EUR" } };
        async Task<List<string?>> ScopesAsync() => (await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/reporting-context", TestKeys.Reader)))
            .GetProperty("scopes").EnumerateArray().Select(s => s.GetString()).ToList();
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(new[] { ChannelOrder("sc-1", "web") })).StatusCode);
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-06" });
        Assert.Contains("channel:web", await ScopesAsync());
        Assert.DoesNotContain("channel:phone", await ScopesAsync());
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(new[] { ChannelOrder("sc-2", "phone") })).StatusCode);
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-06" });
        Assert.Contains("channel:phone", await ScopesAsync());
    }

    [Fact]
    public async Task A_run_requested_without_a_period_recomputes_the_periods_of_its_grain_late_facts_fall_in()
    {
        // Found by probing: such a run finalised only the current and just-closed month, so a late
        // fact's month kept its old figures (events.md: "recomputed by the next run").
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(new[] { Order("w-1", "2026-08-10T10:00:00Z") })).StatusCode);
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-08" });
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(new[] { Order("w-2", "2026-08-12T10:00:00Z") })).StatusCode);

        var run = await ApiDriver.RunAsync(app, new { grain = "month" });
        var periods = run.GetProperty("periods").EnumerateArray().Select(p => p.GetString()).ToList();
        Assert.Contains("2026-08", periods);
        // Only the requested grain: the late fact's week waits for the schedule.
        Assert.DoesNotContain("2026-W33", periods);
        var revenue = await ApiDriver.SnapshotsAsync(app, "grain=month&period=2026-08&indicator=com.revenue&scope=org");
        Assert.Equal(200, ApiDriver.Value(Assert.Single(revenue)));
    }

    [Fact]
    public async Task A_run_without_a_period_also_finalises_the_later_periods_its_own_aggregation_of_a_late_churn_marks()
    {
        // Found by probing: the run was planned before it aggregated the late churn's day, which marked every
        // later month stale too late for it; a month it had computed before kept its old active customers
        // beside the months before and after it, until a second run.
        var acquired = new { id = "lc-a", type = "customer.acquired", time = "2026-03-10T10:00:00Z", customerId = "LC-1" };
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(new[] { acquired })).StatusCode);
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-04" });
        async Task<double?> AprilActiveAsync() => ApiDriver.Value(Assert.Single(await ApiDriver.SnapshotsAsync(app, "grain=month&period=2026-04&indicator=com.active-customers&scope=org")));
        var before = await AprilActiveAsync();

        var churned = new { id = "lc-c", type = "customer.churned", time = "2026-03-15T10:00:00Z", customerId = "LC-1" };
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(new[] { churned })).StatusCode);
        var run = await ApiDriver.RunAsync(app, new { grain = "month" });
        Assert.Contains("2026-04", run.GetProperty("periods").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(before - 1, await AprilActiveAsync());
    }

    [Fact]
    public async Task A_day_message_delivered_again_after_its_run_succeeded_adds_no_period_to_it()
    {
        // Found in review: the message of a run's day, delivered again after the run had succeeded (a crash before
        // its deletion), reopened the run with the periods marked stale since.
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(new[] { Order("rd-1", "2025-01-12T10:00:00Z") })).StatusCode);
        var run = await ApiDriver.RunAsync(app, new { grain = "month" });
        var runId = run.GetProperty("runId").GetString()!;
        List<string?> Periods(JsonElement r) => r.GetProperty("periods").EnumerateArray().Select(p => p.GetString()).ToList();
        var observation = new { id = "rd-m", type = "market.observation", time = "2025-01-12T10:00:00Z", data = new { indicator = "market-size", value = 1000, period = "2024-07" } };
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(new[] { observation })).StatusCode); // marks 2024-07 stale

        var message = JsonSerializer.Serialize(new { runId, day = "2025-01-12" });
        using var again = await app.Client.PostAsync("/admin/functions/AggregateDay", new StringContent(JsonSerializer.Serialize(new { input = message }), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        var after = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/runs/{runId}", TestKeys.Admin));
        Assert.Equal(Periods(run), Periods(after));
        Assert.Equal("succeeded", after.GetProperty("state").GetString());
    }

    [Fact]
    public async Task The_scopes_offered_are_those_of_the_recent_periods_not_only_of_the_latest()
    {
        // Found by probing: a later month without facts took every channel and staff member off the scorecard's list.
        var sale = new { id = "ctx-1", type = "order", time = "2026-06-10T10:00:00Z", customerId = "C-ctx", channel = "fax", staffId = "S-ctx", data = new { amount = 10, currency = "EUR" } };
        var ingested = await app.PostEventsAsync(new[] { sale });
        Assert.Equal(1, (await AppFixture.JsonAsync(ingested)).GetProperty("accepted").GetInt32());
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-06" });
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-11" });
        var context = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/reporting-context", TestKeys.Reader));
        var scopes = context.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()).ToList();
        Assert.Contains("channel:fax", scopes);
        Assert.Contains("staff:S-ctx", scopes);
    }
}
