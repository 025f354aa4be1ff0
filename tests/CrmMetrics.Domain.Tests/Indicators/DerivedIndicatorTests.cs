using System.Text.Json;
using CrmMetrics.Domain.Benchmarks;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Tests.Indicators;

public class DerivedIndicatorTests
{
    private static readonly PeriodCalendar Utc = PeriodCalendar.TryCreate("gregorian", "UTC", out var c, out _) ? c! : throw new InvalidOperationException();
    private static readonly Period October = Utc.Parse("2026-10", Grain.Month);

    private static DerivedIndicator D(string id, string expression, string unit = "score", Direction direction = Direction.Higher) =>
        new() { Id = id, Name = id, Expression = expression, Unit = unit, Direction = direction };

    private static (DerivedIndicator? Indicator, ValidationErrors Errors) Read(string id, string json, params DerivedIndicator[] others)
    {
        using var doc = JsonDocument.Parse(json);
        var errors = new ValidationErrors();
        return (DerivedIndicator.Read(id, doc.RootElement, others.ToDictionary(o => o.Id), errors), errors);
    }

    private static SnapshotRow Row(string indicator, string scope, double? value, long facts = 5) =>
        SnapshotRow.From(IndicatorCatalog.Find(indicator)!, scope, October, new IndicatorValue(value, facts));

    [Fact]
    public void A_valid_definition_reads_with_its_unit_direction_and_kind()
    {
        var (d, errors) = Read("derived.revenue-per-contact", """{"name":"Revenue per contact","expression":"com.revenue / cx.interactions","unit":"currency","direction":"higher"}""");
        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.Equal(("currency", Direction.Higher, IndicatorKind.Internal), (d!.Unit, d.Direction, d.Kind));
    }

    [Fact]
    public void A_member_that_misspells_one_a_definition_reads_is_refused_naming_the_one_meant()
    {
        var (d, errors) = Read("derived.x", """{"name":"x","expression":"cx.csat","unit":"%","direction":"higher","Kind":"external"}""");
        Assert.Null(d);
        Assert.Contains("did you mean kind?", Assert.Single(errors.ToDictionary()["Kind"]));
    }

