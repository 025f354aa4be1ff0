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
/// Derived indicators, composite goals and benchmark alerts through the API, on synthetic data,
/// checked against an independent computation (<see cref="ReferenceIndicators"/> and the contract's
/// formulas written out here).
/// </summary>
public class MeasurementDepthTests(MeasurementDepthTests.Fixture app) : IClassFixture<MeasurementDepthTests.Fixture>
{
    public static readonly string[] Months = ["2026-06", "2026-07", "2026-08"];

    public sealed class Fixture : AppFixture
    {
        public List<JsonObject> Events { get; } = SyntheticCrm.Generate(new SyntheticCrmOptions
        {
            From = new DateOnly(2026, 6, 1), To = new DateOnly(2026, 8, 31), Customers = 150, Seed = 77,
        }).ToList();

        /// <summary>Competitors also report the derived blend in July, so it is benchmarked like any indicator.</summary>
        public static readonly (string Competitor, double Value)[] BlendObservations = [("Acme", 72.5), ("Globex", 64)];

        public Dictionary<string, List<JsonElement>> Rows { get; } = new();
        public List<JsonElement> Alerts { get; private set; } = [];

        protected override async Task AfterStartAsync()
        {
            await ApiDriver.IngestAsync(this, Events.Concat(BlendObservations.Select(o => new JsonObject
            {
                ["id"] = "obs-blend-" + o.Competitor, ["type"] = "competitor.observation", ["time"] = "2026-08-01T09:00:00Z",
                ["data"] = new JsonObject { ["competitor"] = o.Competitor, ["indicator"] = "derived.cx-blend", ["value"] = o.Value, ["period"] = "2026-07" },
            })));
            await Put("/api/indicators/derived.revenue-per-contact", new { name = "Revenue per contact", expression = "com.revenue / cx.interactions", unit = "currency", direction = "higher" });
            await Put("/api/indicators/derived.cx-blend", new { name = "Customer blend", nameFa = "ترکیب تجربه مشتری", expression = "cx.csat * 0.5 + cx.fcr * 0.5", unit = "%", direction = "higher" });
            // Derived over derived, with the functions: how far the blend is from the worse of its two parts.
            await Put("/api/indicators/derived.blend-spread", new { name = "Blend spread", expression = "abs(derived.cx-blend - min(cx.csat, cx.fcr)) + max(0, -1)", unit = "%", direction = "lower" });

            await Put("/api/goals/revenue", new { name = "Monthly revenue", indicator = "com.revenue", grain = "month", target = 60000 });
            await Put("/api/goals/csat", new { name = "Satisfaction", indicator = "cx.csat", grain = "month", target = 85 });
            await Put("/api/goals/resolution", new { name = "Fast resolution", indicator = "cx.resolution-hours-p90", grain = "month", target = 24 });
            await Put("/api/goals/contact-value", new { name = "Revenue per contact", indicator = "derived.revenue-per-contact", grain = "month", target = 150 });
            await Put("/api/goals/customer", new
            {
                name = "Customer side", grain = "month", maxContribution = 120,
                children = new object[] { new { goalId = "csat", weight = 50 }, new { goalId = "resolution", weight = 50 } },
            });
            await Put("/api/goals/score", new
            {
                name = "Customer-centric score", grain = "month",
                children = new object[] { new { goalId = "revenue", weight = 40 }, new { goalId = "customer", weight = 40 }, new { goalId = "contact-value", weight = 20 } },
            });

            await Put("/api/incentive-plans/sales", new
            {
                name = "Sales", grain = "month", measure = new { indicator = "com.revenue" },
                participants = new[] { new { staffId = "S-01", quota = 6000m }, new { staffId = "S-02", quota = 9000m } },
                tiers = new object[] { new { from = 0, rate = 0.05m } },
                gates = new[] { new { indicator = "derived.cx-blend", min = 70m, factor = 0.5m } },
            });

            await Put("/api/alert-rules/nps-peers", new { kind = "benchmark", indicator = "cx.nps", belowPeerMean = true });
            await Put("/api/alert-rules/nps-acme", new { kind = "benchmark", indicator = "cx.nps", gapWidening = 0, competitor = "Acme" });
            await Put("/api/alert-rules/csat-rank", new { kind = "benchmark", indicator = "cx.csat", percentileBelow = 50 });
            await Put("/api/alert-rules/blend", new { kind = "threshold", indicator = "derived.cx-blend", below = 200 });

            foreach (var month in Months) await ApiDriver.RunAsync(this, new { grain = "month", period = month });
            foreach (var month in Months) Rows[month] = await ApiDriver.SnapshotsAsync(this, $"grain=month&period={month}");
            Alerts = (await JsonAsync(await SendAsync(HttpMethod.Get, "/api/alerts?pageSize=1000", TestKeys.Reader))).GetProperty("items").EnumerateArray().ToList();
        }

