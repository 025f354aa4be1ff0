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

    /// <summary>Ordering customers and the top fifth's revenue, per scope with orders.</summary>
    public Dictionary<string, CustomerRevenue> Customers { get; private init; } = new(StringComparer.Ordinal);
    public Dictionary<string, DealTally> DealsByCompetitor { get; } = new(StringComparer.Ordinal);
    public IReadOnlyDictionary<string, long> ActiveAtStart { get; init; } = new Dictionary<string, long>();
    public IReadOnlyDictionary<string, long> ActiveAtEnd { get; init; } = new Dictionary<string, long>();
    public long FactCount { get; private set; }

    /// <summary>Merges the partials of the period's days (other days are ignored); their order cells must share one <see cref="Facts.FactLabels"/>.</summary>
    public static PeriodAggregate Merge(Period period, IEnumerable<DayPartial> days, IReadOnlyDictionary<string, long> activeAtStart, IReadOnlyDictionary<string, long> activeAtEnd)
    {
        var inPeriod = days.Where(d => period.Contains(d.Day)).ToList();
        var aggregate = new PeriodAggregate
        {
            Period = period, ActiveAtStart = activeAtStart, ActiveAtEnd = activeAtEnd,
            Customers = inPeriod.Count == 0 ? new(StringComparer.Ordinal) : CustomerRevenue.Of(inPeriod.Select(d => d.Orders).ToList(), inPeriod[0].Orders.Labels),
        };
        foreach (var day in inPeriod)
        {
            aggregate.FactCount += day.FactCount;
            foreach (var (competitor, tally) in day.DealsByCompetitor)
            {
                if (!aggregate.DealsByCompetitor.TryGetValue(competitor, out var into)) aggregate.DealsByCompetitor[competitor] = into = new DealTally();
                into.Merge(tally);
            }
            foreach (var (scope, figures) in day.Scopes)
            {
                if (!aggregate.Scopes.TryGetValue(scope, out var into)) aggregate.Scopes[scope] = into = new ScopeAggregate();
                into.Merge(figures);
            }
        }
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
            var input = new ScopeFigures(scope, figures, Customers.GetValueOrDefault(scope),
                hasState ? ActiveAtStart.GetValueOrDefault(scope) : null,
                hasState ? ActiveAtEnd.GetValueOrDefault(scope) : null);
            foreach (var indicator in IndicatorCatalog.BaseIndicators)
            {
                yield return SnapshotRow.From(indicator, scope, Period, indicator.Compute!(input));
            }
        }
    }
}