    [Theory]
    [InlineData("revenue-per-contact", """{"name":"x","expression":"cx.csat","unit":"%","direction":"higher"}""", "id", "derived.<name>")]
    [InlineData("cx.csat", """{"name":"x","expression":"cx.fcr","unit":"%","direction":"higher"}""", "id", "cannot be redefined")]
    [InlineData("derived.bad name", """{"name":"x","expression":"cx.fcr","unit":"%","direction":"higher"}""", "id", "derived.<name>")]
    [InlineData("derived.x", """{"name":"x","expression":"cx.happiness * 2","unit":"%","direction":"higher"}""", "expression", "'cx.happiness' is not an indicator")]
    [InlineData("derived.x", """{"name":"x","expression":"com.revenue-cx.complaints","unit":"%","direction":"higher"}""", "expression", "put a space before '-'")]
    [InlineData("derived.x", """{"name":"x","expression":"goal.attainment + 1","unit":"%","direction":"higher"}""", "expression", "'goal.attainment' cannot be an operand")]
    [InlineData("derived.x", """{"name":"x","expression":"bench.gap.cx.nps","unit":"%","direction":"higher"}""", "expression", "cannot be an operand")]
    [InlineData("derived.x", """{"name":"x","expression":"cx.csat / (3 - 3)","unit":"%","direction":"higher"}""", "expression", "divides by zero: '(3 - 3)'")]
    [InlineData("derived.x", """{"name":"x","expression":"derived.x + 1","unit":"%","direction":"higher"}""", "expression", "refers to the indicator itself")]
    [InlineData("derived.x", """{"name":"x","expression":"42","unit":"%","direction":"higher"}""", "expression", "at least one indicator")]
    [InlineData("derived.x", """{"name":"x","expression":"cx.csat +","unit":"%","direction":"higher"}""", "expression", "ends where")]
    [InlineData("derived.x", """{"name":"x","expression":"cx.csat","unit":"","direction":"higher"}""", "unit", "1–32 characters")]
    [InlineData("derived.x", """{"name":"x","expression":"cx.csat","unit":"%","direction":"up"}""", "direction", "must be one of")]
    [InlineData("derived.x", """{"expression":"cx.csat","unit":"%","direction":"higher"}""", "name", "is required")]
    [InlineData("derived.x", """{"name":"x","expression":5,"unit":"%","direction":"higher"}""", "expression", "must be a string")]
    public void Each_problem_names_its_field_and_the_part_of_the_expression(string id, string json, string field, string problem)
    {
        var (d, errors) = Read(id, json);
        Assert.Null(d);
        Assert.True(errors.Has(field), errors.ToString());
        Assert.Contains(errors.ToDictionary()[field], m => m.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void A_cycle_through_other_definitions_is_refused_naming_the_chain()
    {
        var a = D("derived.a", "derived.b * 2");
        var b = D("derived.b", "cx.csat + 1");
        // Redefining b to read a closes b → a → b.
        var (d, errors) = Read("derived.b", """{"name":"b","expression":"derived.a / 2","unit":"%","direction":"higher"}""", a);
        Assert.Null(d);
        Assert.Contains("derived.b → derived.a → derived.b", errors.ToDictionary()["expression"][0]);
        Assert.True(Read("derived.c", """{"name":"c","expression":"derived.a - derived.b","unit":"%","direction":"higher"}""", a, b).Errors.IsEmpty);
    }

    [Fact]
    public void Rows_exist_for_every_scope_where_the_operands_do_derived_over_derived_included()
    {
        var indicators = new IndicatorResolver([
            D("derived.per-contact-k", "derived.revenue-per-contact / 1000", "currency"), // reads the next one: order is by dependency
            D("derived.revenue-per-contact", "com.revenue / cx.interactions", "currency"),
        ]);
        IReadOnlyList<SnapshotRow> rows =
        [
            Row("com.revenue", "org", 12_000, 30), Row("cx.interactions", "org", 400, 400),
            Row("com.revenue", "channel:web", 0, 0), Row("cx.interactions", "channel:web", 0, 0),
            Row("com.revenue", "staff:S-1", 500, 3), // no interactions row: no derived row in this scope
        ];
        var derived = DerivedIndicatorCalculator.Rows(October, rows, indicators).ToDictionary(r => (r.Indicator, r.Scope));
        Assert.Equal(30, derived[("derived.revenue-per-contact", "org")].Value);
        Assert.Equal(0.03, derived[("derived.per-contact-k", "org")].Value!.Value, 12);
        Assert.Null(derived[("derived.revenue-per-contact", "channel:web")].Value);       // 0 / 0
        Assert.Null(derived[("derived.per-contact-k", "channel:web")].Value);            // null operand
        Assert.False(derived.ContainsKey(("derived.revenue-per-contact", "staff:S-1")));
        var row = derived[("derived.revenue-per-contact", "org")];
        Assert.Equal((Families.Derived, "currency", 400L), (row.Family, row.Unit, row.FactCount));
        Assert.Equal("com.revenue / cx.interactions", row.Details!["expression"]!.GetValue<string>());
    }

    [Fact]
    public void A_definition_in_a_stored_cycle_is_left_out_not_looped_on()
    {
        var indicators = new IndicatorResolver([D("derived.a", "derived.b + 1"), D("derived.b", "derived.a + 1"), D("derived.c", "cx.csat * 2")]);
        Assert.Equal(["derived.c"], indicators.Ordered.Select(d => d.Id));
        Assert.Single(DerivedIndicatorCalculator.Rows(October, [Row("cx.csat", "org", 70)], indicators));
    }

    [Fact]
    public void The_resolver_knows_derived_ids_for_goals_plans_rules_and_benchmarks()
    {
        var indicators = new IndicatorResolver([D("derived.cx-blend", "cx.csat * 0.5 + cx.fcr * 0.5", "%"), D("derived.net", "cx.csat - cx.fcr", "%")]);
        Assert.True(indicators.IsKnown("derived.cx-blend"));
        Assert.True(indicators.IsKnown("bench.gap.derived.cx-blend"));
        Assert.False(indicators.IsKnown("derived.unknown"));
        Assert.True(indicators.IsPerScope("derived.cx-blend"));
        Assert.True(indicators.IsRatioScale("derived.cx-blend"));
        Assert.False(indicators.IsRatioScale("derived.net"));
        Assert.False(indicators.IsRatioScale("cx.nps"));
        Assert.Equal(Families.Derived, indicators.Find("derived.net")!.Family);
        // Reads accept any well-formed derived id (a deleted definition's rows stay readable); writes need the definition.
        Assert.True(IndicatorCatalog.IsKnown("derived.unknown"));
        Assert.False(IndicatorCatalog.IsKnown("derived."));
        Assert.True(IndicatorCatalog.IsDerivedId("derived.Revenue_per.contact"));
        Assert.False(IndicatorCatalog.IsDerivedId("derived.-x"));
        Assert.False(IndicatorCatalog.IsDerivedId("derived.x."));
    }

    [Fact]
    public void Competitors_reporting_a_derived_indicator_get_gap_percentile_and_an_index_only_on_a_ratio_scale()
    {
        var indicators = new IndicatorResolver([D("derived.cx-blend", "cx.csat * 0.5 + cx.fcr * 0.5", "%"), D("derived.net", "cx.csat - cx.fcr", "%")]);
        var own = new[]
        {
            SnapshotRow.From(indicators.Find("derived.cx-blend")!, "org", October, new IndicatorValue(70, 1)),
            SnapshotRow.From(indicators.Find("derived.net")!, "org", October, new IndicatorValue(10, 1)),
        };
        var rows = BenchmarkCalculator.Rows(October, own, [new("Acme", "derived.cx-blend", 80), new("Acme", "derived.net", 20)],
            new Dictionary<string, Domain.Aggregation.DealTally>(), indicators);
        double? V(string id, string scope = "org") => rows.Single(r => r.Indicator == id && r.Scope == scope).Value;
        Assert.Equal(-10, V("bench.gap.derived.cx-blend", "competitor:Acme"));
        Assert.Equal(100 * 70 / 80.0, V("bench.index.derived.cx-blend")!.Value, 9);
        Assert.Null(V("bench.index.derived.net"));
        Assert.Equal(0, V("bench.percentile.derived.net"));
    }
}