        public async Task Put(string path, object body)
        {
            var response = await SendAsync(HttpMethod.Put, path, TestKeys.Admin, JsonContent.Create(body));
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    private Dictionary<(string Indicator, string Scope), double?> Reference(string month) => new ReferenceIndicators(app.Events).Month(2026, int.Parse(month[5..]));

    private Dictionary<(string, string), JsonElement> RowsOf(string month) =>
        app.Rows[month].ToDictionary(r => (r.GetProperty("indicator").GetString()!, r.GetProperty("scope").GetString()!));

    private static double? Blend(Dictionary<(string Indicator, string Scope), double?> r, string scope) =>
        r[("cx.csat", scope)] is { } csat && r[("cx.fcr", scope)] is { } fcr ? csat * 0.5 + fcr * 0.5 : null;

    private static bool Close(double? expected, double? actual) =>
        expected is null ? actual is null : actual is { } a && Math.Abs(expected.Value - a) <= 1e-9 * Math.Max(1, Math.Abs(expected.Value));

    [Theory]
    [InlineData("2026-06")]
    [InlineData("2026-07")]
    [InlineData("2026-08")]
    public void Derived_values_of_every_scope_match_the_reference(string month)
    {
        var reference = Reference(month);
        var rows = RowsOf(month);
        var mismatches = new List<string>();
        foreach (var scope in reference.Keys.Select(k => k.Scope).Distinct())
        {
            double? perContact = reference[("cx.interactions", scope)] is > 0 and var n ? reference[("com.revenue", scope)] / n : null;
            var blend = Blend(reference, scope);
            double? spread = blend is { } b && reference[("cx.csat", scope)] is { } csat && reference[("cx.fcr", scope)] is { } fcr ? Math.Abs(b - Math.Min(csat, fcr)) : null;
            foreach (var (id, expected) in new[] { ("derived.revenue-per-contact", perContact), ("derived.cx-blend", blend), ("derived.blend-spread", spread) })
            {
                if (!rows.TryGetValue((id, scope), out var row)) mismatches.Add($"{id} {scope}: missing");
                else if (!Close(expected, ApiDriver.Value(row))) mismatches.Add($"{id} {scope}: expected {expected}, got {ApiDriver.Value(row)}");
            }
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(30)));
        var sample = rows[("derived.revenue-per-contact", "org")];
        Assert.Equal(("derived", "currency", "higher"), (sample.GetProperty("family").GetString(), sample.GetProperty("unit").GetString(), sample.GetProperty("direction").GetString()));
        Assert.Equal("lower", rows[("derived.blend-spread", "org")].GetProperty("direction").GetString());
    }

