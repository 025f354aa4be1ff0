using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;
using Xunit.Abstractions;

namespace CrmMetrics.Functions.Tests.Engine;

/// <summary>
/// The sample dataset with the definitions in <c>seeds/</c> (derived indicators, goals with the
/// composite "customer-centric score", plans), loaded through the API as the demo does: the
/// definitions are accepted, and the months the demo shows read as the issue asks — an honest
/// "no data" in July 2025, a composite that explains itself, derived rows, no NPS index.
/// </summary>
public class SeedDefinitionsTests(SeedDefinitionsTests.Fixture app, ITestOutputHelper output) : IClassFixture<SeedDefinitionsTests.Fixture>
{
    public sealed class Fixture : AppFixture
    {
        public static string Seeds
        {
            get
            {
                for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "CrmMetrics.sln"))) return Path.Combine(dir.FullName, "seeds");
                }
                throw new InvalidOperationException("The repository root (CrmMetrics.sln) was not found above " + AppContext.BaseDirectory);
            }
        }

        public List<JsonElement> Alerts { get; private set; } = [];

        protected override async Task AfterStartAsync()
        {
            foreach (var file in Directory.GetFiles(Seeds, "*.ndjson").Order(StringComparer.Ordinal))
            {
                var response = await SendAsync(HttpMethod.Post, "/api/events", TestKeys.Writer, new StringContent(await File.ReadAllTextAsync(file), new MediaTypeHeaderValue("application/x-ndjson")));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
            // The order the demo defines them in: derived indicators first, since goals and plans may name them.
            await DefineAsync("derived-indicators.json", "id", "/api/indicators/");
            await DefineAsync("goals.json", "goalId", "/api/goals/");
            await DefineAsync("incentive-plans.json", "planId", "/api/incentive-plans/");
            await ApiDriver.RunAsync(this, new { grain = "month", period = "2026-10" }, TimeSpan.FromMinutes(6));
            await ApiDriver.RunAsync(this, new { grain = "month", period = "2025-07" });
            Alerts = (await JsonAsync(await SendAsync(HttpMethod.Get, "/api/alerts?pageSize=1000", TestKeys.Reader))).GetProperty("items").EnumerateArray().ToList();
        }

        private async Task DefineAsync(string file, string idMember, string route)
        {
            using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Seeds, file)));
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                var response = await SendAsync(HttpMethod.Put, route + item.GetProperty(idMember).GetString(), TestKeys.Admin,
                    new StringContent(item.GetRawText(), System.Text.Encoding.UTF8, "application/json"));
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{file}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
    }

    private async Task<Dictionary<string, JsonElement>> GoalsAsync(string period) =>
        (await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/goals/attainment?period={period}", TestKeys.Reader)))
        .GetProperty("items").EnumerateArray().ToDictionary(g => g.GetProperty("goalId").GetString()!);

    private static double? Num(JsonElement e, string member) => e.GetProperty(member).ValueKind == JsonValueKind.Number ? e.GetProperty(member).GetDouble() : null;

    [Fact]
    public async Task The_customer_centric_score_lists_what_each_child_contributed()
    {
        var score = (await GoalsAsync("2026-10"))["customer-centric"];
        Assert.True(score.GetProperty("composite").GetBoolean());
        var children = score.GetProperty("children").EnumerateArray().ToList();
        Assert.Equal(["csat-monthly", "resolution-p90", "fcr-monthly"], children.Select(c => c.GetProperty("goalId").GetString()));
        Assert.Equal([40.0, 30.0, 30.0], children.Select(c => c.GetProperty("weight").GetDouble()));
        var attainment = Num(score, "attainment")!.Value;
        Assert.Equal(attainment, children.Sum(c => Num(c, "contribution") ?? 0), 9);
        output.WriteLine($"customer-centric 2026-10: {score.GetProperty("status").GetString()} {attainment:0.0}% " +
                         string.Join(", ", children.Select(c => $"{c.GetProperty("goalId").GetString()} w{c.GetProperty("weight").GetDouble()} att {Num(c, "attainment"):0.0} → {Num(c, "contribution"):0.0}")));
    }

    [Fact]
    public async Task The_derived_indicators_of_the_seeds_are_snapshot_rows_of_every_scope()
    {
        var rows = await ApiDriver.SnapshotsAsync(app, "grain=month&period=2026-10&scope=org");
        double? V(string id) => ApiDriver.Value(rows.Single(r => r.GetProperty("indicator").GetString() == id));
        Assert.Equal(V("com.revenue")!.Value / V("cx.interactions")!.Value, V("derived.revenue-per-contact")!.Value, 9);
        Assert.Equal(V("cx.csat")!.Value * 0.5 + V("cx.fcr")!.Value * 0.5, V("derived.service-blend")!.Value, 9);
        var derived = await ApiDriver.SnapshotsAsync(app, "grain=month&period=2026-10&family=derived");
        Assert.Contains(derived, r => r.GetProperty("scope").GetString()!.StartsWith("staff:", StringComparison.Ordinal));
        Assert.Contains(derived, r => r.GetProperty("scope").GetString()!.StartsWith("channel:", StringComparison.Ordinal));
        output.WriteLine($"2026-10 org: revenue per contact {V("derived.revenue-per-contact"):0.00}, service blend {V("derived.service-blend"):0.0}%");
    }

    [Fact]
    public async Task July_2025_without_surveys_reads_no_data_never_missed_or_unknown()
    {
        var goals = await GoalsAsync("2025-07");
        Assert.Equal("no-data", goals["csat-monthly"].GetProperty("status").GetString());
        Assert.Equal("no-data", goals["customer-centric"].GetProperty("status").GetString());
        var july = app.Alerts.Where(a => a.GetProperty("data").GetProperty("period").GetString() == "2025-07").ToList();
        Assert.DoesNotContain(july, a => a.GetProperty("data").GetProperty("goalId").GetString() == "csat-monthly" && a.GetProperty("data").GetProperty("kind").GetString() != "no-data");
        var csat = july.Single(a => a.GetProperty("data").GetProperty("goalId").GetString() == "csat-monthly").GetProperty("data");
        Assert.Equal("No customer satisfaction surveys were recorded for the organisation in July 2025, so goal “Customer satisfaction” (target 70%) cannot be measured.",
            csat.GetProperty("message").GetString());
        Assert.Single(july, a => a.GetProperty("data").GetProperty("goalId").GetString() == "customer-centric");
        Assert.All(app.Alerts, a => Assert.DoesNotContain("unknown", a.GetProperty("data").GetProperty("message").GetString()));
        Assert.All(app.Alerts, a => Assert.DoesNotContain("نامعلوم", a.GetProperty("data").GetProperty("messageFa").GetString()));
        foreach (var a in july) output.WriteLine($"{a.GetProperty("data").GetProperty("kind").GetString()}: {a.GetProperty("data").GetProperty("message").GetString()}");
    }

    [Fact]
    public async Task The_nps_index_is_null_and_its_gap_and_percentile_stay()
    {
        var rows = (await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/benchmarks?period=2026-10", TestKeys.Reader))).GetProperty("items").EnumerateArray().ToList();
        JsonElement Row(string id, string scope = "org") => rows.Single(r => r.GetProperty("indicator").GetString() == id && r.GetProperty("scope").GetString() == scope);
        Assert.Null(ApiDriver.Value(Row("bench.index.cx.nps")));
        Assert.NotNull(ApiDriver.Value(Row("bench.percentile.cx.nps")));
        Assert.NotNull(ApiDriver.Value(Row("bench.gap.cx.nps", "competitor:Acme")));
        Assert.NotNull(ApiDriver.Value(Row("bench.index.cx.csat")));
    }

    [Fact]
    public async Task The_alerts_about_a_period_are_listed_on_their_own_page_by_page()
    {
        bool About(JsonElement a, string period) => a.GetProperty("data").TryGetProperty("period", out var p) && p.GetString() == period
            && a.GetProperty("data").GetProperty("grain").GetString() == "month";
        var expected = app.Alerts.Where(a => About(a, "2025-07")).Select(a => a.GetProperty("id").GetString()).ToList();
        Assert.True(expected.Count > 2, $"the seeds raise {expected.Count} alerts about July 2025");
        Assert.Contains(app.Alerts, a => !About(a, "2025-07"));

        var seen = new List<string?>();
        string? token = null;
        do
        {
            var page = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get,
                "/api/alerts?grain=month&period=2025-07&pageSize=2" + (token is null ? "" : "&continuationToken=" + Uri.EscapeDataString(token)), TestKeys.Reader));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("id").GetString()));
            token = page.GetProperty("continuationToken").ValueKind == JsonValueKind.String ? page.GetProperty("continuationToken").GetString() : null;
        } while (token is not null);
        Assert.Equal(expected, seen);

        // The grain may be left to the key, as elsewhere.
        var inferred = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/alerts?period=2025-07&pageSize=1000", TestKeys.Reader));
        Assert.Equal(expected, inferred.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("id").GetString()));
    }

    [Theory]
    [InlineData("severity=critical", "severity", "critical")]
    [InlineData("severity=warning", "severity", "warning")]
    [InlineData("kind=no-data", "kind", "no-data")]
    [InlineData("kind=goal-missed", "kind", "goal-missed")]
    public async Task The_alerts_can_be_filtered_by_severity_and_kind(string query, string member, string value)
    {
        var expected = app.Alerts.Where(a => a.GetProperty("data").GetProperty(member).GetString() == value).Select(a => a.GetProperty("id").GetString()).ToList();
        Assert.NotEmpty(expected);
        Assert.True(expected.Count < app.Alerts.Count);
        var listed = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/alerts?{query}&pageSize=1000", TestKeys.Reader));
        Assert.Equal(expected, listed.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task The_alerts_can_be_filtered_by_state_with_the_other_filters()
    {
        foreach (var state in new[] { "open", "resolved" })
        {
            var listed = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/alerts?state={state}&severity=warning&period=2025-07&pageSize=1000", TestKeys.Reader));
            var expected = app.Alerts.Where(a => a.GetProperty("state").GetString() == state && a.GetProperty("data").GetProperty("severity").GetString() == "warning"
                                                 && a.GetProperty("data").GetProperty("period").GetString() == "2025-07").Select(a => a.GetProperty("id").GetString()).ToList();
            if (state == "open") Assert.NotEmpty(expected);
            Assert.Equal(expected, listed.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("id").GetString()));
        }
        Assert.NotEmpty((await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/alerts?state=open&pageSize=1000", TestKeys.Reader))).GetProperty("items").EnumerateArray());
    }

    [Theory]
    [InlineData("severity=urgent", "severity")]
    [InlineData("kind=panic", "kind")]
    [InlineData("state=closed", "state")]
    [InlineData("grain=month", "period")]
    [InlineData("period=2025-13", "period")]
    [InlineData("grain=fortnight&period=2025-07", "grain")]
    [InlineData("grain=week&period=2025-07", "period")]
    public async Task A_bad_alert_period_filter_is_a_400_naming_the_parameter_once(string query, string field)
    {
        var response = await app.SendAsync(HttpMethod.Get, "/api/alerts?" + query, TestKeys.Reader);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Single((await AppFixture.JsonAsync(response)).GetProperty("errors").GetProperty(field).EnumerateArray());
    }
}
