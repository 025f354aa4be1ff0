using System.ComponentModel.DataAnnotations;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using Microsoft.OData.Edm;
using Microsoft.OData.ModelBuilder;

namespace CrmMetrics.Functions.OData;

/// <summary>A latest snapshot row as the OData feed serves it (entity set Snapshots; Benchmarks serves <see cref="ODataBenchmark"/>, which adds to it).</summary>
public class ODataSnapshot
{
    [Key] public string Id { get; set; } = "";
    public string Indicator { get; set; } = "";
    public string Family { get; set; } = "";
    public string Scope { get; set; } = "";
    public string Grain { get; set; } = "";
    public string Period { get; set; } = "";
    public DateTimeOffset PeriodStart { get; set; }
    public DateTimeOffset PeriodEnd { get; set; }
    public decimal? Value { get; set; }
    public string Unit { get; set; } = "";
    public string Direction { get; set; } = "";
    public string Kind { get; set; } = "";
    public long FactCount { get; set; }
    public DateTimeOffset ComputedAt { get; set; }
    public string RunId { get; set; } = "";
    public int Version { get; set; }

    /// <summary>The row of a period; its instants carry the reporting zone's offset (see <see cref="ODataModel"/>).</summary>
    public static ODataSnapshot From(SnapshotRow row, Period period) => Fill(new ODataSnapshot(), row, period);

    /// <summary>The row's members set on <paramref name="target"/> (a snapshot, or a benchmark that adds its own).</summary>
    protected static T Fill<T>(T target, SnapshotRow row, Period period) where T : ODataSnapshot
    {
        target.Id = $"{Grains.Key(row.Grain)}|{row.Period}|{row.Indicator}|{row.Scope}";
        (target.Indicator, target.Family, target.Scope, target.Grain, target.Period) = (row.Indicator, row.Family, row.Scope, Grains.Key(row.Grain), row.Period);
        (target.PeriodStart, target.PeriodEnd, target.Value) = (period.Calendar.InZone(period.Start), period.Calendar.InZone(period.End), ToDecimal(row));
        target.Unit = row.Unit;
        target.Direction = row.Direction == Domain.Indicators.Direction.Higher ? "higher" : "lower";
        target.Kind = row.Kind == IndicatorKind.External ? "external" : "internal";
        (target.FactCount, target.ComputedAt, target.RunId, target.Version) = (row.FactCount, period.Calendar.InZone(row.ComputedAt), row.RunId, row.Version);
        return target;
    }

    /// <summary>
    /// Money exactly; other numbers as decimals (OData Edm.Decimal), beyond its range as null. Through the
    /// number's shortest round-trip text, so it has the REST API's digits: a cast keeps only 15 significant
    /// digits (66.6666666666667 for 66.66666666666667).
    /// </summary>
    public static decimal? ToDecimal(SnapshotRow row) =>
        (row.Exact is { } exact ? Api.SnapshotRowDto.Trimmed(exact) : (decimal?)null) ?? ToDecimal(row.Value);

    /// <summary>A number as <see cref="ToDecimal(SnapshotRow)"/> serves it.</summary>
    public static decimal? ToDecimal(double? value) => value is { } v && Math.Abs(v) < 7.9e28
        ? decimal.Parse(v.ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture)
        : null;
}

/// <summary>
/// A competitor benchmark row (entity set Benchmarks): the snapshot row, and the figures it was computed
/// from, which the REST rows carry in <c>details</c>, as columns a report can put side by side. Members a
/// row's indicator has no use for are null.
/// </summary>
public sealed class ODataBenchmark : ODataSnapshot
{
    /// <summary>What is compared (the X of <c>bench.gap.X</c>, <c>bench.index.X</c>, <c>bench.percentile.X</c>): an indicator id or <c>market-share</c>.</summary>
    public string? Subject { get; set; }

    /// <summary>The competitor of a <c>competitor:</c> row (a gap, a win rate).</summary>
    public string? Competitor { get; set; }

    /// <summary>Our own figure of the subject in the period.</summary>
    public decimal? Own { get; set; }

    /// <summary>The competitor's figure (a gap).</summary>
    public decimal? CompetitorValue { get; set; }

    /// <summary>The mean of the competitors' figures (an index).</summary>
    public decimal? CompetitorMean { get; set; }

    /// <summary>How many competitors reported the subject (an index, a percentile).</summary>
    public int? Competitors { get; set; }

    /// <summary>Deals won against, and closed naming, the competitor (a win rate).</summary>
    public long? DealsWon { get; set; }

    /// <inheritdoc cref="DealsWon"/>
    public long? DealsClosed { get; set; }

    public static new ODataBenchmark From(SnapshotRow row, Period period)
    {
        var benchmark = Fill(new ODataBenchmark(), row, period);
        var details = row.Details;
        benchmark.Subject = Text(details, "indicator");
        benchmark.Competitor = Domain.Aggregation.Scope.KindOf(row.Scope) == "competitor" ? Domain.Aggregation.Scope.ValueOf(row.Scope) : null;
        benchmark.Own = ToDecimal(Number(details, "own"));
        benchmark.CompetitorValue = ToDecimal(Number(details, "competitorValue"));
        benchmark.CompetitorMean = ToDecimal(Number(details, "competitorMean"));
        benchmark.Competitors = Number(details, "competitors") is { } n ? (int)n : null;
        if (row.Indicator == "bench.win-rate-vs")
        {
            benchmark.DealsWon = Number(details, "won") is { } won ? (long)won : null;
            benchmark.DealsClosed = Number(details, "closed") is { } closed ? (long)closed : null;
        }
        return benchmark;
    }