    [Theory]
    [InlineData("2026-06")]
    [InlineData("2026-07")]
    [InlineData("2026-08")]
    public async Task Composite_attainments_match_the_weighted_mean_of_capped_direction_aware_children(string month)
    {
        var r = Reference(month);
        var revenue = ReferenceIndicators.Attainment(r[("com.revenue", "org")], 60000, lowerIsBetter: false);
        var csat = ReferenceIndicators.Attainment(r[("cx.csat", "org")], 85, lowerIsBetter: false);
        var resolution = ReferenceIndicators.Attainment(r[("cx.resolution-hours-p90", "org")], 24, lowerIsBetter: true);
        double? perContact = r[("cx.interactions", "org")] is > 0 and var n ? r[("com.revenue", "org")] / n : null;
        var contactValue = ReferenceIndicators.Attainment(perContact, 150, lowerIsBetter: false);
        var customer = ReferenceIndicators.Composite([(50, csat), (50, resolution)], maxContribution: 120);
        var score = ReferenceIndicators.Composite([(40, revenue), (40, customer), (20, contactValue)]);

        var body = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/goals/attainment?period={month}", TestKeys.Reader));
        var goals = body.GetProperty("items").EnumerateArray().ToDictionary(g => g.GetProperty("goalId").GetString()!);
        double? Att(string id) => goals[id].GetProperty("attainment").ValueKind == JsonValueKind.Number ? goals[id].GetProperty("attainment").GetDouble() : null;
        Assert.True(Close(contactValue, Att("contact-value")), $"contact-value: {contactValue} vs {Att("contact-value")}");
        Assert.True(Close(customer, Att("customer")), $"customer: {customer} vs {Att("customer")}");
        Assert.True(Close(score, Att("score")), $"score: {score} vs {Att("score")}");
        var expectedStatus = score is null ? "no-data" : score >= 100 ? "achieved" : "missed";
        Assert.Equal(expectedStatus, goals["score"].GetProperty("status").GetString());

        // The composite's row says why: each child's attainment, weight and contribution.
        var row = goals["score"];
        Assert.True(row.GetProperty("composite").GetBoolean());
        Assert.Equal(JsonValueKind.Null, row.GetProperty("indicator").ValueKind);
        var children = row.GetProperty("children").EnumerateArray().ToDictionary(c => c.GetProperty("goalId").GetString()!);
        Assert.Equal(["contact-value", "customer", "revenue"], children.Keys.Order());
        Assert.Equal(40, children["customer"].GetProperty("weight").GetDouble());
        Assert.True(Close(customer, children["customer"].GetProperty("attainment").GetDouble()));
        var contributions = children.Values.Where(c => c.GetProperty("contribution").ValueKind == JsonValueKind.Number).Sum(c => c.GetProperty("contribution").GetDouble());
        Assert.True(Close(score, contributions), $"contributions sum to {contributions}, score {score}");
    }

    [Fact]
    public void A_gate_on_a_derived_indicator_reads_its_value_per_staff_member()
    {
        var r = Reference("2026-07");
        var rows = RowsOf("2026-07");
        foreach (var staff in new[] { "S-01", "S-02" })
        {
            var payout = rows[("staff.incentive-payout", "staff:" + staff)];
            var gate = payout.GetProperty("details").GetProperty("statement").GetProperty("gates")[0];
            var blend = Blend(r, "staff:" + staff);
            Assert.Equal("derived.cx-blend", gate.GetProperty("indicator").GetString());
            Assert.True(Close(blend, gate.GetProperty("value").ValueKind == JsonValueKind.Number ? gate.GetProperty("value").GetDouble() : null));
            Assert.Equal(blend is >= 70, gate.GetProperty("passed").GetBoolean());
        }
    }

    [Fact]
    public void Competitors_benchmark_the_derived_indicator_and_nps_gets_no_index()
    {
        var r = Reference("2026-07");
        var rows = RowsOf("2026-07");
        var own = Blend(r, "org")!.Value;
        var acme = Fixture.BlendObservations.Single(o => o.Competitor == "Acme").Value;
        Assert.True(Close(own - acme, ApiDriver.Value(rows[("bench.gap.derived.cx-blend", "competitor:Acme")])));
        var mean = Fixture.BlendObservations.Average(o => o.Value);
        Assert.True(Close(100 * own / mean, ApiDriver.Value(rows[("bench.index.derived.cx-blend", "org")])));
        // NPS can be negative: its index means nothing and is null; gap and percentile stay.
        Assert.Null(ApiDriver.Value(rows[("bench.index.cx.nps", "org")]));
        Assert.NotNull(ApiDriver.Value(rows[("bench.percentile.cx.nps", "org")]));
        Assert.NotNull(ApiDriver.Value(rows[("bench.index.cx.csat", "org")]));
    }

