using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Samples;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Engine;

/// <summary>
/// Dated incentive plan versions: a version with <c>effectiveFrom</c> pays that period and later ones, so a
/// plan edited in August leaves July paid as it was; a PUT without it replaces the plan for every period, as before.
/// </summary>
public class PlanVersionTests(PlanVersionTests.Fixture app) : IClassFixture<PlanVersionTests.Fixture>
{
    /// <summary>Months as the tests compute them: UTC, Gregorian, whatever the machine's settings.</summary>
    public sealed class Fixture : AppFixture
    {
        public List<JsonObject> Events { get; } = SyntheticCrm.Generate(new SyntheticCrmOptions
        {
            From = new DateOnly(2026, 7, 1), To = new DateOnly(2026, 8, 31), Customers = 40, Seed = 31,
        }).ToList();

        protected override IEnumerable<KeyValuePair<string, string?>> Settings() =>
            [new("CrmMetrics:Calendar", "gregorian"), new("CrmMetrics:TimeZone", "UTC")];

        protected override Task AfterStartAsync() => ApiDriver.IngestAsync(this, Events);
    }

    private static JsonObject Plan(decimal rate, string? effectiveFrom = null, string grain = "month", string staff = "S-01")
    {
        var plan = new JsonObject
        {
            ["name"] = "Versions", ["grain"] = grain,
            ["participants"] = new JsonArray(new JsonObject { ["staffId"] = staff, ["quota"] = 1000m }),
            ["tiers"] = new JsonArray(new JsonObject { ["from"] = 0, ["rate"] = rate }),
        };
        if (effectiveFrom is not null) plan["effectiveFrom"] = effectiveFrom;
        return plan;
    }

