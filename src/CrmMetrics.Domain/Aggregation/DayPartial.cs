namespace CrmMetrics.Domain.Aggregation;

/// <summary>
/// The mergeable result of aggregating one local day: one <see cref="ScopeAggregate"/> per scope,
/// competitor deal tallies, and the day's changes in active customers per customer-state scope.
/// Re-aggregating a day replaces it whole.
/// </summary>
public sealed class DayPartial
{
    public const int FormatVersion = 1;

    public int Format { get; set; } = FormatVersion;
    public DateOnly Day { get; set; }
    public long FactCount { get; set; }
    public Dictionary<string, ScopeAggregate> Scopes { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, DealTally> DealsByCompetitor { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, ActiveDelta> ActiveDeltas { get; set; } = new(StringComparer.Ordinal);

    public DealTally CompetitorFor(string competitor)
    {
        if (!DealsByCompetitor.TryGetValue(competitor, out var tally)) DealsByCompetitor[competitor] = tally = new DealTally();
        return tally;
    }

    public ActiveDelta DeltaFor(string scope)
    {
        if (!ActiveDeltas.TryGetValue(scope, out var delta)) ActiveDeltas[scope] = delta = new ActiveDelta();
        return delta;
    }
}