    private List<(string Competitor, double Value)> Observed(string month, string indicator) => app.Events
        .Where(e => e["type"]!.GetValue<string>() == "competitor.observation" && e["data"]!["period"]!.GetValue<string>() == month && e["data"]!["indicator"]!.GetValue<string>() == indicator)
        .DistinctBy(e => e["id"]!.GetValue<string>())
        .Select(e => (e["data"]!["competitor"]!.GetValue<string>(), e["data"]!["value"]!.GetValue<double>())).ToList();

    [Fact]
    public void Alerts_are_the_ones_an_independent_reading_of_the_rules_expects()
    {
        var expected = new List<(string Kind, string Who, string Period)>();
        double? previousAcmeGap = null;
        foreach (var month in Months)
        {
            var r = Reference(month);
            // Goals: missed below 100 %, no-data without an actual; composites too.
            var revenue = ReferenceIndicators.Attainment(r[("com.revenue", "org")], 60000, false);
            var csat = ReferenceIndicators.Attainment(r[("cx.csat", "org")], 85, false);
            var resolution = ReferenceIndicators.Attainment(r[("cx.resolution-hours-p90", "org")], 24, true);
            double? perContact = r[("cx.interactions", "org")] is > 0 and var n ? r[("com.revenue", "org")] / n : null;
            var contact = ReferenceIndicators.Attainment(perContact, 150, false);
            var customer = ReferenceIndicators.Composite([(50, csat), (50, resolution)], 120);
            var score = ReferenceIndicators.Composite([(40, revenue), (40, customer), (20, contact)]);
            foreach (var (goal, attainment) in new[] { ("revenue", revenue), ("csat", csat), ("resolution", resolution), ("contact-value", contact), ("customer", customer), ("score", score) })
            {
                if (attainment is null) expected.Add(("no-data", goal, month));
                else if (attainment < 100) expected.Add(("goal-missed", goal, month));
            }
            // Benchmarks on NPS and CSAT against the observations of the month.
            var nps = r[("cx.nps", "org")];
            var peers = Observed(month, "cx.nps");
            if (nps is { } own && peers.Count > 0 && own < peers.Average(p => p.Value)) expected.Add(("benchmark", "nps-peers", month));
            var acme = peers.Single(p => p.Competitor == "Acme").Value;
            double? gap = nps - acme;
            if (gap is { } g && previousAcmeGap is { } before && before - g > 0) expected.Add(("benchmark", "nps-acme", month));
            previousAcmeGap = gap;
            var csatPeers = Observed(month, "cx.csat");
            if (r[("cx.csat", "org")] is { } ownCsat)
            {
                var percentile = 100.0 * (csatPeers.Count(p => p.Value < ownCsat) + 0.5 * csatPeers.Count(p => p.Value == ownCsat)) / csatPeers.Count;
                if (percentile < 50) expected.Add(("benchmark", "csat-rank", month));
            }
            // The blend threshold (below 200) holds wherever the blend has a value.
            expected.Add((Blend(r, "org") is null ? "no-data" : "threshold", "blend", month));
        }

        var actual = app.Alerts.Select(a =>
        {
            var data = a.GetProperty("data");
            var who = data.GetProperty("goalId").ValueKind == JsonValueKind.String ? data.GetProperty("goalId").GetString()! : data.GetProperty("ruleId").GetString()!;
            return (Kind: data.GetProperty("kind").GetString()!, Who: who, Period: data.GetProperty("period").GetString()!);
        }).ToList();
        Assert.Equal(expected.Order(), actual.Order());
        Assert.All(app.Alerts, a => Assert.Equal("open", a.GetProperty("state").GetString()));
        Assert.Contains(expected, e => e.Kind == "benchmark");

        foreach (var alert in app.Alerts.Where(a => a.GetProperty("data").GetProperty("kind").GetString() == "benchmark"))
        {
            var data = alert.GetProperty("data");
            var competitor = data.GetProperty("competitor").GetString();
            if (data.GetProperty("ruleId").GetString() == "nps-acme") Assert.Equal("Acme", competitor);
            if (competitor is not null)
            {
                Assert.Contains(competitor, data.GetProperty("message").GetString());
                Assert.Contains(competitor, data.GetProperty("messageFa").GetString());
            }
        }
        var blendAlert = app.Alerts.First(a => a.GetProperty("data").GetProperty("ruleId").GetString() == "blend");
        Assert.Contains("Customer blend", blendAlert.GetProperty("data").GetProperty("message").GetString());
        Assert.Contains("ترکیب تجربه مشتری", blendAlert.GetProperty("data").GetProperty("messageFa").GetString());
    }

