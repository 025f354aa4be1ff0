using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Engine;

/// <summary>
/// Alerts whose rule or goal is deleted, or whose rule is edited to watch another figure: nothing checks
/// their condition again, so the next computation of their period resolves them, saying why (found by
/// probing and in review: they stayed open for good). A paused (disabled) rule's alert and a
/// still-watched one stay open. The change itself marks their period stale, so the run the timer makes
/// (no period named) computes that closed month again (found by probing: nothing ever did, so they stayed
/// open for good), as does a goal moved away from the period; the same document put again marks nothing.
/// </summary>
public class UnwatchedAlertTests(UnwatchedAlertTests.Fixture app) : IClassFixture<UnwatchedAlertTests.Fixture>
{
    public sealed class Fixture : AppFixture
    {
        public List<JsonElement> Before { get; private set; } = [];
        public List<JsonElement> After { get; private set; } = [];
        public bool StaleAfterRuleChanges { get; private set; }
        public bool StaleAfterSameGoalAgain { get; private set; }
        public bool StaleAfterGoalMoved { get; private set; }

        private static JsonObject Fact(string id, string type, int day, JsonObject data) => new()
        {
            ["id"] = id, ["type"] = type, ["time"] = $"2026-06-{day:D2}T10:00:00Z", ["customerId"] = "U-1", ["channel"] = "web", ["data"] = data,
        };

        protected override async Task AfterStartAsync()
        {
            // June 2026: CSAT 0 % (a threshold rule below 75), revenue 100 (a goal of 1,000: missed).
            await ApiDriver.IngestAsync(this,
            [
                Fact("u-acq", "customer.acquired", 1, new JsonObject { ["segment"] = "smb", ["region"] = "north" }),
                Fact("u-o1", "order", 2, new JsonObject { ["amount"] = 100, ["currency"] = "EUR" }),
                Fact("u-s1", "survey.response", 3, new JsonObject { ["metric"] = "csat", ["score"] = 1 }),
            ]);
            await Send(HttpMethod.Put, "/api/alert-rules/csat-floor", new { kind = "threshold", indicator = "cx.csat", below = 75 });
            await Send(HttpMethod.Put, "/api/alert-rules/csat-paused", new { kind = "threshold", indicator = "cx.csat", below = 60 });
            await Send(HttpMethod.Put, "/api/alert-rules/revenue-floor", new { kind = "threshold", indicator = "com.revenue", below = 500 });
            await Send(HttpMethod.Put, "/api/alert-rules/revenue-moved", new { kind = "threshold", indicator = "com.revenue", below = 400 });
            await Send(HttpMethod.Put, "/api/goals/june-revenue", new { name = "June revenue", nameFa = "درآمد خرداد", indicator = "com.revenue", grain = "month", period = "2026-06", target = 1000 });
            await Send(HttpMethod.Put, "/api/goals/june-orders", JuneOrders);
            await ApiDriver.RunAsync(this, new { grain = "month", period = "2026-06" });
            Before = await QueueAsync();

            await Send(HttpMethod.Delete, "/api/alert-rules/csat-floor", null);
            await Send(HttpMethod.Put, "/api/alert-rules/csat-paused", new { kind = "threshold", indicator = "cx.csat", below = 60, enabled = false });
            await Send(HttpMethod.Put, "/api/alert-rules/revenue-moved", new { kind = "threshold", indicator = "com.revenue", scope = "channel:web", below = 400 });
            StaleAfterRuleChanges = await JuneIsStaleAsync();
            await Send(HttpMethod.Delete, "/api/goals/june-revenue", null);
            await ApiDriver.RunAsync(this, new { grain = "month" });
            After = await QueueAsync();
            await Send(HttpMethod.Put, "/api/goals/june-orders", JuneOrders);
            StaleAfterSameGoalAgain = await JuneIsStaleAsync();
            await Send(HttpMethod.Put, "/api/goals/june-orders", new { name = "June orders", indicator = "com.orders", grain = "month", period = "2026-05", target = 1 });
            StaleAfterGoalMoved = await JuneIsStaleAsync();
        }

        private static readonly object JuneOrders = new { name = "June orders", indicator = "com.orders", grain = "month", period = "2026-06", target = 1 };

        private async Task<bool> JuneIsStaleAsync()
        {
            var context = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/reporting-context", TestKeys.Reader));
            return context.GetProperty("grains").EnumerateArray().Single(g => g.GetProperty("grain").GetString() == "month")
                .GetProperty("periods").EnumerateArray().Single(p => p.GetProperty("key").GetString() == "2026-06").GetProperty("stale").GetBoolean();
        }

