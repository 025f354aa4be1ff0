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

    public static LifecycleEvent From(FactColumns facts, int row)
    {
        var labels = facts.Labels;
        return new(facts.Ids[row], facts.Types[row], facts.TimeOf(row), labels.Segments.LabelOf(facts.Segments[row]), labels.Regions.LabelOf(facts.Regions[row]),
            labels.Channels.LabelOf(facts.Channels[row]), labels.Staff.LabelOf(facts.Staff[row]));
    }
}

/// <summary>What a lifecycle fact does to the customer's state.</summary>
public enum LifecycleEffect : byte
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
        var state = new LifecycleState();
        foreach (var e in _events) result.Add((e, state.Apply(e.Type)));
        return result;
    }

    public LifecycleEffect EffectOf(string factId) =>
        Effects().FirstOrDefault(x => x.Event.Id == factId).Effect;

    private static int Compare(LifecycleEvent a, LifecycleEvent b) => Compare(a.Time.UtcTicks, a.Type, a.Id, b.Time.UtcTicks, b.Type, b.Id);

    /// <summary>The timeline's order: time, then acquired &lt; reactivated &lt; churned, then id.</summary>
    public static int Compare(long ticksA, FactType typeA, string idA, long ticksB, FactType typeB, string idB)
    {
        var c = ticksA.CompareTo(ticksB);
        if (c != 0) return c;
        c = Rank(typeA).CompareTo(Rank(typeB));
        return c != 0 ? c : string.CompareOrdinal(idA, idB);
    }

    private static int Rank(FactType type) => type switch
    {
        FactType.CustomerAcquired => 0,
        FactType.CustomerReactivated => 1,
        _ => 2,
    };
}

/// <summary>
/// The state machine a customer's lifecycle facts run through, in timeline order (see
/// <see cref="CustomerTimeline"/>): the one place that says what a lifecycle fact does.
/// </summary>
public struct LifecycleState
{
    private bool _active;
    private bool _everActive;
    private bool _churned;

    /// <summary>Applies the next fact of the timeline; returns its effect.</summary>
    public LifecycleEffect Apply(FactType type)
    {
        switch (type)
        {
            case FactType.CustomerAcquired when !_active:
                var effect = _churned || _everActive ? LifecycleEffect.WinBack : LifecycleEffect.New;
                _active = _everActive = true;
                return effect;
            case FactType.CustomerReactivated when !_active:
                _active = _everActive = true;
                return LifecycleEffect.WinBack;
            case FactType.CustomerChurned:
                var churn = _active ? LifecycleEffect.Churn : LifecycleEffect.None;
                _active = false;
                _churned = true;
                return churn;
            default:
                return LifecycleEffect.None;
        }
    }
}