    [Fact]
    public async Task A_derived_indicator_is_defined_read_listed_and_deleted_through_the_api()
    {
        var stale = app.Services.GetRequiredService<StalePeriodStore>();
        foreach (var s in await stale.ListAsync(default)) await stale.ClearAsync(s, default);

        var put = await app.SendAsync(HttpMethod.Put, "/api/indicators/derived.orders-per-customer", TestKeys.Admin,
            JsonContent.Create(new { name = "Orders per active customer", expression = "com.orders / com.active-customers", unit = "ratio", direction = "higher" }));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var created = await AppFixture.JsonAsync(put);
        Assert.Equal(["com.orders", "com.active-customers"], created.GetProperty("operands").EnumerateArray().Select(o => o.GetString()));
        Assert.True(created.GetProperty("ratioScale").GetBoolean());

        var get = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/indicators/derived.orders-per-customer", TestKeys.Reader));
        Assert.Equal("com.orders / com.active-customers", get.GetProperty("expression").GetString());
        Assert.Equal("derived", get.GetProperty("family").GetString());
        var catalog = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/indicators", TestKeys.Reader));
        Assert.Contains(catalog.EnumerateArray(), i => i.GetProperty("id").GetString() == "derived.orders-per-customer" && i.GetProperty("family").GetString() == "derived");
        Assert.Equal("commercial", (await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/indicators/com.revenue", TestKeys.Reader))).GetProperty("family").GetString());

        // Defining it marks the current and the just-closed periods stale, so the next run computes it.
        var current = DateTimeOffset.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(current, (await stale.ListAsync(default)).Select(s => s.Key));

        Assert.Equal(HttpStatusCode.NoContent, (await app.SendAsync(HttpMethod.Delete, "/api/indicators/derived.orders-per-customer", TestKeys.Admin)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.SendAsync(HttpMethod.Get, "/api/indicators/derived.orders-per-customer", TestKeys.Reader)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.SendAsync(HttpMethod.Delete, "/api/indicators/derived.orders-per-customer", TestKeys.Admin)).StatusCode);

        // In use by a goal, a plan gate, a rule and another derived indicator: refused, naming them.
        var conflict = await app.SendAsync(HttpMethod.Delete, "/api/indicators/derived.cx-blend", TestKeys.Admin);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        var detail = (await AppFixture.JsonAsync(conflict)).GetProperty("detail").GetString();
        foreach (var user in new[] { "derived indicator 'derived.blend-spread'", "incentive plan 'sales'", "alert rule 'blend'" }) Assert.Contains(user, detail);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.SendAsync(HttpMethod.Put, "/api/indicators/derived.x", TestKeys.Reader, JsonContent.Create(new { }))).StatusCode);
    }

    [Fact]
    public async Task An_instance_of_a_benchmark_pattern_is_read_as_its_rows_describe_it()
    {
        // Reads and definitions take bench.gap.<X>; GET /api/indicators/bench.gap.cx.nps was a 404.
        async Task<System.Text.Json.JsonElement> Get(string id)
        {
            var response = await app.SendAsync(HttpMethod.Get, $"/api/indicators/{id}", TestKeys.Reader);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await AppFixture.JsonAsync(response);
        }
        string[] Shape(System.Text.Json.JsonElement e) => [.. new[] { "id", "family", "unit", "direction", "kind" }.Select(n => e.GetProperty(n).GetString()!)];
        Assert.Equal(["bench.gap.cx.resolution-hours-p90", "competitor-benchmarks", "hours", "lower", "external"], Shape(await Get("bench.gap.cx.resolution-hours-p90")));
        Assert.Equal(["bench.index.derived.cx-blend", "competitor-benchmarks", "index", "higher", "external"], Shape(await Get("bench.index.derived.cx-blend")));
        Assert.Contains("Net Promoter Score", (await Get("bench.percentile.cx.nps")).GetProperty("description").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await app.SendAsync(HttpMethod.Get, "/api/indicators/bench.gap.cx.nothing", TestKeys.Reader)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.SendAsync(HttpMethod.Get, "/api/indicators/bench.gap.derived.never-defined", TestKeys.Reader)).StatusCode);
    }

