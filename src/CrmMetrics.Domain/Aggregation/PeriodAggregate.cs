using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;

namespace CrmMetrics.Domain.Aggregation;

/// <summary>
/// A period's figures: its days' partials merged per scope, with the customers active at its start
/// and end. The reduce step's input; computing indicators from it reads no facts.
/// </summary>
public sealed class PeriodAggregate
{
    public required Period Period { get; init; }
    public Dictionary<string, ScopeAggregate> Scopes { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, DealTally> DealsByCompetitor { get; } = new(StringComparer.Ordinal);
    public IReadOnlyDictionary<string, long> ActiveAtStart { get; init; } = new Dictionary<string, long>();
    public IReadOnlyDictionary<string, long> ActiveAtEnd { get; init; } = new Dictionary<string, long>();
    public long FactCount { get; private set; }

    public static PeriodAggregate Merge(Period period, IEnumerable<DayPartial> days, IReadOnlyDictionary<string, long> activeAtStart, IReadOnlyDictionary<string, long> activeAtEnd)
    {
        var aggregate = new PeriodAggregate { Period = period, ActiveAtStart = activeAtStart, ActiveAtEnd = activeAtEnd };
        var inPeriod = days.Where(d => period.Contains(d.Day)).ToList();
        foreach (var day in inPeriod)
        {
            aggregate.FactCount += day.FactCount;
            foreach (var (competitor, tally) in day.DealsByCompetitor)
            {
                if (!aggregate.DealsByCompetitor.TryGetValue(competitor, out var into)) aggregate.DealsByCompetitor[competitor] = into = new DealTally();
                into.Merge(tally);
            }
        }
        // Scopes merge independently of each other: in parallel.
        var merged = inPeriod.SelectMany(d => d.Scopes).GroupBy(s => s.Key, StringComparer.Ordinal).AsParallel()
            .Select(g =>
            {
                var into = new ScopeAggregate();
                foreach (var (_, figures) in g) into.Merge(figures);
                return (g.Key, into);
            })
            .ToList();
        foreach (var (scope, into) in merged) aggregate.Scopes[scope] = into;
        // Customer-state scopes with active customers but no facts in the period still get their rows.
        foreach (var scope in activeAtEnd.Keys.Concat(activeAtStart.Keys).Append(Scope.Org))
        {
            aggregate.Scopes.TryAdd(scope, new ScopeAggregate());
        }
        return aggregate;
    }

    /// <summary>Every base indicator for every scope of the period.</summary>
    public IEnumerable<SnapshotRow> BaseRows()
    {
        foreach (var (scope, figures) in Scopes.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var hasState = Aggregation.Scope.HasCustomerState(scope);
            var input = new ScopeFigures(scope, figures,
                hasState ? ActiveAtStart.GetValueOrDefault(scope) : null,
                hasState ? ActiveAtEnd.GetValueOrDefault(scope) : null);
            foreach (var indicator in IndicatorCatalog.BaseIndicators)
            {
                yield return SnapshotRow.From(indicator, scope, Period, indicator.Compute!(input));
            }
        }
    }
}
