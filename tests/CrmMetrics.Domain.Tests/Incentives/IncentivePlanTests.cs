using System.Text.Json;
using CrmMetrics.Domain.Incentives;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Tests.Incentives;

public class IncentivePlanTests
{
    private static readonly PeriodCalendar Utc = PeriodCalendar.TryCreate("gregorian", "UTC", out var c, out _) ? c! : throw new InvalidOperationException();
    private static readonly Period October = Utc.Parse("2026-10", Grain.Month);

    private const string PlanJson = """
        { "name": "Sales", "grain": "month", "measure": { "indicator": "com.revenue" },
          "participants": [ { "staffId": "S-01", "quota": 50000 }, { "staffId": "S-02", "quota": 40000 }, { "staffId": "S-03", "quota": 10000 } ],
          "tiers": [ { "from": 0, "to": 100, "rate": 0.05 }, { "from": 100, "to": 150, "rate": 0.08 }, { "from": 150, "rate": 0.12 } ],
          "cap": 4000, "gates": [ { "indicator": "cx.csat", "min": 80, "factor": 0.5 } ] }
        """;

    private static IncentivePlan Plan()
    {
        using var doc = JsonDocument.Parse(PlanJson);
        var errors = new ValidationErrors();
        return IncentivePlan.Read("sales", doc.RootElement, Utc, errors) ?? throw new InvalidOperationException(errors.ToString());
    }

    private static SnapshotRow Row(string indicator, string staff, decimal? money = null, double? value = null) =>
        SnapshotRow.From(IndicatorCatalog.Find(indicator)!, "staff:" + staff, October,
            money is { } m ? IndicatorValue.Money(m, 5) : new IndicatorValue(value, 5));

    [Fact]
    public void Tiers_pay_the_part_of_the_measure_in_their_band_then_gates_then_the_cap()
    {
        var rows = IncentivePlanCalculator.Rows(Plan(), October,
        [
            // S-01: 80,000 on 50,000 = 160%: 50,000×5% + 25,000×8% + 5,000×12% = 2,500 + 2,000 + 600 = 5,100 → capped at 4,000.
            Row("com.revenue", "S-01", 80_000m), Row("cx.csat", "S-01", value: 85),
            // S-02: 30,000 on 40,000 = 75%: 30,000×5% = 1,500; csat 70 fails the gate → 750.
            Row("com.revenue", "S-02", 30_000m), Row("cx.csat", "S-02", value: 70),
            // S-03: no revenue row: 0%; no csat (null) fails the gate; payout 0.
        ]);
        decimal Payout(string staff) => rows.Single(r => r.Indicator == "staff.incentive-payout" && r.Scope == "staff:" + staff).Exact!.Value;
        double? Attainment(string staff) => rows.Single(r => r.Indicator == "staff.quota-attainment" && r.Scope == "staff:" + staff).Value;
        Assert.Equal(4000m, Payout("S-01"));
        Assert.Equal(750m, Payout("S-02"));
        Assert.Equal(0m, Payout("S-03"));
        Assert.Equal(160, Attainment("S-01")!.Value, 9);
        Assert.Equal(75, Attainment("S-02")!.Value, 9);
        Assert.Equal(0, Attainment("S-03"));

        var statement = rows.Single(r => r.Indicator == "staff.incentive-payout" && r.Scope == "staff:S-01").Details!["statement"]!;
        Assert.Equal(5100m, statement["gross"]!.GetValue<decimal>());
        Assert.Equal(2000m, statement["tiers"]![1]!["amount"]!.GetValue<decimal>());
        Assert.False(rows.Single(r => r.Indicator == "staff.incentive-payout" && r.Scope == "staff:S-02").Details!["statement"]!["gates"]![0]!["passed"]!.GetValue<bool>());
        Assert.Equal(1, rows.First(r => r.Scope == "staff:S-01").Details!["rankByPayout"]!.GetValue<int>());
        Assert.Equal(3, rows.First(r => r.Scope == "staff:S-03").Details!["rankByQuotaAttainment"]!.GetValue<int>());
    }

