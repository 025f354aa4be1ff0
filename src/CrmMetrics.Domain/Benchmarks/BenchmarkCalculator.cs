using System.Text.Json.Nodes;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;

namespace CrmMetrics.Domain.Benchmarks;

/// <summary>A competitor's (or, without one, the market's) figure for a period.</summary>
public sealed record CompetitorFigure(string? Competitor, string Indicator, double Value);

/// <summary>
/// Competitor benchmarks (contract: indicators.md): market share and relative market share; for
/// every indicator competitors report, the gap to each competitor, the index against their mean
/// (only for ratio-scale indicators: an index of NPS, which can be negative, means nothing) and the
/// percentile among them; and the win rate of deals against each competitor.
/// </summary>
public static class BenchmarkCalculator
{
    public const string MarketShare = "market-share";
    public const string MarketSize = "market-size";

    /// <summary>
    /// The stored row of the organisation's own figure for what competitors report as <paramref name="x"/>: the
    /// indicator itself, or <c>bench.market-share</c> for market share, which is no catalog indicator.
    /// </summary>
    public static string OwnIndicator(string x) => x == MarketShare ? "bench.market-share" : x;

    public static IReadOnlyList<SnapshotRow> Rows(Period period, IReadOnlyList<SnapshotRow> computed, IReadOnlyList<CompetitorFigure> figures,
        IReadOnlyDictionary<string, DealTally> dealsByCompetitor, IndicatorResolver? indicators = null)
    {
        indicators ??= IndicatorResolver.Catalog;
        var rows = new List<SnapshotRow>();
        var org = computed.Where(r => r.Scope == Scope.Org).GroupBy(r => r.Indicator).ToDictionary(g => g.Key, g => g.Last());
        var observations = figures.Count;

        // Market share: own revenue against the market's size.
        var revenue = org.GetValueOrDefault("com.revenue");
        var marketSize = figures.LastOrDefault(f => f.Competitor is null && f.Indicator == MarketSize)?.Value;
        double? share = revenue?.Value is { } r && marketSize is > 0 ? 100 * r / marketSize.Value : null;
        rows.Add(Row("bench.market-share", Scope.Org, period, share, observations));
        var shares = figures.Where(f => f.Competitor is not null && f.Indicator == MarketShare).Select(f => f.Value).ToList();
        double? relative = share is { } s && shares.Count > 0 && shares.Max() > 0 ? s / shares.Max() : null;
        rows.Add(Row("bench.relative-market-share", Scope.Org, period, relative, observations));

        // Gaps, index and percentile for every indicator competitors report.
        foreach (var group in figures.Where(f => f.Competitor is not null).GroupBy(f => f.Indicator).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var x = group.Key;
            var gap = IndicatorCatalog.BenchmarkInstance($"bench.gap.{x}", x == MarketShare ? null : indicators.Find(x), x)!;
            var (direction, unit) = (gap.Direction, gap.Unit);
            var ratioScale = indicators.IsRatioScale(x);
            var own = x == MarketShare ? share : org.GetValueOrDefault(x)?.Value;
            var theirs = group.Select(f => (f.Competitor!, f.Value)).ToList();
            foreach (var (competitor, value) in theirs.OrderBy(t => t.Item1, StringComparer.Ordinal))
            {
                rows.Add(Row($"bench.gap.{x}", Scope.Competitor(competitor), period, Difference(own, value), theirs.Count, unit, direction,
                    new JsonObject { ["indicator"] = x, ["own"] = own, ["competitor"] = competitor, ["competitorValue"] = value }));
            }
            var mean = theirs.Average(t => t.Value);
            // A ratio of values means something only on a ratio scale, and only with every value at least 0.
            double? index = own is not { } o || !ratioScale || o < 0 || theirs.Any(t => t.Value < 0) ? null
                : direction == Direction.Higher ? (mean == 0 ? null : 100 * o / mean)
                : (o == 0 ? null : 100 * mean / o);
            rows.Add(Row($"bench.index.{x}", Scope.Org, period, index, theirs.Count, "index", Direction.Higher,
                new JsonObject { ["indicator"] = x, ["own"] = own, ["competitorMean"] = mean, ["competitors"] = theirs.Count, ["ratioScale"] = ratioScale }));
            double? percentile = own is not { } mine ? null
                : 100.0 * (theirs.Count(t => direction == Direction.Higher ? t.Value < mine : t.Value > mine) + 0.5 * theirs.Count(t => t.Value == mine)) / theirs.Count;
            rows.Add(Row($"bench.percentile.{x}", Scope.Org, period, percentile, theirs.Count, "%", Direction.Higher,
                new JsonObject { ["indicator"] = x, ["own"] = own, ["competitors"] = theirs.Count }));
        }

        // Deals won against each competitor named in deals.
        foreach (var (competitor, tally) in dealsByCompetitor.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            rows.Add(Row("bench.win-rate-vs", Scope.Competitor(competitor), period, tally.Closed == 0 ? null : 100.0 * tally.Won / tally.Closed, tally.Closed,
                details: new JsonObject { ["won"] = tally.Won, ["closed"] = tally.Closed }));
        }
        return rows;
    }

    /// <summary>
    /// Own minus theirs in decimal where both fit one: the figures arrive as decimal numbers, and
    /// 68 − 81.3 is −13.3, not the −13.299999999999997 of binary floating point. (A decimal holds
    /// about 28 digits; beyond 10^15 the double's difference is kept.)
    /// </summary>
    internal static double? Difference(double? own, double theirs)
    {
        const double DecimalSafe = 1e15;
        if (own is not { } o) return null;
        return Math.Abs(o) < DecimalSafe && Math.Abs(theirs) < DecimalSafe ? (double)((decimal)o - (decimal)theirs) : o - theirs;
    }

    private static SnapshotRow Row(string indicator, string scope, Period period, double? value, long factCount, string? unit = null, Direction? direction = null, JsonObject? details = null)
    {
        var definition = IndicatorCatalog.Find(indicator) ?? new IndicatorDefinition
        {
            Id = indicator, Family = Families.CompetitorBenchmarks, Unit = unit ?? "%", Direction = direction ?? Direction.Higher,
            Kind = IndicatorKind.External, Description = "",
        };
        return SnapshotRow.From(definition with { Unit = unit ?? definition.Unit, Direction = direction ?? definition.Direction }, scope, period,
            new IndicatorValue(value, factCount), details);
    }
}