    private async Task<HttpResponseMessage> PutAsync(string planId, JsonNode body) =>
        await app.SendAsync(HttpMethod.Put, $"/api/incentive-plans/{planId}", TestKeys.Admin, new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));

    /// <summary>The payout row of a staff member and month, after a run that computes the month.</summary>
    private async Task<JsonElement> PayoutAfterRunAsync(string month, string staff = "S-01")
    {
        await ApiDriver.RunAsync(app, new { grain = "month", period = month });
        return Assert.Single(await ApiDriver.SnapshotsAsync(app, $"grain=month&period={month}&indicator=staff.incentive-payout&scope=staff:{staff}"));
    }

    private static decimal Payout(JsonElement row) => row.GetProperty("details").GetProperty("payout").GetDecimal();
    private static decimal Measure(JsonElement row) => row.GetProperty("details").GetProperty("measureValue").GetDecimal();
    private static int PlanVersion(JsonElement row) => row.GetProperty("details").GetProperty("planVersion").GetInt32();

    [Fact]
    public async Task A_dated_version_leaves_the_months_before_it_paid_as_they_were_and_an_undated_put_changes_every_month()
    {
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("pv-sales", Plan(0.1m))).StatusCode);
        var july = await PayoutAfterRunAsync("2026-07");
        Assert.True(Measure(july) > 0, july.ToString());
        Assert.Equal(Measure(july) * 0.1m, Payout(july));

        // August's plan pays 20 %: July, computed again, keeps its 10 % and the version it was paid under.
        var dated = await PutAsync("pv-sales", Plan(0.2m, "2026-08"));
        Assert.Equal(HttpStatusCode.OK, dated.StatusCode);
        Assert.Equal("\"2\"", dated.Headers.ETag?.ToString());
        var julyAgain = await PayoutAfterRunAsync("2026-07");
        Assert.Equal(Payout(july), Payout(julyAgain));
        Assert.Equal(1, PlanVersion(julyAgain));
        var august = await PayoutAfterRunAsync("2026-08");
        Assert.Equal(Measure(august) * 0.2m, Payout(august));
        Assert.Equal(2, PlanVersion(august));

        // The plan read with GET shows the current version and every version; sent back as it is, it changes nothing.
        var read = await app.SendAsync(HttpMethod.Get, "/api/incentive-plans/pv-sales", TestKeys.Reader);
        var shown = JsonNode.Parse(await read.Content.ReadAsStringAsync())!;
        Assert.Equal("2026-08", shown["effectiveFrom"]!.GetValue<string>());
        var versions = shown["versions"]!.AsArray();
        Assert.Equal([null, "2026-08"], versions.Select(v => v!["effectiveFrom"]?.GetValue<string>()));
        Assert.Equal([1, 2], versions.Select(v => v!["planVersion"]!.GetValue<int>()));
        Assert.Equal(0.1m, versions[0]!["tiers"]![0]!["rate"]!.GetValue<decimal>());
        var again = await PutAsync("pv-sales", shown);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("\"2\"", again.Headers.ETag?.ToString());

        // Without effectiveFrom a PUT replaces the plan for every period, as it always has.
        Assert.Equal(HttpStatusCode.OK, (await PutAsync("pv-sales", Plan(0.3m))).StatusCode);
        var julyUndated = await PayoutAfterRunAsync("2026-07");
        Assert.Equal(Measure(july) * 0.3m, Payout(julyUndated));
        Assert.Equal(3, PlanVersion(julyUndated));
        Assert.Equal(Measure(august) * 0.3m, Payout(await PayoutAfterRunAsync("2026-08")));
        var undated = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/incentive-plans/pv-sales", TestKeys.Reader));
        Assert.Equal(JsonValueKind.Null, undated.GetProperty("effectiveFrom").ValueKind);
        Assert.Single(undated.GetProperty("versions").EnumerateArray());
    }

    [Fact]
    public async Task A_dated_version_of_a_new_plan_pays_nothing_before_it()
    {
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("pv-new", Plan(0.1m, "2026-08", staff: "S-02"))).StatusCode);
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-07" });
        Assert.Empty(await ApiDriver.SnapshotsAsync(app, "grain=month&period=2026-07&indicator=staff.incentive-payout&scope=staff:S-02"));
        var august = await PayoutAfterRunAsync("2026-08", "S-02");
        Assert.Equal(Measure(august) * 0.1m, Payout(august));
    }

    [Fact]
    public async Task A_dated_version_marks_stale_only_the_due_periods_it_pays()
    {
        await app.Storage.InitializeAsync(default);
        var stale = app.Services.GetRequiredService<StalePeriodStore>();
        var now = DateTimeOffset.UtcNow;
        var (current, closed) = ($"{now:yyyy-MM}", $"{now.AddMonths(-1):yyyy-MM}");
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("pv-stale", Plan(0.1m, staff: "S-03"))).StatusCode);
        foreach (var mark in await stale.ListAsync(default)) await stale.ClearAsync(mark, default);

        Assert.Equal(HttpStatusCode.OK, (await PutAsync("pv-stale", Plan(0.2m, current, staff: "S-03"))).StatusCode);
        var keys = (await stale.ListAsync(default)).Select(s => s.Key).ToList();
        Assert.Contains(current, keys);
        Assert.DoesNotContain(closed, keys);
    }

    [Theory]
    [InlineData("\"2026-13\"", "effectiveFrom")]
    [InlineData("\"2026-Q3\"", "effectiveFrom")]
    [InlineData("7", "effectiveFrom")]
    public async Task An_effectiveFrom_that_is_not_a_month_is_a_400_naming_it(string effectiveFrom, string field)
    {
        var body = Plan(0.1m, staff: "S-04");
        body["effectiveFrom"] = JsonNode.Parse(effectiveFrom);
        var response = await PutAsync("pv-bad", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await AppFixture.JsonAsync(response)).GetProperty("errors").TryGetProperty(field, out _));
        Assert.Equal(HttpStatusCode.NotFound, (await app.SendAsync(HttpMethod.Get, "/api/incentive-plans/pv-bad", TestKeys.Reader)).StatusCode);
    }

    [Fact]
    public async Task A_dated_version_keeps_the_plans_grain_and_a_staff_member_moves_between_plans_from_a_period_on()
    {
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("pv-from", Plan(0.1m, staff: "S-05"))).StatusCode);
        var grain = await PutAsync("pv-from", Plan(0.1m, "2026-Q3", grain: "quarter", staff: "S-05"));
        Assert.Equal(HttpStatusCode.BadRequest, grain.StatusCode);
        Assert.True((await AppFixture.JsonAsync(grain)).GetProperty("errors").TryGetProperty("grain", out _));

        // S-05 leaves pv-from in August and joins pv-to from then on; not before, when pv-from still pays them.
        Assert.Equal(HttpStatusCode.OK, (await PutAsync("pv-from", Plan(0.1m, "2026-08", staff: "S-06"))).StatusCode);
        var early = await PutAsync("pv-to", Plan(0.2m, "2026-07", staff: "S-05"));
        Assert.Equal(HttpStatusCode.BadRequest, early.StatusCode);
        Assert.True((await AppFixture.JsonAsync(early)).GetProperty("errors").TryGetProperty("participants[0].staffId", out _));
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("pv-to", Plan(0.2m, "2026-08", staff: "S-05"))).StatusCode);

        var july = await PayoutAfterRunAsync("2026-07", "S-05");
        Assert.Equal("pv-from", july.GetProperty("details").GetProperty("planId").GetString());
        var august = await PayoutAfterRunAsync("2026-08", "S-05");
        Assert.Equal("pv-to", august.GetProperty("details").GetProperty("planId").GetString());
        Assert.Equal(Measure(august) * 0.2m, Payout(august));
    }

    [Fact]
    public async Task A_dated_version_sent_on_a_version_read_before_another_change_is_refused_and_changes_nothing()
    {
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("pv-match", Plan(0.1m, staff: "S-04"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync("pv-match", Plan(0.2m, "2026-08", staff: "S-04"))).StatusCode);

        var request = app.Request(HttpMethod.Put, "/api/incentive-plans/pv-match", TestKeys.Admin,
            new StringContent(Plan(0.3m, "2026-09", staff: "S-04").ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        request.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await app.Client.SendAsync(request)).StatusCode);

        var read = await app.SendAsync(HttpMethod.Get, "/api/incentive-plans/pv-match", TestKeys.Reader);
        Assert.Equal("\"2\"", read.Headers.ETag?.ToString());
        Assert.Equal("2026-08", (await AppFixture.JsonAsync(read)).GetProperty("effectiveFrom").GetString());
    }

    [Fact]
    public async Task Versions_changed_in_a_body_are_refused_naming_them_and_change_nothing()
    {
        // Found in review: versions was taken and ignored, so an earlier version's quota changed there answered 200 and stayed as it was.
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("pv-edit", Plan(0.1m, staff: "S-07"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync("pv-edit", Plan(0.2m, "2026-08", staff: "S-07"))).StatusCode);
        var shown = JsonNode.Parse(await (await app.SendAsync(HttpMethod.Get, "/api/incentive-plans/pv-edit", TestKeys.Reader)).Content.ReadAsStringAsync())!;
        shown["versions"]![0]!["participants"]![0]!["quota"] = 500m;

        var edited = await PutAsync("pv-edit", shown);
        Assert.Equal(HttpStatusCode.BadRequest, edited.StatusCode);
        var problem = await AppFixture.JsonAsync(edited);
        Assert.StartsWith("is read-only", problem.GetProperty("errors").GetProperty("versions")[0].GetString());
        var read = await app.SendAsync(HttpMethod.Get, "/api/incentive-plans/pv-edit", TestKeys.Reader);
        Assert.Equal("\"2\"", read.Headers.ETag?.ToString());
        Assert.Equal(1000m, (await AppFixture.JsonAsync(read)).GetProperty("versions")[0].GetProperty("participants")[0].GetProperty("quota").GetDecimal());
    }

    [Fact]
    public async Task Dated_versions_past_what_a_plan_holds_are_a_400_naming_effectiveFrom_and_each_change_records_its_version_alone()
    {
        // Found in review: a plan keeps its earlier versions, and each change recorded them all again before and after,
        // so a large plan's second dated version failed with a 500. Years, so the month runs of the other tests pay none of it.
        var plan = Plan(0.1m, grain: "year");
        plan["participants"] = new JsonArray(Enumerable.Range(1, 5000).Select(i => (JsonNode)new JsonObject { ["staffId"] = $"L-{i:D4}", ["quota"] = 1000m }).ToArray());
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("pv-large", plan)).StatusCode);
        plan["effectiveFrom"] = "2026";
        Assert.Equal(HttpStatusCode.OK, (await PutAsync("pv-large", plan)).StatusCode);

        plan["effectiveFrom"] = "2027";
        var third = await PutAsync("pv-large", plan);
        Assert.Equal(HttpStatusCode.BadRequest, third.StatusCode);
        var message = (await AppFixture.JsonAsync(third)).GetProperty("errors").GetProperty("effectiveFrom")[0].GetString();
        Assert.Contains("the plan with its 3 version(s) would take", message);
        Assert.Equal("\"2\"", (await app.SendAsync(HttpMethod.Get, "/api/incentive-plans/pv-large", TestKeys.Reader)).Headers.ETag?.ToString());

        var changes = (await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/audit?kind=incentive-plan&id=pv-large", TestKeys.Admin)))
            .GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([2, 1], changes.Select(c => c.GetProperty("version").GetInt32()));
        Assert.Equal("2026", changes[0].GetProperty("after").GetProperty("effectiveFrom").GetString());
        Assert.False(changes[0].GetProperty("after").TryGetProperty("earlierVersions", out _));
        Assert.Equal(HttpStatusCode.NoContent, (await app.SendAsync(HttpMethod.Delete, "/api/incentive-plans/pv-large", TestKeys.Admin)).StatusCode);
    }
}