    [Fact]
    public void Money_stays_exact_to_the_cent()
    {
        var statement = IncentivePlanCalculator.Statement(Plan(), new Participant("S-09", 333.33m), Row("com.revenue", "S-09", 1234.57m), _ => Row("cx.csat", "S-09", value: 90));
        // 333.33×5% + 166.665×8% + 734.575×12% = 16.6665 + 13.3332 + 88.149 = 118.1487
        Assert.Equal(118.1487m, statement.Payout);
    }

    [Fact]
    public void Ranks_are_the_periods_across_every_plan_of_its_grain()
    {
        // Found by probing: ranked within each plan, a person paid nothing in one plan ranked 2nd, above one
        // paid 1,500 in another; and both plans' best were 1st.
        var other = Plan() with { PlanId = "service", Participants = [new Participant("H-01", 1000m)] };
        var rows = IncentivePlanCalculator.Rows([Plan(), other], October,
        [
            Row("com.revenue", "S-01", 80_000m), Row("cx.csat", "S-01", value: 85),
            Row("com.revenue", "S-02", 30_000m), Row("cx.csat", "S-02", value: 90),
        ]);
        int Rank(string staff) => rows.Single(r => r.Indicator == "staff.incentive-payout" && r.Scope == "staff:" + staff).Details!["rankByPayout"]!.GetValue<int>();
        Assert.Equal(1, Rank("S-01"));
        Assert.Equal(2, Rank("S-02"));
        // H-01 and S-03 were paid nothing: they share the last place of the four.
        Assert.Equal(3, Rank("H-01"));
        Assert.Equal(3, Rank("S-03"));
        Assert.All(rows, r => Assert.Equal(4, r.Details!["participants"]!.GetValue<int>()));
        Assert.Equal("service", rows.First(r => r.Scope == "staff:H-01").Details!["planId"]!.GetValue<string>());
    }

    [Fact]
    public void Ranks_share_places_on_ties() => Assert.Equal([1, 2, 2, 4], IncentivePlanCalculator.Ranks([10, 5, 5, 1]));

