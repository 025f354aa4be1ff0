using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Samples;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Engine;

/// <summary>Reading snapshots: filters, paging across periods, CSV, series, versions, and bad parameters.</summary>
public class SnapshotReadTests(SnapshotReadTests.Fixture app) : IClassFixture<SnapshotReadTests.Fixture>
{
    public sealed class Fixture : AppFixture
    {
        public List<JsonObject> Events { get; } = SyntheticCrm.Generate(new SyntheticCrmOptions
        {
            From = new DateOnly(2026, 3, 1), To = new DateOnly(2026, 4, 30), Customers = 60, Seed = 21, CompetitorObservations = false,
        }).ToList();

        public JsonElement FirstRun { get; private set; }
        public JsonElement SecondRun { get; private set; }

        protected override async Task AfterStartAsync()
        {
            await ApiDriver.IngestAsync(this, Events);
            FirstRun = await ApiDriver.RunAsync(this, new { grain = "month", period = "2026-03" });
            await ApiDriver.RunAsync(this, new { grain = "month", period = "2026-04" });
            await ApiDriver.RunAsync(this, new { grain = "week", period = "2026-W14" });
            SecondRun = await ApiDriver.RunAsync(this, new { grain = "month", period = "2026-03" });
        }
    }

    [Fact]
    public async Task Paging_with_continuation_tokens_returns_every_row_once_across_periods()
    {
        var all = await ApiDriver.SnapshotsAsync(app, "grain=month");
        var paged = await ApiDriver.SnapshotsAsync(app, "grain=month&pageSize=37");
        Assert.Equal(all.Count, paged.Count);
        Assert.Equal(all.Select(Key).Order(), paged.Select(Key).Order());
        Assert.Equal(all.Count, all.Select(Key).Distinct().Count());
        Assert.Equal(["2026-03", "2026-04"], all.Select(r => r.GetProperty("period").GetString()).Distinct().Order());
    }

    [Fact]
    public async Task Pages_go_on_in_the_version_they_started_in_when_a_run_recomputes_the_period_meanwhile()
    {
        // Found by probing: a period recomputed between two pages mixed both versions' rows, repeating some.
        static async Task<(List<JsonElement> Rows, string? Token)> Page(AppFixture app, string query)
        {
            var body = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/snapshots?" + query, TestKeys.Reader));
            var token = body.GetProperty("continuationToken").ValueKind == JsonValueKind.String ? body.GetProperty("continuationToken").GetString() : null;
            return (body.GetProperty("items").EnumerateArray().Select(e => e.Clone()).ToList(), token);
        }
        var (rows, token) = await Page(app, "period=2026-W14&pageSize=10");
        var started = rows[0].GetProperty("version").GetInt32();
        var all = await ApiDriver.SnapshotsAsync(app, "period=2026-W14");
        Assert.NotNull(token);

        await ApiDriver.RunAsync(app, new { grain = "week", period = "2026-W14" });
        Assert.NotEqual(started, (await ApiDriver.SnapshotsAsync(app, "period=2026-W14&pageSize=1"))[0].GetProperty("version").GetInt32());
        while (token is not null)
        {
            var next = await Page(app, $"period=2026-W14&pageSize=10&continuationToken={Uri.EscapeDataString(token)}");
            rows.AddRange(next.Rows);
            token = next.Token;
        }
        Assert.All(rows, r => Assert.Equal(started, r.GetProperty("version").GetInt32()));
        Assert.Equal(all.Select(Key).Order(), rows.Select(Key).Order());
    }