    [Theory]
    [InlineData("derived.bad", """{"name":"x","expression":"com.revenue / cx.nothing","unit":"ratio","direction":"higher"}""", "expression", "'cx.nothing'")]
    [InlineData("derived.bad", """{"name":"x","expression":"cx.csat / (1 - 1)","unit":"%","direction":"higher"}""", "expression", "'(1 - 1)'")]
    [InlineData("derived.cx-blend", """{"name":"x","expression":"derived.blend-spread * 2","unit":"%","direction":"higher"}""", "expression", "cycle")]
    [InlineData("derived.bad", """{"name":"x","expression":"min(cx.csat)","unit":"%","direction":"higher"}""", "expression", "min takes two arguments")]
    [InlineData("cx.csat", """{"name":"x","expression":"cx.fcr","unit":"%","direction":"higher"}""", "id", "cannot be redefined")]
    [InlineData("derived.bad", """[1]""", "body", "JSON object")]
    public async Task Invalid_derived_indicators_are_400s_naming_the_part_and_nothing_is_stored(string id, string body, string field, string part)
    {
        async Task<string> Stored()
        {
            var response = await app.SendAsync(HttpMethod.Get, $"/api/indicators/{id}", TestKeys.Reader);
            return response.IsSuccessStatusCode ? (await AppFixture.JsonAsync(response)).GetRawText() : response.StatusCode.ToString();
        }
        var before = await Stored();
        var response = await app.SendAsync(HttpMethod.Put, $"/api/indicators/{id}", TestKeys.Admin, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await AppFixture.JsonAsync(response)).GetProperty("errors");
        Assert.Contains(errors.GetProperty(field).EnumerateArray(), m => m.GetString()!.Contains(part, StringComparison.Ordinal));
        Assert.Equal(before, await Stored());
    }

    [Fact]
    public async Task Composite_goals_round_trip_and_refuse_cycles_and_deleting_their_children()
    {
        var score = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/goals/score", TestKeys.Reader));
        Assert.True(score.GetProperty("composite").GetBoolean());
        Assert.Equal(150, score.GetProperty("maxContribution").GetDouble());
        Assert.Equal([("revenue", 40.0), ("customer", 40.0), ("contact-value", 20.0)],
            score.GetProperty("children").EnumerateArray().Select(c => (c.GetProperty("goalId").GetString()!, c.GetProperty("weight").GetDouble())));
        var customer = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/goals/customer", TestKeys.Reader));
        Assert.Equal(["score"], customer.GetProperty("partOf").EnumerateArray().Select(p => p.GetString()));

        var cycle = await app.SendAsync(HttpMethod.Put, "/api/goals/csat", TestKeys.Admin,
            JsonContent.Create(new { name = "x", grain = "month", children = new[] { new { goalId = "score", weight = 100 } } }));
        Assert.Equal(HttpStatusCode.BadRequest, cycle.StatusCode);
        var message = (await AppFixture.JsonAsync(cycle)).GetProperty("errors").GetProperty("children[0].goalId")[0].GetString();
        Assert.Contains("'score' contains 'customer' contains 'csat'", message);

        var weights = await app.SendAsync(HttpMethod.Put, "/api/goals/other", TestKeys.Admin,
            JsonContent.Create(new { name = "x", grain = "month", children = new[] { new { goalId = "csat", weight = 60 }, new { goalId = "revenue", weight = 30 } } }));
        Assert.Equal(HttpStatusCode.BadRequest, weights.StatusCode);
        Assert.True((await AppFixture.JsonAsync(weights)).GetProperty("errors").TryGetProperty("children", out _));
        Assert.Equal(HttpStatusCode.NotFound, (await app.SendAsync(HttpMethod.Get, "/api/goals/other", TestKeys.Reader)).StatusCode);

        Assert.Equal(HttpStatusCode.Conflict, (await app.SendAsync(HttpMethod.Delete, "/api/goals/customer", TestKeys.Admin)).StatusCode);
    }
}
