using CrmMetrics.Domain.Aggregation;

namespace CrmMetrics.Domain.Indicators;

public static class Families
{
    public const string CustomerExperience = "customer-experience";
    public const string Commercial = "commercial";
    public const string GoalAttainment = "goal-attainment";
    public const string StaffIncentives = "staff-incentives";
    public const string CompetitorBenchmarks = "competitor-benchmarks";

    /// <summary>Indicators an administrator defines as an expression over others (<c>derived.&lt;name&gt;</c>).</summary>
    public const string Derived = "derived";

    public static readonly IReadOnlyList<string> All =
        [CustomerExperience, Commercial, GoalAttainment, StaffIncentives, CompetitorBenchmarks, Derived];
}

public enum Direction { Higher, Lower }

public enum IndicatorKind { External, Internal }

/// <summary>A computed value: the number (null when it cannot be computed) and how many facts it rests on.</summary>
public readonly record struct IndicatorValue(double? Value, long FactCount, decimal? Exact = null)
{
    public static IndicatorValue Null(long factCount = 0) => new(null, factCount);

    public static IndicatorValue Money(decimal amount, long factCount) => new((double)amount, factCount, amount);

    public static IndicatorValue Ratio(double numerator, double denominator, double scale, long factCount) =>
        denominator == 0 ? Null(factCount) : new(scale * numerator / denominator, factCount);
}

/// <summary>What a base indicator's calculator sees for one scope and period.</summary>
/// <param name="Moves">Distinct customers of the scope who churned, and who became active, in the period (customer-state scopes).</param>
public sealed record ScopeFigures(string Scope, ScopeAggregate Aggregate, CustomerRevenue Customers, long? ActiveAtStart, long? ActiveAtEnd, CustomerMoves Moves = default);

/// <summary>
/// One indicator of the catalog. Base indicators carry a calculator over <see cref="ScopeFigures"/>;
/// derived ones (goals, incentives, benchmarks) are computed by their own modules and are listed
/// here so clients can discover them.
/// </summary>
public sealed record IndicatorDefinition
{
    public required string Id { get; init; }
    public required string Family { get; init; }
    public required string Unit { get; init; }
    public required Direction Direction { get; init; }
    public required IndicatorKind Kind { get; init; }

    /// <summary>Counts and sums: their value over part of a period extrapolates linearly to the whole.</summary>
    public bool Additive { get; init; }

    public required string Description { get; init; }

    /// <summary>The calculator for base indicators; null for indicators computed by other modules.</summary>
    public Func<ScopeFigures, IndicatorValue>? Compute { get; init; }

    /// <summary>True for indicators whose id is a pattern (e.g. <c>bench.gap.&lt;X&gt;</c>).</summary>
    public bool IsPattern { get; init; }

    /// <summary>
    /// On a ratio scale: never negative, with a true zero, so "twice as much" means something
    /// (revenue, CSAT, rates, hours). NPS runs from −100 to 100 and is not; a benchmark index
    /// (own / competitors' mean) exists only for ratio-scale indicators.
    /// </summary>
    public bool RatioScale { get; init; } = true;
}
