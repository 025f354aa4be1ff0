using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Benchmarks;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;

namespace CrmMetrics.Domain.Tests.Benchmarks;

public class BenchmarkCalculatorTests
{
    private static readonly PeriodCalendar Utc = PeriodCalendar.TryCreate("gregorian", "UTC", out var c, out _) ? c! : throw new InvalidOperationException();
    private static readonly Period Month = Utc.Parse("2026-10", Grain.Month);

    private static SnapshotRow Org(string indicator, double value) =>
        SnapshotRow.From(IndicatorCatalog.Find(indicator)!, Scope.Org, Month, indicator == "com.revenue" ? IndicatorValue.Money((decimal)value, 1) : new IndicatorValue(value, 1));

    private static readonly IReadOnlyList<SnapshotRow> Own = [Org("com.revenue", 200_000), Org("cx.nps", 30), Org("cx.resolution-hours-p90", 20)];

    private static readonly IReadOnlyList<CompetitorFigure> Figures =
    [
        new(null, "market-size", 2_000_000),
        new("Acme", "market-share", 25), new("Globex", "market-share", 5),
        new("Acme", "cx.nps", 40), new("Globex", "cx.nps", 30), new("Initech", "cx.nps", 10),
        new("Acme", "cx.resolution-hours-p90", 10), new("Globex", "cx.resolution-hours-p90", 40),
    ];

    private static double? Value(IReadOnlyList<SnapshotRow> rows, string indicator, string scope = "org") => rows.Single(r => r.Indicator == indicator && r.Scope == scope).Value;

    [Fact]
    public void Market_share_and_relative_share()
    {
        var rows = BenchmarkCalculator.Rows(Month, Own, Figures, new Dictionary<string, DealTally>());
        Assert.Equal(10, Value(rows, "bench.market-share")!.Value, 9);
        Assert.Equal(0.4, Value(rows, "bench.relative-market-share")!.Value, 9);
        Assert.Equal(-15, Value(rows, "bench.gap.market-share", "competitor:Acme")!.Value, 9);
    }

    [Fact]
    public void Gaps_index_and_percentile_for_a_higher_is_better_indicator()
    {
        var rows = BenchmarkCalculator.Rows(Month, Own, Figures, new Dictionary<string, DealTally>());
        Assert.Equal(-10, Value(rows, "bench.gap.cx.nps", "competitor:Acme")!.Value, 9);
        Assert.Equal(20, Value(rows, "bench.gap.cx.nps", "competitor:Initech")!.Value, 9);
        // Worse than own: Initech (10); equal: Globex (30) → (1 + 0.5) / 3.
        Assert.Equal(50, Value(rows, "bench.percentile.cx.nps")!.Value, 9);
    }

    [Fact]
    public void The_index_is_null_for_nps_which_is_not_on_a_ratio_scale()
    {
        // NPS runs from −100 to 100: "own / mean" of two NPS values means nothing (the demo showed −19.1).
        var rows = BenchmarkCalculator.Rows(Month, [Org("cx.nps", -5)], [new("Acme", "cx.nps", 26)], new Dictionary<string, DealTally>());
        Assert.Null(Value(rows, "bench.index.cx.nps"));
        Assert.Equal(-31, Value(rows, "bench.gap.cx.nps", "competitor:Acme")!.Value, 9);
        Assert.Equal(0, Value(rows, "bench.percentile.cx.nps"));
        Assert.Null(Value(BenchmarkCalculator.Rows(Month, Own, Figures, new Dictionary<string, DealTally>()), "bench.index.cx.nps"));
        Assert.False(IndicatorCatalog.Find("cx.nps")!.RatioScale);
        Assert.All(IndicatorCatalog.BaseIndicators.Where(i => i.Id != "cx.nps"), i => Assert.True(i.RatioScale, i.Id));
    }

    [Fact]
    public void The_index_is_null_when_its_denominator_is_zero()
    {
        var rows = BenchmarkCalculator.Rows(Month, [Org("cx.resolution-hours-p90", 0), Org("cx.fcr", 50)],
            [new("Acme", "cx.resolution-hours-p90", 10), new("Acme", "cx.fcr", 0)], new Dictionary<string, DealTally>());
        Assert.Null(Value(rows, "bench.index.cx.resolution-hours-p90"));
        Assert.Null(Value(rows, "bench.index.cx.fcr"));
    }

    [Fact]
    public void Index_and_percentile_invert_for_a_lower_is_better_indicator()
    {
        var rows = BenchmarkCalculator.Rows(Month, Own, Figures, new Dictionary<string, DealTally>());
        Assert.Equal(100 * 25 / 20.0, Value(rows, "bench.index.cx.resolution-hours-p90")!.Value, 9);
        Assert.Equal(50, Value(rows, "bench.percentile.cx.resolution-hours-p90")!.Value, 9);
        Assert.Equal(Direction.Lower, rows.First(r => r.Indicator == "bench.gap.cx.resolution-hours-p90").Direction);
    }

    [Fact]
    public void Win_rate_against_each_competitor_and_nulls_without_data()
    {
        var rows = BenchmarkCalculator.Rows(Month, [Org("com.revenue", 1)], [], new Dictionary<string, DealTally> { ["Acme"] = new() { Won = 3, Closed = 4 } });
        Assert.Equal(75, Value(rows, "bench.win-rate-vs", "competitor:Acme")!.Value, 9);
        Assert.Null(Value(rows, "bench.market-share"));
        Assert.Null(Value(rows, "bench.relative-market-share"));
    }
    [Fact]
    public void A_gap_is_the_decimal_difference_of_the_figures()
    {
        // 68 − 81.3 in binary floating point is −13.299999999999997; the figures are decimal numbers.
        var rows = BenchmarkCalculator.Rows(Month, [Org("cx.csat", 68)], [new("Acme", "cx.csat", 81.3), new("Huge", "cx.csat", 1e300)], new Dictionary<string, DealTally>());
        Assert.Equal(-13.3, Value(rows, "bench.gap.cx.csat", "competitor:Acme"));
        // Beyond what a decimal holds, the double's difference.
        Assert.Equal(68 - 1e300, Value(rows, "bench.gap.cx.csat", "competitor:Huge"));
        Assert.Null(BenchmarkCalculator.Difference(null, 1));
    }

    [Fact]
    public void A_benchmark_pattern_instance_is_described_as_its_rows_carry_it()
    {
        var resolver = IndicatorResolver.Catalog;
        var rows = BenchmarkCalculator.Rows(Month, Own, Figures, new Dictionary<string, DealTally>());
        foreach (var row in rows.Where(r => IndicatorCatalog.BenchmarkSubject(r.Indicator) is not null))
        {
            var described = resolver.Describe(row.Indicator)!;
            Assert.Equal((row.Unit, row.Direction, row.Family, row.Kind), (described.Unit, described.Direction, described.Family, described.Kind));
        }
        Assert.Equal(("hours", Direction.Lower), (resolver.Describe("bench.gap.cx.resolution-hours-p90")!.Unit, resolver.Describe("bench.gap.cx.resolution-hours-p90")!.Direction));
        Assert.Equal("index", resolver.Describe("bench.index.com.revenue")!.Unit);
        Assert.Equal("%", resolver.Describe("bench.percentile.market-share")!.Unit);
        Assert.Null(resolver.Describe("bench.gap.cx.nothing"));
        Assert.Null(resolver.Describe("bench.gap.derived.not-defined"));
        Assert.Same(IndicatorCatalog.Find("cx.nps"), resolver.Describe("cx.nps"));
    }
}
