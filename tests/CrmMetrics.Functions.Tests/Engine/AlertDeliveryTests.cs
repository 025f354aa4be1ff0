using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Samples;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Engine;

/// <summary>Alerts on the executive-alerts queue (the local stand-in for the Service Bus topic): each exactly once, nothing else, no repeats.</summary>
public class AlertDeliveryTests(AlertDeliveryTests.Fixture app) : IClassFixture<AlertDeliveryTests.Fixture>
{
    public sealed class Fixture : AppFixture
    {
        public List<JsonObject> Events { get; } = SyntheticCrm.Generate(new SyntheticCrmOptions
        {
            From = new DateOnly(2026, 6, 1), To = new DateOnly(2026, 8, 31), Customers = 150, Seed = 41,
        }).ToList();

        public static readonly string[] Months = ["2026-06", "2026-07", "2026-08"];

        protected override IEnumerable<KeyValuePair<string, string?>> Settings() => [new("CrmMetrics:DeploymentName", "test")];

        public async Task RunMonthsAsync()
        {
            foreach (var month in Months) await ApiDriver.RunAsync(this, new { grain = "month", period = month });
        }

        protected override async Task AfterStartAsync()
        {
            await ApiDriver.IngestAsync(this, Events);
            var reference = new ReferenceIndicators(Events);
            var csat = Months.Select(m => reference.Month(2026, int.Parse(m[5..]))[("cx.csat", "org")]!.Value).ToList();
            var revenue = Months.Select(m => reference.Month(2026, int.Parse(m[5..]))[("com.revenue", "org")]!.Value).ToList();
            // Every month breaches the warning bound; the worst one the critical bound.
            await Put("/api/alert-rules/csat", new { kind = "threshold", indicator = "cx.csat", below = csat.Max() + 1, criticalBelow = csat.Min() + 0.001 });
            // Only the best month reaches the revenue goal: the others are missed (critical by default).
            await Put("/api/goals/revenue", new { name = "Monthly revenue", indicator = "com.revenue", grain = "month", target = revenue.Max() });
            await RunMonthsAsync();
        }