    [Fact]
    public async Task A_continuation_token_is_refused_with_filters_other_than_its_own()
    {
        // Found by probing: a token from one query, sent with other filters, silently skipped rows.
        var first = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/snapshots?grain=month&period=2026-03&pageSize=5", TestKeys.Reader));
        var token = Uri.EscapeDataString(first.GetProperty("continuationToken").GetString()!);
        foreach (var other in new[] { "indicator=cx.nps", "grain=month", "grain=month&period=2026-04", "grain=month&period=2026-03&scope=org", "grain=month&period=2026-03&version=1" })
        {
            var response = await app.SendAsync(HttpMethod.Get, $"/api/snapshots?{other}&continuationToken={token}", TestKeys.Reader);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{other}: {(int)response.StatusCode}");
            Assert.Contains("another query", (await AppFixture.JsonAsync(response)).GetProperty("errors").GetProperty("continuationToken")[0].GetString());
        }
        // With its own filters it goes on, whatever the page size.
        var next = await app.SendAsync(HttpMethod.Get, $"/api/snapshots?period=2026-03&pageSize=7&continuationToken={token}", TestKeys.Reader);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(7, (await AppFixture.JsonAsync(next)).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Filters_narrow_the_rows()
    {
        var revenue = await ApiDriver.SnapshotsAsync(app, "period=2026-03&indicator=com.revenue");
        Assert.NotEmpty(revenue);
        Assert.All(revenue, r => Assert.Equal("com.revenue", r.GetProperty("indicator").GetString()));
        var org = await ApiDriver.SnapshotsAsync(app, "period=2026-03&grain=month&scope=org&family=customer-experience");
        Assert.All(org, r => Assert.Equal(("org", "customer-experience"), (r.GetProperty("scope").GetString(), r.GetProperty("family").GetString())));
        Assert.Contains(org, r => r.GetProperty("indicator").GetString() == "cx.nps");
        var week = await ApiDriver.SnapshotsAsync(app, "period=2026-W14");
        Assert.All(week, r => Assert.Equal("week", r.GetProperty("grain").GetString()));
    }

    [Fact]
    public async Task A_recomputation_is_a_new_latest_version_and_the_earlier_one_stays_readable()
    {
        var latest = await ApiDriver.SnapshotsAsync(app, "period=2026-03&indicator=com.orders&scope=org");
        var row = Assert.Single(latest);
        Assert.Equal(2, row.GetProperty("version").GetInt32());
        Assert.Equal(app.SecondRun.GetProperty("runId").GetString(), row.GetProperty("runId").GetString());
        var first = Assert.Single(await ApiDriver.SnapshotsAsync(app, "period=2026-03&indicator=com.orders&scope=org&version=1"));
        Assert.Equal(app.FirstRun.GetProperty("runId").GetString(), first.GetProperty("runId").GetString());
        Assert.Equal(row.GetProperty("value").GetDouble(), first.GetProperty("value").GetDouble());
    }

    [Theory]
    [InlineData("period=2026-03&version=3", "its latest version is 2")]  // found by probing: 200 with no rows
    [InlineData("period=2026-03&version=3&indicator=com.orders", "its latest version is 2")]
    [InlineData("period=2019-03&version=1", "the period has not been computed")]
    public async Task A_version_that_does_not_exist_is_a_404_saying_which_exist(string query, string detail)
    {
        var response = await app.SendAsync(HttpMethod.Get, $"/api/snapshots?{query}", TestKeys.Reader);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await AppFixture.JsonAsync(response);
        Assert.Contains("version", problem.GetProperty("detail").GetString());
        Assert.Contains(detail, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Csv_has_the_contract_columns_in_the_invariant_culture()
    {
        var request = app.Request(HttpMethod.Get, "/api/snapshots?period=2026-03&scope=org", TestKeys.Reader);
        request.Headers.Add("Accept", "text/csv");
        var response = await app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("Accept", response.Headers.Vary);
        // Found by probing: saved from a browser, the file had no name ending in .csv.
        Assert.Equal("crm-snapshots-2026-03.csv", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("indicator,family,scope,grain,period,value,unit,direction,kind,factCount,computedAt,runId,version", lines[0]);
        var revenue = lines.Single(l => l.StartsWith("com.revenue,", StringComparison.Ordinal)).Split(',');
        Assert.Matches(@"^\d+(\.\d+)?$", revenue[5]);
        Assert.Contains(lines, l => l.Contains("\"per 1,000\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_series_lists_the_latest_value_of_each_period_in_order()
    {
        var response = await app.SendAsync(HttpMethod.Get, "/api/indicators/com.orders/series?grain=month&from=2026-01&to=2026-12", TestKeys.Reader);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await AppFixture.JsonAsync(response);
        var points = body.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(["2026-03", "2026-04"], points.Select(p => p.GetProperty("period").GetString()));
        Assert.All(points, p => Assert.Equal("org", p.GetProperty("scope").GetString()));
    }

    [Theory]
    [InlineData("/api/snapshots?period=2026-13", "period")]
    [InlineData("/api/snapshots?period=2026-03%27%20or%20%271%27%3D%271", "period")]
    [InlineData("/api/snapshots?grain=decade", "grain")]
    [InlineData("/api/snapshots?indicator=cx.nps%27%20or%20true", "indicator")]
    [InlineData("/api/snapshots?indicator=com.revenue&family=finance", "family")]
    [InlineData("/api/snapshots?scope=galaxy:far", "scope")]
    [InlineData("/api/snapshots?scope=", "scope")]
    [InlineData("/api/snapshots?scope=staff:X%20Y", "scope")]  // found by probing: 200 with no items, while the scorecard route refused the same id
    [InlineData("/api/snapshots?pageSize=100000", "pageSize")]
    [InlineData("/api/snapshots?continuationToken=not-a-token", "continuationToken")]
    [InlineData("/api/snapshots?grain=week&period=2026-03", "period")]
    [InlineData("/api/snapshots?version=1", "version")]
    [InlineData("/api/snapshots?period=2026-03&period=2026-04", "period")]
    [InlineData("/api/indicators/cx.happiness/series", "id")]
    [InlineData("/api/indicators/cx.nps/series?from=2026-05&to=2026-01", "to")]
    public async Task A_bad_parameter_is_a_400_naming_it(string url, string parameter)
    {
        var response = await app.SendAsync(HttpMethod.Get, url, TestKeys.Reader);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await AppFixture.JsonAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), problem.ToString());
    }

    [Fact]
    public async Task The_catalog_lists_every_base_indicator_with_its_metadata()
    {
        var catalog = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/indicators", TestKeys.Reader));
        var nps = catalog.EnumerateArray().Single(i => i.GetProperty("id").GetString() == "cx.nps");
        Assert.Equal(("customer-experience", "score", "higher", "external"),
            (nps.GetProperty("family").GetString(), nps.GetProperty("unit").GetString(), nps.GetProperty("direction").GetString(), nps.GetProperty("kind").GetString()));
        Assert.True(catalog.GetArrayLength() >= 20);
    }

    private static string Key(JsonElement row) =>
        $"{row.GetProperty("grain").GetString()}|{row.GetProperty("period").GetString()}|{row.GetProperty("indicator").GetString()}|{row.GetProperty("scope").GetString()}";
}