    private static string? Text(System.Text.Json.Nodes.JsonObject? details, string name) =>
        details?[name] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var text) ? text : null;

    private static double? Number(System.Text.Json.Nodes.JsonObject? details, string name) =>
        details?[name] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<double>(out var number) ? number : null;
}

/// <summary>A goal's attainment in a period (entity set GoalAttainment).</summary>
public sealed class ODataGoalAttainment
{
    [Key] public string Id { get; set; } = "";
    public string GoalId { get; set; } = "";
    public string? Name { get; set; }
    /// <summary>The goal's Persian name, when it has one.</summary>
    public string? NameFa { get; set; }
    /// <summary>The indicator measured; null for a composite goal (as in <c>/api/goals/attainment</c>).</summary>
    public string? Indicator { get; set; }
    /// <summary>The scope measured; null for a composite goal.</summary>
    public string? Scope { get; set; }
    public string Grain { get; set; } = "";
    public string Period { get; set; } = "";
    public DateTimeOffset PeriodStart { get; set; }
    public DateTimeOffset PeriodEnd { get; set; }
    /// <summary>
    /// The indicator's value, typed as <see cref="ODataSnapshot.Value"/> is (the same figure: a model joining
    /// the two sets met a Double beside a Decimal); beyond a decimal's range, null. So is <see cref="Projected"/>.
    /// Percentages of attainment stay Double, as in the staff scorecards.
    /// </summary>
    public decimal? Actual { get; set; }
    public decimal? Target { get; set; }
    public double? Attainment { get; set; }
    public decimal? Projected { get; set; }
    public double? ProjectedAttainment { get; set; }
    public string? Status { get; set; }
    public string? ParentGoalId { get; set; }
    public DateTimeOffset ComputedAt { get; set; }
    public string RunId { get; set; } = "";
    public int Version { get; set; }
}

/// <summary>A staff member's incentive figures in a period (entity set StaffScorecards).</summary>
public sealed class ODataStaffScorecard
{
    [Key] public string Id { get; set; } = "";
    public string StaffId { get; set; } = "";
    public string Grain { get; set; } = "";
    public string Period { get; set; } = "";
    public DateTimeOffset PeriodStart { get; set; }
    public DateTimeOffset PeriodEnd { get; set; }
    public string? PlanId { get; set; }
    public decimal? Quota { get; set; }
    public decimal? MeasureValue { get; set; }
    public double? QuotaAttainment { get; set; }
    public decimal? Payout { get; set; }
    public int? RankByPayout { get; set; }
    public int? RankByQuotaAttainment { get; set; }
    public DateTimeOffset ComputedAt { get; set; }
    public string RunId { get; set; } = "";
    public int Version { get; set; }
}

/// <summary>An alert sent (entity set Alerts).</summary>
public sealed class ODataAlert
{
    [Key] public string Id { get; set; } = "";
    public string Type { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Severity { get; set; } = "";
    public string Subject { get; set; } = "";
    public string Indicator { get; set; } = "";
    public string Scope { get; set; } = "";
    public string Grain { get; set; } = "";
    public string Period { get; set; } = "";
    public double? Value { get; set; }
    public string? GoalId { get; set; }
    public string Message { get; set; } = "";
    public string MessageFa { get; set; } = "";
    public DateTimeOffset Time { get; set; }

    /// <summary><c>open</c> until a recovery resolves it, then <c>resolved</c> (a recovery is itself <c>resolved</c>); null for the digest. As <c>GET /api/alerts</c> says.</summary>
    public string? State { get; set; }

    /// <summary>The id of the recovery that resolved this alert; null while it is open.</summary>
    public string? ResolvedBy { get; set; }
}

/// <summary>
/// The feed's entity sets. Every instant (PeriodStart, PeriodEnd, ComputedAt, Time) is served with the
/// reporting calendar's UTC offset at that instant, so its date part is the local date the periods are
/// cut by, and a date literal in <c>$filter</c> compares with that local date (the library compares a
/// date with an instant's own date part; <see cref="PartitionFilter"/> reads the literal as local midnight).
/// </summary>
public static class ODataModel
{
    public const string RoutePrefix = "odata";

    public static IEdmModel Build()
    {
        var builder = new ODataConventionModelBuilder { Namespace = "CrmMetrics", ContainerName = "CrmMetrics" };
        // Members are camelCase, as api.md's rows name them (a snapshot row's "indicator", "value"…); queries
        // may still name them either way, since the parser matches names regardless of case.
        builder.EnableLowerCamelCase();
        builder.EntitySet<ODataSnapshot>("Snapshots").EntityType.Name = "Snapshot";
        builder.EntitySet<ODataBenchmark>("Benchmarks").EntityType.Name = "Benchmark";
        builder.EntitySet<ODataGoalAttainment>("GoalAttainment").EntityType.Name = "GoalAttainment";
        builder.EntitySet<ODataStaffScorecard>("StaffScorecards").EntityType.Name = "StaffScorecard";
        builder.EntitySet<ODataAlert>("Alerts").EntityType.Name = "Alert";
        return builder.GetEdmModel();
    }

    /// <summary>The entity classes' properties by name, whatever its case: the model's members are those names in camelCase.</summary>
    private static readonly Dictionary<string, string> ClrNames = new[] { typeof(ODataBenchmark), typeof(ODataGoalAttainment), typeof(ODataStaffScorecard), typeof(ODataAlert) }
        .SelectMany(t => t.GetProperties()).Select(p => p.Name).Distinct().ToDictionary(n => n, n => n, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The entity class's property behind a member of the model (<c>periodStart</c> → <c>PeriodStart</c>): the
    /// name the feed's code, and the snapshot tables' columns, use.
    /// </summary>
    public static string ClrName(Microsoft.OData.Edm.IEdmProperty property) => ClrNames.GetValueOrDefault(property.Name, property.Name);
}