        public async Task Put(string path, object body)
        {
            var response = await SendAsync(HttpMethod.Put, path, TestKeys.Admin, JsonContent.Create(body));
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task Each_expected_alert_is_on_the_queue_once_with_the_contract_shape_and_a_rerun_adds_nothing()
    {
        var messages = await app.QueueAsync();
        Assert.Equal(5, messages.Count);
        Assert.Equal(messages.Count, messages.Select(m => m.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal(3, messages.Count(m => m.GetProperty("type").GetString() == "crm.metrics.alert.threshold"));
        Assert.Equal(2, messages.Count(m => m.GetProperty("type").GetString() == "crm.metrics.alert.goal-missed"));
        Assert.Equal(1, messages.Count(m => m.GetProperty("type").GetString() == "crm.metrics.alert.threshold" && m.GetProperty("data").GetProperty("severity").GetString() == "critical"));
        foreach (var m in messages)
        {
            Assert.Equal("1.0", m.GetProperty("specversion").GetString());
            Assert.Equal("/crm-metrics/test", m.GetProperty("source").GetString());
            var data = m.GetProperty("data");
            Assert.Equal($"{data.GetProperty("indicator").GetString()}/{data.GetProperty("scope").GetString()}/{data.GetProperty("period").GetString()}", m.GetProperty("subject").GetString());
            Assert.False(string.IsNullOrWhiteSpace(data.GetProperty("message").GetString()));
            Assert.Matches("[\u0600-\u06FF]", data.GetProperty("messageFa").GetString());
            Assert.True(data.GetProperty("links").TryGetProperty("snapshot", out _));
        }

        // Re-running the same periods sends nothing already sent.
        await app.RunMonthsAsync();
        Assert.Equal(5, (await app.QueueAsync()).Count);

        // A worse severity of a condition already raised is a new alert: every month is now critical,
        // so the two months that were warnings raise again, the one already critical does not.
        var reference = new ReferenceIndicators(app.Events);
        var csat = Fixture.Months.Select(m => reference.Month(2026, int.Parse(m[5..]))[("cx.csat", "org")]!.Value).ToList();
        await app.Put("/api/alert-rules/csat", new { kind = "threshold", indicator = "cx.csat", below = csat.Max() + 2, criticalBelow = csat.Max() + 1 });
        await app.RunMonthsAsync();
        var after = await app.QueueAsync();
        Assert.Equal(7, after.Count);
        Assert.Equal(3, after.Count(m => m.GetProperty("type").GetString() == "crm.metrics.alert.threshold" && m.GetProperty("data").GetProperty("severity").GetString() == "critical"));
    }

    [Fact]
    public async Task Every_alert_links_to_snapshot_rows_of_its_figure_the_api_answers_with()
    {
        var alerts = (await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/alerts?since=2020-01-01", TestKeys.Reader))).GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(alerts, a => a.GetProperty("data").GetProperty("scope").GetString()!.StartsWith("goal:", StringComparison.Ordinal)
                                     || a.GetProperty("data").TryGetProperty("goalId", out _));
        foreach (var alert in alerts)
        {
            // Relative here: the tests set no public base URL.
            var link = alert.GetProperty("data").GetProperty("links").GetProperty("snapshot").GetString()!;
            var response = await app.SendAsync(HttpMethod.Get, link, TestKeys.Reader);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{link}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.NotEmpty((await AppFixture.JsonAsync(response)).GetProperty("items").EnumerateArray());
        }
        // A goal's attainment series is read with the scope its rows carry.
        var series = await app.SendAsync(HttpMethod.Get, "/api/indicators/goal.attainment/series?grain=month&from=2026-06&to=2026-08&scope=goal:revenue", TestKeys.Reader);
        Assert.True(series.StatusCode == HttpStatusCode.OK, await series.Content.ReadAsStringAsync());
        // Rules still name goals by goalId, never by a goal scope.
        var rule = await app.SendAsync(HttpMethod.Put, "/api/alert-rules/goal-scope", TestKeys.Admin, JsonContent.Create(new { kind = "threshold", indicator = "cx.csat", scope = "goal:revenue", below = 1 }));
        Assert.Equal(HttpStatusCode.BadRequest, rule.StatusCode);
        Assert.True((await AppFixture.JsonAsync(rule)).GetProperty("errors").TryGetProperty("scope", out _));
    }

    [Fact]
    public async Task Alerts_are_listed_newest_first_and_malformed_rules_are_400s()
    {
        var response = await app.SendAsync(HttpMethod.Get, "/api/alerts?since=2020-01-01", TestKeys.Reader);
        var items = (await AppFixture.JsonAsync(response)).GetProperty("items").EnumerateArray().ToList();
        Assert.True(items.Count >= 5);
        var times = items.Select(i => DateTimeOffset.Parse(i.GetProperty("time").GetString()!)).ToList();
        Assert.Equal(times.OrderDescending(), times);
        Assert.Empty((await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/alerts?since=2100-01-01", TestKeys.Reader))).GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await app.SendAsync(HttpMethod.Get, "/api/alerts?since=yesterday", TestKeys.Reader)).StatusCode);

        // Pages follow one another through the token; a token it did not give out is a 400 naming it, not a silent first page.
        var first = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/alerts?since=2020-01-01&pageSize=2", TestKeys.Reader));
        var token = first.GetProperty("continuationToken").GetString()!;
        var second = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/alerts?since=2020-01-01&pageSize=2&continuationToken={Uri.EscapeDataString(token)}", TestKeys.Reader));
        Assert.Equal(items.Skip(2).Take(2).Select(i => i.GetProperty("id").GetString()), second.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        // Any page size goes on; other filters would skip alerts silently, so the token is refused with them (found by probing the snapshots' tokens).
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync(HttpMethod.Get, $"/api/alerts?since=2020-01-01&pageSize=3&continuationToken={Uri.EscapeDataString(token)}", TestKeys.Reader)).StatusCode);
        foreach (var other in new[] { "since=2021-01-01", "since=2020-01-01&severity=critical", "since=2020-01-01&state=open", "" })
        {
            var refused = await app.SendAsync(HttpMethod.Get, $"/api/alerts?{other}&continuationToken={Uri.EscapeDataString(token)}", TestKeys.Reader);
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, other);
            Assert.Contains("another query", (await AppFixture.JsonAsync(refused)).GetProperty("errors").GetProperty("continuationToken")[0].GetString());
        }
        foreach (var wrong in new[] { "bad", "a b", "' or 1 eq 1", "log 123", token + "!", "a1." + Convert.ToBase64String("123"u8), "bG9n MjUxNjA1OTk5MjU5MTgyNTY3MS1jcm0tZTJlMmU2YWI3MGQ3YjUxMDIxODE3NDRlZTAyMWU1MmU=" })
        {
            var refused = await app.SendAsync(HttpMethod.Get, $"/api/alerts?continuationToken={Uri.EscapeDataString(wrong)}", TestKeys.Reader);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True((await AppFixture.JsonAsync(refused)).GetProperty("errors").TryGetProperty("continuationToken", out _), wrong);
        }

        var bad = await app.SendAsync(HttpMethod.Put, "/api/alert-rules/bad", TestKeys.Admin, JsonContent.Create(new { kind = "anomaly", indicator = "cx.csat", k = -1 }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await AppFixture.JsonAsync(bad)).GetProperty("errors").TryGetProperty("k", out _));
        Assert.Equal(HttpStatusCode.NotFound, (await app.SendAsync(HttpMethod.Get, "/api/alert-rules/bad", TestKeys.Admin)).StatusCode);
        // Rules are read with a reader key, as goals and plans are (api.md: reader for GET routes); only admin changes them.
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync(HttpMethod.Get, "/api/alert-rules", TestKeys.Reader)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.SendAsync(HttpMethod.Put, "/api/alert-rules/bad", TestKeys.Reader, JsonContent.Create(new { kind = "trend", indicator = "cx.nps" }))).StatusCode);
    }
}
