namespace CrmMetrics.Domain.Aggregation;

/// <summary>
/// The mergeable result of aggregating one local day: one <see cref="ScopeAggregate"/> per scope,
/// the day's order cells (revenue per customer), competitor deal tallies, the day's changes in
/// active customers per customer-state scope, and which customers churned or became active. Re-aggregating a day replaces it whole.
/// </summary>
public sealed class DayPartial
{
    public required DateOnly Day { get; init; }
    public long FactCount { get; set; }
    public Dictionary<string, ScopeAggregate> Scopes { get; } = new(StringComparer.Ordinal);
    public required OrderCells Orders { get; init; }

    /// <summary>The day's customers whose lifecycle changed; codes refer to the labels of <see cref="Orders"/>.</summary>
    public LifecycleCells Lifecycle { get; init; } = new();
    public Dictionary<string, DealTally> DealsByCompetitor { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, ActiveDelta> ActiveDeltas { get; } = new(StringComparer.Ordinal);
}
