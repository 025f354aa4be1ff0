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
    /// at that segment and region.
    /// </summary>
    private void CountMoves(List<DayPartial> days, Facts.FactLabels labels)
    {
        var byCustomer = new Dictionary<int, (LifecycleMoves Moves, int Segment, int Region)>();
        foreach (var day in days.OrderBy(d => d.Day))
        {
            var cells = day.Lifecycle;
            for (var i = 0; i < cells.Count; i++)
            {
                var moves = byCustomer.TryGetValue(cells.Customers[i], out var before) ? before.Moves | cells.Moves[i] : cells.Moves[i];
                byCustomer[cells.Customers[i]] = (moves, cells.Segments[i], cells.Regions[i]);
            }
        }
        var segments = new Dictionary<int, string>();
        var regions = new Dictionary<int, string>();
        void Count(string scope, LifecycleMoves moves)
        {
            var now = Moves.GetValueOrDefault(scope);
            Moves[scope] = new CustomerMoves(now.Churned + ((moves & LifecycleMoves.Churned) != 0 ? 1 : 0), now.Activated + ((moves & LifecycleMoves.Activated) != 0 ? 1 : 0));
        }
        foreach (var (_, (moves, segment, region)) in byCustomer)
        {
            Count(Aggregation.Scope.Org, moves);
            if (segment != Facts.FactColumns.None && Name(segments, segment, code => Aggregation.Scope.Segment(labels.Segments[code])) is { } s && Scopes.ContainsKey(s)) Count(s, moves);
            if (region != Facts.FactColumns.None && Name(regions, region, code => Aggregation.Scope.Region(labels.Regions[code])) is { } r && Scopes.ContainsKey(r)) Count(r, moves);
        }
        static string Name(Dictionary<int, string> names, int code, Func<int, string> make) =>
            names.TryGetValue(code, out var name) ? name : names[code] = make(code);
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