    [Theory]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"to":100,"rate":-0.1}]}""", "tiers[0].rate")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"to":100,"rate":0.1},{"from":90,"to":150,"rate":0.2}]}""", "tiers[1].from")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":100,"to":150,"rate":0.1},{"from":0,"to":100,"rate":0.2}]}""", "tiers[1].from")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":50,"to":40,"rate":0.1}]}""", "tiers[0].to")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1},{"from":100,"rate":0.2}]}""", "tiers[0].to")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":0}],"tiers":[{"from":0,"rate":0.1}]}""", "participants[0].quota")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1},{"staffId":"S","quota":2}],"tiers":[{"from":0,"rate":0.1}]}""", "participants[1].staffId")]
    [InlineData("""{"name":"p","grain":"month","participants":[],"tiers":[{"from":0,"rate":0.1}]}""", "participants")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[]}""", "tiers")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}],"cap":-1}""", "cap")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}],"gates":[{"indicator":"cx.mood","min":1,"factor":0.5}]}""", "gates[0].indicator")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}],"gates":[{"indicator":"cx.csat","min":1,"factor":2}]}""", "gates[0].factor")]
    [InlineData("""{"name":"p","grain":"month","measure":{"indicator":"staff.incentive-payout"},"participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}]}""", "measure.indicator")]
    // Found by probing: a lower-is-better measure was taken, so slower complaint handling paid more.
    [InlineData("""{"name":"p","grain":"month","measure":{"indicator":"cx.resolution-hours-p50"},"participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}]}""", "measure.indicator")]
    // Found by probing: 0–100 % then from 120 % paid nothing between, without a word.
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"to":100,"rate":0.1},{"from":120,"rate":0.2}]}""", "tiers[1].from")]
    // Found by probing: a gate on a lower-is-better indicator cut the payout of those who resolved complaints fastest.
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}],"gates":[{"indicator":"cx.resolution-hours-p50","min":24,"factor":0.5}]}""", "gates[0].indicator")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}],"gates":[{"indicator":"cx.complaints","min":2,"factor":0.5}]}""", "gates[0].indicator")]
    [InlineData("""{"name":"p","grain":"hourly","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}]}""", "grain")]
    public void Each_invalid_member_is_named(string json, string field)
    {
        using var doc = JsonDocument.Parse(json);
        var errors = new ValidationErrors();
        Assert.Null(IncentivePlan.Read("p", doc.RootElement, Utc, errors));
        Assert.True(errors.Has(field), errors.ToString());
    }

    [Theory]
    // Found by probing: each was ignored, so the plan measured revenue instead of orders, or paid without its gate.
    [InlineData("""{"name":"p","grain":"month","Measure":{"indicator":"com.orders"},"participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}]}""", "Measure", "measure")]
    [InlineData("""{"name":"p","grain":"month","gate":[{"indicator":"cx.csat","min":80,"factor":0}],"participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}]}""", "gate", "gates")]
    [InlineData("""{"name":"p","grain":"month","measure":{"indicatr":"com.orders"},"participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}]}""", "measure.indicatr", "indicator")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1,"Quota":2}],"tiers":[{"from":0,"rate":0.1}]}""", "participants[0].Quota", "quota")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"to":100,"rate":0.1,"rtae":0.2},{"from":100,"rate":0.2}]}""", "tiers[0].rtae", "rate")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}],"gates":[{"indicator":"cx.csat","min":80,"factor":0.5,"fator":0}]}""", "gates[0].fator", "factor")]
    public void A_member_that_misspells_one_a_plan_reads_is_refused_at_its_path(string json, string member, string meant)
    {
        using var doc = JsonDocument.Parse(json);
        var errors = new ValidationErrors();
        Assert.Null(IncentivePlan.Read("p", doc.RootElement, Utc, errors));
        Assert.Contains($"did you mean {meant}?", Assert.Single(errors.ToDictionary()[member]));
    }

    [Fact]
    public void Figures_beyond_a_decimal_never_stop_the_calculation()
    {
        // As plans stored before their bounds were checked may be: a quota of 1e-25, a tier bound of 7.9e28 % of 50,000.
        var tiny = new IncentivePlan { PlanId = "tiny", Name = "t", Grain = Grain.Month, Participants = [new Participant("S-01", 0.0000000000000000000000001m)], Tiers = [new Tier(0, null, 0.05m)] };
        var huge = new IncentivePlan
        {
            PlanId = "huge", Name = "h", Grain = Grain.Month, Participants = [new Participant("S-01", 50_000m)],
            Tiers = [new Tier(0, 100, 0.05m), new Tier(100, 79_000_000_000_000_000_000_000_000_000m, 0.08m)],
        };
        var tinyRows = IncentivePlanCalculator.Rows(tiny, October, [Row("com.revenue", "S-01", 13_600.5m)]);
        Assert.Equal(680.025m, tinyRows.Single(r => r.Indicator == "staff.incentive-payout").Exact);
        Assert.Equal(1.36005e31, tinyRows.Single(r => r.Indicator == "staff.quota-attainment").Value!.Value, 1e22);
        var hugeRows = IncentivePlanCalculator.Rows(huge, October, [Row("com.revenue", "S-01", 80_000m)]);
        Assert.Equal(2_500m + 30_000m * 0.08m, hugeRows.Single(r => r.Indicator == "staff.incentive-payout").Exact);
        // A measure below zero (a derived indicator can be) against a bound beyond a decimal's range.
        var negative = IncentivePlanCalculator.Rows(huge with { Tiers = [new Tier(79_000_000_000_000_000_000_000_000_000m, null, 0.05m)] }, October, [Row("com.revenue", "S-01", -500m)]);
        Assert.Equal(0m, negative.Single(r => r.Indicator == "staff.incentive-payout").Exact);
    }

    [Theory]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1e16}],"tiers":[{"from":0,"rate":0.1}]}""", "participants[0].quota", "must be at most 1000000000000000")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"to":79000000000000000000000000000,"rate":0.1}]}""", "tiers[0].to", "must be at most 1000000")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"to":100,"rate":0.1},{"from":2000000,"rate":0.1}]}""", "tiers[1].from", "must be at most 1000000")]
    [InlineData("""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":1}],"tiers":[{"from":0,"rate":0.1}],"cap":1e20}""", "cap", "must be at most 1000000000000000")]
    public void Quotas_caps_and_tier_bounds_have_an_upper_bound(string json, string field, string message)
    {
        using var doc = JsonDocument.Parse(json);
        var errors = new ValidationErrors();
        Assert.Null(IncentivePlan.Read("p", doc.RootElement, Utc, errors));
        Assert.True(errors.Has(field), errors.ToString());
        Assert.Contains(message, errors.ToString());
    }

    [Theory]
    [InlineData("1e-30", "is too small to keep exactly (1e-30)")]
    [InlineData("-1e-30", "must be greater than 0")]
    [InlineData("0", "must be greater than 0")]
    [InlineData("1e40", "is out of range")]
    public void An_amount_that_no_decimal_holds_is_refused_for_what_it_is(string quota, string message)
    {
        using var doc = JsonDocument.Parse($$"""{"name":"p","grain":"month","participants":[{"staffId":"S","quota":{{quota}}}],"tiers":[{"from":0,"rate":0.1}]}""");
        var errors = new ValidationErrors();
        Assert.Null(IncentivePlan.Read("p", doc.RootElement, Utc, errors));
        Assert.Contains(message, errors.ToString());
        Assert.Contains("participants[0].quota", errors.ToString());
    }

    private static IncentivePlan Version(string json, ValidationErrors errors)
    {
        using var doc = JsonDocument.Parse(json);
        return IncentivePlan.Read("p", doc.RootElement, Utc, errors)!;
    }

    private static string Body(string tiers, string? effectiveFrom = null, string grain = "month") =>
        $$"""{"name":"p","grain":"{{grain}}","participants":[{"staffId":"S","quota":100}],"tiers":{{tiers}}{{(effectiveFrom is null ? "" : $",\"effectiveFrom\":\"{effectiveFrom}\"")}}}""";

    [Theory]
    [InlineData("2026-13", "month")]
    [InlineData("December", "month")]
    [InlineData("2026-Q4", "month")]
    [InlineData("2026-12", "quarter")]
    [InlineData("2026-W50", "month")]
    [InlineData("2200-01", "month")]
    public void An_effectiveFrom_that_is_not_a_period_of_the_plans_grain_is_refused_naming_it(string key, string grain)
    {
        var errors = new ValidationErrors();
        using var doc = JsonDocument.Parse(Body("""[{"from":0,"rate":0.1}]""", key, grain));
        Assert.Null(IncentivePlan.Read("p", doc.RootElement, Utc, errors));
        Assert.True(errors.Has("effectiveFrom"), errors.ToString());
        Assert.Single(errors.ToDictionary());
    }

    [Fact]
    public void A_key_of_another_grain_says_which_grain_it_is()
    {
        var errors = new ValidationErrors();
        using var doc = JsonDocument.Parse(Body("""[{"from":0,"rate":0.1}]""", "2026-Q4"));
        IncentivePlan.Read("p", doc.RootElement, Utc, errors);
        Assert.Contains("quarter key, not a month key", Assert.Single(errors.ToDictionary()["effectiveFrom"]));
    }

    [Fact]
    public void A_dated_version_pays_its_period_and_later_ones_and_the_earlier_versions_pay_the_periods_before()
    {
        var errors = new ValidationErrors();
        var november = Utc.Parse("2026-11", Grain.Month);
        var december = Utc.Parse("2026-12", Grain.Month);
        var stored = Version(Body("""[{"from":0,"rate":0.1}]"""), errors);
        var dated = Version(Body("""[{"from":0,"rate":0.2}]""", "2026-12"), errors).Over(stored, 3, Utc, errors)!;

        Assert.Equal(0.1m, dated.VersionFor(november)!.Tiers[0].Rate);
        Assert.Equal(3, dated.VersionFor(november)!.PlanVersion);
        Assert.Equal(0.2m, dated.VersionFor(december)!.Tiers[0].Rate);
        Assert.Null(dated.VersionFor(december)!.PlanVersion);
        Assert.Equal(0.2m, dated.VersionFor(Utc.Parse("2027-03", Grain.Month))!.Tiers[0].Rate);
        Assert.Null(dated.VersionFor(Utc.Parse("2026-Q4", Grain.Quarter)));

        // A later version from an earlier period replaces the versions from there on; one without effectiveFrom replaces them all.
        var october = Version(Body("""[{"from":0,"rate":0.3}]""", "2026-10"), errors).Over(dated, 4, Utc, errors)!;
        Assert.Equal(0.1m, october.VersionFor(Utc.Parse("2026-09", Grain.Month))!.Tiers[0].Rate);
        Assert.Equal(0.3m, october.VersionFor(december)!.Tiers[0].Rate);
        Assert.Equal([null, "2026-10"], october.Versions(5).Select(v => v.EffectiveFrom));
        var undated = Version(Body("""[{"from":0,"rate":0.4}]"""), errors).Over(october, 5, Utc, errors)!;
        Assert.Null(undated.EarlierVersions);
        Assert.Equal(0.4m, undated.VersionFor(Utc.Parse("2026-09", Grain.Month))!.Tiers[0].Rate);
        Assert.True(errors.IsEmpty, errors.ToString());
    }

    [Fact]
    public void A_dated_version_of_a_new_plan_pays_nothing_before_it()
    {
        var errors = new ValidationErrors();
        var plan = Version(Body("""[{"from":0,"rate":0.2}]""", "2026-12"), errors).Over(null, 0, Utc, errors)!;
        Assert.Null(plan.VersionFor(Utc.Parse("2026-11", Grain.Month)));
        Assert.NotNull(plan.VersionFor(Utc.Parse("2026-12", Grain.Month)));
    }

    [Fact]
    public void A_dated_version_keeps_the_plans_grain()
    {
        var errors = new ValidationErrors();
        var stored = Version(Body("""[{"from":0,"rate":0.1}]"""), errors);
        Assert.Null(Version(Body("""[{"from":0,"rate":0.2}]""", "2026-Q4", "quarter"), errors).Over(stored, 1, Utc, errors));
        Assert.Contains("keeps the plan's grain", Assert.Single(errors.ToDictionary()["grain"]));
    }

    [Fact]
    public void The_same_dated_version_again_is_the_document_as_stored()
    {
        var errors = new ValidationErrors();
        var stored = Version(Body("""[{"from":0,"rate":0.2}]""", "2026-12"), errors).Over(Version(Body("""[{"from":0,"rate":0.1}]"""), errors), 1, Utc, errors)!;
        var again = Version(Body("""[{"from":0,"rate":0.2}]""", "2026-12"), errors).Over(stored, 2, Utc, errors)!;
        Assert.Equal(JsonSerializer.Serialize(stored), JsonSerializer.Serialize(again));
    }

    [Fact]
    public void A_version_pays_until_the_next_one_starts_and_the_current_one_for_good()
    {
        var errors = new ValidationErrors();
        var plan = Version(Body("""[{"from":0,"rate":0.2}]""", "2026-12"), errors).Over(Version(Body("""[{"from":0,"rate":0.1}]"""), errors), 1, Utc, errors)!;
        Assert.Equal([null, "2026-12"], plan.VersionsPayingFrom(null, 2, Utc).Select(v => v.EffectiveFrom));
        Assert.Equal([null, "2026-12"], plan.VersionsPayingFrom("2026-11", 2, Utc).Select(v => v.EffectiveFrom));
        Assert.Equal(["2026-12"], plan.VersionsPayingFrom("2026-12", 2, Utc).Select(v => v.EffectiveFrom));
        Assert.Equal([1, 2], plan.VersionsPayingFrom(null, 2, Utc).Select(v => v.PlanVersion!.Value));
    }
}
