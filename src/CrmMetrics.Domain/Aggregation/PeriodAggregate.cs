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

    /// <summary>Distinct customers who churned, and who became active, in the period, per customer-state scope with any.</summary>
    public Dictionary<string, CustomerMoves> Moves { get; private init; } = new(StringComparer.Ordinal);
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
        if (inPeriod.Count > 0) aggregate.CountMoves(inPeriod, inPeriod[0].Orders.Labels);
        // Customer-state scopes with active customers but no facts in the period still get their rows.
        foreach (var scope in activeAtEnd.Keys.Concat(activeAtStart.Keys).Append(Scope.Org))
        {
            aggregate.Scopes.TryAdd(scope, new ScopeAggregate());
        }
        return aggregate;
    }

    /// <summary>
    /// The union of the days' lifecycle cells: each customer once, with everything their facts did in the
    /// period and the latest day's segment and region, counted at org and (where the days kept breakdowns)
    /// at that segment and region. Arrays indexed by label code: no hashing per customer.
    /// </summary>
    private void CountMoves(List<DayPartial> days, Facts.FactLabels labels)
    {
        if (days.All(d => d.Lifecycle.Count == 0)) return;
        var customers = labels.Customers.Count;
        var moves = new LifecycleMoves[customers];
        var segmentOf = new int[customers];
        var regionOf = new int[customers];
        foreach (var day in days.OrderBy(d => d.Day))
        {
            var cells = day.Lifecycle;
            for (var i = 0; i < cells.Count; i++)
            {
                var c = cells.Customers[i];
                moves[c] |= cells.Moves[i];
                segmentOf[c] = cells.Segments[i];
                regionOf[c] = cells.Regions[i];
            }
        }
        var org = new CustomerMoves();
        var bySegment = new CustomerMoves[labels.Segments.Count];
        var byRegion = new CustomerMoves[labels.Regions.Count];
        for (var c = 0; c < customers; c++)
        {
            if (moves[c] == LifecycleMoves.None) continue;
            org = org.With(moves[c]);
            if (segmentOf[c] is var s and >= 0) bySegment[s] = bySegment[s].With(moves[c]);
            if (regionOf[c] is var r and >= 0) byRegion[r] = byRegion[r].With(moves[c]);
        }
        Moves[Aggregation.Scope.Org] = org;
        void Add(CustomerMoves[] counts, Func<string, string> scopeOf, Facts.LabelSet names)
        {
            for (var code = 0; code < counts.Length; code++)
            {
                // Only scopes the days kept (none when they kept the organisation alone).
                if (counts[code] != default && scopeOf(names[code]) is var scope && Scopes.ContainsKey(scope)) Moves[scope] = counts[code];
            }
        }
        Add(bySegment, name => Aggregation.Scope.Segment(name), labels.Segments);
        Add(byRegion, name => Aggregation.Scope.Region(name), labels.Regions);
    }

    /// <summary>Every base indicator for every scope of the period.</summary>
    public IEnumerable<SnapshotRow> BaseRows()
    {
        foreach (var (scope, figures) in Scopes.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var hasState = Aggregation.Scope.HasCustomerState(scope);
            var input = new ScopeFigures(scope, figures, Customers.GetValueOrDefault(scope),
                hasState ? ActiveAtStart.GetValueOrDefault(scope) : null,
                hasState ? ActiveAtEnd.GetValueOrDefault(scope) : null,
                Moves.GetValueOrDefault(scope));
            foreach (var indicator in IndicatorCatalog.BaseIndicators)
            {
                yield return SnapshotRow.From(indicator, scope, Period, indicator.Compute!(input));
            }
        }
    }
}
