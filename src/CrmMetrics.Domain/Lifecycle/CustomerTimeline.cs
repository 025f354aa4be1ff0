using CrmMetrics.Domain.Facts;

namespace CrmMetrics.Domain.Lifecycle;

/// <summary>One lifecycle fact as the timeline keeps it.</summary>
public sealed record LifecycleEvent(
    string Id,
    FactType Type,
    DateTimeOffset Time,
    string? Segment = null,
    string? Region = null,
    string? Channel = null,
    string? StaffId = null)
{
    public static LifecycleEvent From(Fact fact) =>
        new(fact.Id, fact.Type, fact.Time, fact.Segment, fact.Region, fact.Channel, fact.StaffId);
}

/// <summary>What a lifecycle fact does to the customer's state.</summary>
public enum LifecycleEffect
{
    None,

    /// <summary>The customer's first activation: a new customer.</summary>
    New,

    /// <summary>A churned (or never active) customer came back: a win-back.</summary>
    WinBack,

    /// <summary>An active customer stopped being active.</summary>
    Churn,
}

/// <summary>
/// A customer's lifecycle facts in time order and the state machine over them. Facts may arrive in
/// any order; everything here is a function of the set of facts, so the order of arrival never
/// changes a result.
/// <list type="bullet">
/// <item>Order: time, then acquired &lt; reactivated &lt; churned at the same instant, then id.</item>
/// <item>acquired: first activation is New; after a churn it is a win-back (events.md); while active it changes nothing.</item>
/// <item>reactivated: a win-back unless the customer is already active.</item>
/// <item>churned: a churn if the customer is active; otherwise it changes nothing.</item>
/// <item>Segment and region come from the first <c>customer.acquired</c> by the same order.</item>
/// </list>
/// </summary>
public sealed class CustomerTimeline
{
    private readonly List<LifecycleEvent> _events;

    public CustomerTimeline(IEnumerable<LifecycleEvent> events)
    {
        _events = events.DistinctBy(e => e.Id).ToList();
        _events.Sort(Compare);
    }

    public IReadOnlyList<LifecycleEvent> Events => _events;

    /// <summary>Adds facts not yet present (by id); returns whether anything changed.</summary>
    public bool Add(IEnumerable<LifecycleEvent> events)
    {
        var known = _events.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        var added = false;
        foreach (var e in events)
        {
            if (known.Add(e.Id))
            {
                _events.Add(e);
                added = true;
            }
        }
        if (added) _events.Sort(Compare);
        return added;
    }

    public LifecycleEvent? FirstAcquisition => _events.FirstOrDefault(e => e.Type == FactType.CustomerAcquired);

    public string? Segment => FirstAcquisition?.Segment;
    public string? Region => FirstAcquisition?.Region;

    /// <summary>The effect of every fact, in time order.</summary>
    public IReadOnlyList<(LifecycleEvent Event, LifecycleEffect Effect)> Effects()
    {
        var result = new List<(LifecycleEvent, LifecycleEffect)>(_events.Count);
        var active = false;
        var everActive = false;
        var churned = false;
        foreach (var e in _events)
        {
            var effect = LifecycleEffect.None;
            switch (e.Type)
            {
                case FactType.CustomerAcquired when !active:
                    effect = churned || everActive ? LifecycleEffect.WinBack : LifecycleEffect.New;
                    active = everActive = true;
                    break;
                case FactType.CustomerReactivated when !active:
                    effect = LifecycleEffect.WinBack;
                    active = everActive = true;
                    break;
                case FactType.CustomerChurned:
                    if (active) effect = LifecycleEffect.Churn;
                    active = false;
                    churned = true;
                    break;
            }
            result.Add((e, effect));
        }
        return result;
    }

    public LifecycleEffect EffectOf(string factId) =>
        Effects().FirstOrDefault(x => x.Event.Id == factId).Effect;

    private static int Compare(LifecycleEvent a, LifecycleEvent b)
    {
        var c = a.Time.UtcTicks.CompareTo(b.Time.UtcTicks);
        if (c != 0) return c;
        c = Rank(a.Type).CompareTo(Rank(b.Type));
        return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
    }

    private static int Rank(FactType type) => type switch
    {
        FactType.CustomerAcquired => 0,
        FactType.CustomerReactivated => 1,
        _ => 2,
    };
}
