using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Lifecycle;

namespace CrmMetrics.Domain.Aggregation;

/// <summary>A customer's breakdown attributes, from their first <c>customer.acquired</c>.</summary>
public readonly record struct CustomerDimension(string? Segment, string? Region)
{
    public static readonly CustomerDimension Unknown = new(null, null);
}

/// <summary>
/// The map step's arithmetic: folds one local day's facts into a <see cref="DayPartial"/>.
/// Facts whose meaning depends on other days (lifecycle facts, complaint resolutions) are added
/// with what their timeline or case says about them.
/// </summary>
public sealed class DayAggregator(DateOnly day, bool breakdowns = true)
{
    private readonly DayPartial _partial = new() { Day = day };
    private readonly ScopeAggregate _org = new();
    private readonly List<ScopeAggregate> _targets = new(5);

    // Breakdown scopes by their raw value, so the hot path builds no "kind:value" strings.
    private readonly Dictionary<string, ScopeAggregate> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ScopeAggregate> _segments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ScopeAggregate> _regions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ScopeAggregate> _staff = new(StringComparer.Ordinal);

    /// <summary>The day's partial. With breakdowns off (benchmarks), only the organisation scope is kept.</summary>
    public DayPartial Result
    {
        get
        {
            foreach (var (value, aggregate) in _channels) _partial.Scopes[Scope.Channel(value)] = aggregate;
            foreach (var (value, aggregate) in _segments) _partial.Scopes[Scope.Segment(value)] = aggregate;
            foreach (var (value, aggregate) in _regions) _partial.Scopes[Scope.Region(value)] = aggregate;
            foreach (var (value, aggregate) in _staff) _partial.Scopes[Scope.Staff(value)] = aggregate;
            if (_org.FactCount > 0 || _partial.Scopes.Count > 0) _partial.Scopes[Scope.Org] = _org;
            return _partial;
        }
    }

    /// <summary>Adds a fact that needs no other day: interactions, orders, surveys, complaint opens, deals.</summary>
    public void Add(Fact fact, CustomerDimension customer)
    {
        if (fact.Type.IsObservation() || fact.Type.IsLifecycle() || fact.Type == FactType.ComplaintResolved)
        {
            throw new ArgumentException($"{fact.Type.Name()} facts are added with their context", nameof(fact));
        }
        Count(Targets(fact.Channel, fact.StaffId, fact.CustomerId is null ? null : customer));
        switch (fact.Type)
        {
            case FactType.Interaction:
                foreach (var s in _targets)
                {
                    s.Interactions++;
                    if (fact.HandleSeconds is { } seconds)
                    {
                        s.HandleSecondsSum += seconds;
                        s.HandleSecondsCount++;
                    }
                    if (fact.Direction == "inbound" && fact.FirstContactResolution is { } fcr)
                    {
                        s.InboundWithFcrFlag++;
                        if (fcr) s.InboundFcrTrue++;
                    }
                }
                break;
            case FactType.Order:
                var amount = fact.Amount ?? 0m;
                foreach (var s in _targets)
                {
                    s.Revenue += amount;
                    s.Orders++;
                    s.RevenueByCustomer[fact.CustomerId!] = s.RevenueByCustomer.GetValueOrDefault(fact.CustomerId!) + amount;
                }
                break;
            case FactType.SurveyResponse:
                var score = fact.Score!.Value;
                foreach (var s in _targets)
                {
                    var histogram = fact.Metric switch { "nps" => s.Nps, "csat" => s.Csat, _ => s.Ces };
                    histogram[score]++;
                }
                break;
            case FactType.ComplaintOpened:
                foreach (var s in _targets) s.ComplaintsOpened++;
                break;
            case FactType.DealClosed:
                var won = fact.Outcome == "won";
                foreach (var s in _targets)
                {
                    s.DealsClosed++;
                    if (won)
                    {
                        s.DealsWon++;
                        s.WonAmount += fact.Amount ?? 0m;
                    }
                }
                if (fact.Competitor is { } competitor)
                {
                    var tally = _partial.CompetitorFor(competitor);
                    tally.Closed++;
                    if (won) tally.Won++;
                }
                break;
        }
    }

    /// <summary>Adds a lifecycle fact with the effect its customer's timeline gives it.</summary>
    public void AddLifecycle(Fact fact, LifecycleEffect effect, CustomerDimension customer)
    {
        Count(Targets(fact.Channel, fact.StaffId, customer));
        if (effect == LifecycleEffect.None) return;
        foreach (var s in _targets)
        {
            switch (effect)
            {
                case LifecycleEffect.New: s.NewCustomers++; break;
                case LifecycleEffect.WinBack: s.WinBacks++; break;
                case LifecycleEffect.Churn: s.Churned++; break;
            }
        }
        foreach (var scope in breakdowns ? (string[])[Scope.Org, Scope.Segment(customer.Segment), Scope.Region(customer.Region)] : [Scope.Org])
        {
            var delta = _partial.DeltaFor(scope);
            if (effect == LifecycleEffect.Churn) delta.Deactivated++;
            else delta.Activated++;
        }
    }

    /// <summary>Adds a <c>complaint.resolved</c> fact; <paramref name="resolution"/> is null when it is not the case's counted resolve.</summary>
    public void AddResolve(Fact fact, Resolution? resolution, CustomerDimension customer)
    {
        Count(Targets(resolution?.Channel ?? fact.Channel, resolution?.StaffId ?? fact.StaffId, customer));
        if (resolution is null) return;
        foreach (var s in _targets)
        {
            s.Resolved++;
            if (resolution.WithinSla) s.ResolvedWithinSla++;
            s.ResolutionHours.Add(resolution.Hours);
        }
    }

    private List<ScopeAggregate> Targets(string? channel, string? staffId, CustomerDimension? customer)
    {
        _targets.Clear();
        _targets.Add(_org);
        if (!breakdowns) return _targets;
        if (channel is not null) _targets.Add(For(_channels, channel));
        if (customer is { } c)
        {
            _targets.Add(For(_segments, c.Segment ?? Scope.Unknown));
            _targets.Add(For(_regions, c.Region ?? Scope.Unknown));
        }
        if (staffId is not null) _targets.Add(For(_staff, staffId));
        return _targets;
    }

    private static ScopeAggregate For(Dictionary<string, ScopeAggregate> scopes, string value)
    {
        if (!scopes.TryGetValue(value, out var aggregate)) scopes[value] = aggregate = new ScopeAggregate();
        return aggregate;
    }

    private void Count(List<ScopeAggregate> targets)
    {
        _partial.FactCount++;
        foreach (var s in targets) s.FactCount++;
    }
}