        private async Task Send(HttpMethod method, string path, object? body)
        {
            var response = await SendAsync(method, path, TestKeys.Admin, body is null ? null : JsonContent.Create(body));
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public void A_change_marks_the_closed_period_of_the_alerts_it_leaves_unwatched_and_the_same_document_again_marks_nothing()
    {
        Assert.True(app.StaleAfterRuleChanges);
        Assert.False(app.StaleAfterSameGoalAgain);
        // A goal moved to another period leaves its attainment row in the one it was for until that is computed again.
        Assert.True(app.StaleAfterGoalMoved);
    }

    [Fact]
    public async Task An_alert_whose_rule_or_goal_was_deleted_is_resolved_by_the_next_computation_saying_why()
    {
        var threshold = app.Before.Single(e => e.GetProperty("data").GetProperty("ruleId").GetString() == "csat-floor");
        var missed = app.Before.Single(e => e.GetProperty("data").GetProperty("kind").GetString() == "goal-missed");
        // A goal's nameFa (kept through the API and storage) names it in the Persian text.
        Assert.Contains("«درآمد خرداد»", missed.GetProperty("data").GetProperty("messageFa").GetString());
        Assert.Contains("“June revenue”", missed.GetProperty("data").GetProperty("message").GetString());
        var resolutions = app.After.Where(e => e.GetProperty("type").GetString() == "crm.metrics.alert.resolved")
            .ToDictionary(e => e.GetProperty("data").GetProperty("resolves").GetString()!);

        var rule = resolutions[threshold.GetProperty("id").GetString()!].GetProperty("data");
        Assert.Equal("Resolved: customer satisfaction for the organisation in June 2026 is no longer watched: alert rule “csat-floor” was deleted.",
            rule.GetProperty("message").GetString());
        Assert.Contains("قاعده هشدار «csat-floor» حذف شد", rule.GetProperty("messageFa").GetString());
        // A subscriber tells a resolution because nothing watches the alert any more from a recovery by data.reason.
        Assert.All(resolutions.Values, r => Assert.Equal("unwatched", r.GetProperty("data").GetProperty("reason").GetString()));
        var goal = resolutions[missed.GetProperty("id").GetString()!].GetProperty("data");
        Assert.Contains("goal “june-revenue” was deleted", goal.GetProperty("message").GetString());

        // A rule edited in place to another scope resolves its old alert and raises one for the new scope.
        var moved = app.Before.Single(e => e.GetProperty("data").GetProperty("ruleId").GetString() == "revenue-moved");
        Assert.Equal("Resolved: revenue for the organisation in June 2026 is no longer watched: alert rule “revenue-moved” was changed and no longer watches it.",
            resolutions[moved.GetProperty("id").GetString()!].GetProperty("data").GetProperty("message").GetString());
        Assert.Single(app.After, e => e.GetProperty("type").GetString() != "crm.metrics.alert.resolved"
                                      && e.GetProperty("data").GetProperty("ruleId").GetString() == "revenue-moved"
                                      && e.GetProperty("data").GetProperty("scope").GetString() == "channel:web");

        // A paused rule's alert, and one whose rule still watches a breach, stay open.
        var paused = app.Before.Single(e => e.GetProperty("data").GetProperty("ruleId").GetString() == "csat-paused").GetProperty("id").GetString()!;
        var watched = app.Before.Single(e => e.GetProperty("data").GetProperty("ruleId").GetString() == "revenue-floor").GetProperty("id").GetString()!;
        Assert.DoesNotContain(paused, resolutions.Keys);
        Assert.DoesNotContain(watched, resolutions.Keys);
        var states = (await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/alerts?period=2026-06&grain=month", TestKeys.Reader))).GetProperty("items").EnumerateArray()
            .Where(a => a.GetProperty("type").GetString() != "crm.metrics.alert.resolved")
            .ToDictionary(a => a.GetProperty("id").GetString()!, a => a.GetProperty("state").GetString());
        Assert.Equal("resolved", states[threshold.GetProperty("id").GetString()!]);
        Assert.Equal("resolved", states[missed.GetProperty("id").GetString()!]);
        Assert.Equal("open", states[paused]);
        Assert.Equal("open", states[watched]);
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync(HttpMethod.Get, "/api/alerts", TestKeys.Reader)).StatusCode);
    }
}
