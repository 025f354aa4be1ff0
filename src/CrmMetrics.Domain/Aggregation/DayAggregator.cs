using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Lifecycle;

namespace CrmMetrics.Domain.Aggregation;

/// <summary>
/// The map step's arithmetic: folds one local day's facts, held as <see cref="FactColumns"/>, into a
/// <see cref="DayPartial"/>. Scopes are numbered slots found through small arrays indexed by label
/// code, so adding a fact indexes arrays and adds numbers: no strings, no hashing, no allocation.
/// Scope texts are built once, for the result. Facts whose meaning depends on other days (lifecycle
/// facts, complaint resolutions) are added with what their timeline or case says about them.
/// </summary>
public sealed class DayAggregator
{
    private const int OrgSlot = 0;

    private enum Kind { Org, Channel, Segment, Region, Staff }

    private readonly DateOnly _day;
    private readonly FactLabels _labels;
    private readonly bool _breakdowns;
    private readonly int _unknownSegment;
    private readonly int _unknownRegion;

    private readonly ScopeAggregate _org = new();
    private readonly List<ScopeAggregate> _scopes;
    private readonly List<(Kind Kind, int Code)> _keys = [(Kind.Org, FactColumns.None)];
    private readonly List<ActiveDelta?> _deltas = [null];
    private int[] _channelSlots = [];
    private int[] _segmentSlots = [];
    private int[] _regionSlots = [];
    private int[] _staffSlots = [];
    private DealTally?[] _competitors = [];
    private readonly ScopeAggregate[] _targets = new ScopeAggregate[5];
    private readonly OrderCells _orders;
    private readonly LifecycleCells _lifecycle = new();
    private long _factCount;

    /// <param name="breakdowns">False keeps only the organisation scope (benchmarks).</param>
    public DayAggregator(DateOnly day, FactLabels labels, bool breakdowns = true)
    {
        _day = day;
        _labels = labels;
        _breakdowns = breakdowns;
        _unknownSegment = labels.Segments.Code(Scope.Unknown);
        _unknownRegion = labels.Regions.Code(Scope.Unknown);
        _orders = new OrderCells(labels);
        _scopes = [_org];
    }

    /// <summary>The day's partial as added so far.</summary>
    public DayPartial Result()
    {
        var partial = new DayPartial { Day = _day, FactCount = _factCount, Orders = _orders, Lifecycle = _lifecycle };
        for (var slot = OrgSlot + 1; slot < _scopes.Count; slot++) partial.Scopes[NameOf(slot)] = _scopes[slot];
        if (_scopes[OrgSlot].FactCount > 0 || partial.Scopes.Count > 0) partial.Scopes[Scope.Org] = _scopes[OrgSlot];
        for (var slot = 0; slot < _deltas.Count; slot++)
        {
            if (_deltas[slot] is { } delta) partial.ActiveDeltas[NameOf(slot)] = delta;
        }
        for (var code = 0; code < _competitors.Length; code++)
        {
            if (_competitors[code] is { } tally) partial.DealsByCompetitor[_labels.Competitors[code]] = tally;
        }
        return partial;
    }

    /// <summary>
    /// Adds facts that need no other day (interactions, orders, surveys, complaint opens, deals), with
    /// their customers' segment and region from <paramref name="customers"/>.
    /// </summary>
    public void Add(FactColumns facts, ReadOnlySpan<int> rows, CustomerDimensions customers)
    {
        if (facts.Labels != _labels) throw new ArgumentException("The facts must use the aggregator's labels.", nameof(facts));
        var types = facts.Types;
        var customerCodes = facts.Customers;
        var channels = facts.Channels;
        var staff = facts.Staff;
        var amounts = facts.Amounts;
        var handleSeconds = facts.HandleSeconds;
        var flags = facts.Flags;
        var metrics = facts.Metrics;
        var scores = facts.Scores;
        var competitors = facts.Competitors;
        // Room for the rows' order cells at once. Grown by doubling, a day's cell columns were copied several
        // times over, and the large arrays that left behind set off full collections: most of the calculator's
        // days step in a sampled trace.
        var orders = 0;
        foreach (var row in rows)
        {
            if (types[row] == FactType.Order && customerCodes[row] != FactColumns.None) orders++;
        }
        _orders.ReserveMore(orders);
        foreach (var row in rows)
        {
            var type = types[row];
            if (type.IsObservation() || type.IsLifecycle() || type == FactType.ComplaintResolved)
            {
                throw new ArgumentException($"{type.Name()} facts are added with their context", nameof(rows));
            }
            var customer = customerCodes[row];
            var hasCustomer = customer != FactColumns.None;
            var segment = hasCustomer && _breakdowns ? customers.SegmentOf(customer) : FactColumns.None;
            var region = hasCustomer && _breakdowns ? customers.RegionOf(customer) : FactColumns.None;
            var n = Targets(channels[row], staff[row], segment, region, hasCustomer);
            switch (type)
            {
                case FactType.Interaction:
                    var seconds = handleSeconds[row];
                    var fcr = flags[row] & (FactFlags.Inbound | FactFlags.HasFirstContactResolution | FactFlags.FirstContactResolution);
                    for (var i = 0; i < n; i++)
                    {
                        var s = _targets[i];
                        s.Interactions++;
                        if (!double.IsNaN(seconds))
                        {
                            s.HandleSecondsSum += seconds;
                            s.HandleSecondsCount++;
                        }
                        if ((fcr & (FactFlags.Inbound | FactFlags.HasFirstContactResolution)) == (FactFlags.Inbound | FactFlags.HasFirstContactResolution))
                        {
                            s.InboundWithFcrFlag++;
                            if ((fcr & FactFlags.FirstContactResolution) != 0) s.InboundFcrTrue++;
                        }
                    }
                    break;
                case FactType.Order:
                    var amount = amounts[row];
                    for (var i = 0; i < n; i++)
                    {
                        _targets[i].Revenue += amount;
                        _targets[i].Orders++;
                    }
                    if (hasCustomer)
                    {
                        if (_breakdowns) _orders.Add(customer, channels[row], staff[row], segment, region, amount);
                        else _orders.Add(customer, FactColumns.None, FactColumns.None, FactColumns.None, FactColumns.None, amount);
                    }
                    break;
                case FactType.SurveyResponse:
                    var score = scores[row];
                    var metric = metrics[row];
                    for (var i = 0; i < n; i++)
                    {
                        var histogram = metric switch { SurveyMetric.Nps => _targets[i].Nps, SurveyMetric.Csat => _targets[i].Csat, _ => _targets[i].Ces };
                        histogram[score]++;
                    }
                    break;
                case FactType.ComplaintOpened:
                    for (var i = 0; i < n; i++) _targets[i].ComplaintsOpened++;
                    break;
                case FactType.DealClosed:
                    var won = (flags[row] & FactFlags.Won) != 0;
                    for (var i = 0; i < n; i++)
                    {
                        var s = _targets[i];
                        s.DealsClosed++;
                        if (won)
                        {
                            s.DealsWon++;
                            s.WonAmount += amounts[row];
                        }
                    }
                    if (competitors[row] is var competitor and not FactColumns.None)
                    {
                        var tally = CompetitorTally(competitor);
                        tally.Closed++;
                        if (won) tally.Won++;
                    }
                    break;
            }
        }
    }

    /// <summary>Adds a lifecycle fact with the effect its customer's timeline gives it and the timeline's segment and region codes.</summary>
    public void AddLifecycle(FactColumns facts, int row, LifecycleEffect effect, int segment, int region)
    {
        segment = segment == FactColumns.None ? _unknownSegment : segment;
        region = region == FactColumns.None ? _unknownRegion : region;
        var n = Targets(facts.Channels[row], facts.Staff[row], segment, region, hasCustomer: true);
        if (effect == LifecycleEffect.None) return;
        for (var i = 0; i < n; i++)
        {
            var s = _targets[i];
            switch (effect)
            {
                case LifecycleEffect.New: s.NewCustomers++; break;
                case LifecycleEffect.WinBack: s.WinBacks++; break;
                case LifecycleEffect.Churn: s.Churned++; break;
            }
        }
        Shift(OrgSlot, effect);
        if (facts.Customers[row] is var customer && customer != FactColumns.None)
            _lifecycle.Add(customer, segment, region, effect == LifecycleEffect.Churn ? LifecycleMoves.Churned : LifecycleMoves.Activated);
        if (!_breakdowns) return;
        Shift(Slot(ref _segmentSlots, segment, Kind.Segment), effect);
        Shift(Slot(ref _regionSlots, region, Kind.Region), effect);
    }

    /// <summary>Adds a <c>complaint.resolved</c> fact; <paramref name="resolution"/> is null when it is not the case's counted resolve.</summary>
    public void AddResolve(FactColumns facts, int row, Resolution? resolution, int segment, int region)
    {
        var channel = resolution?.Channel is { } c ? _labels.Channels.Code(c) : facts.Channels[row];
        var staff = resolution?.StaffId is { } st ? _labels.Staff.Code(st) : facts.Staff[row];
        segment = segment == FactColumns.None ? _unknownSegment : segment;
        region = region == FactColumns.None ? _unknownRegion : region;
        var n = Targets(channel, staff, segment, region, hasCustomer: true);
        if (resolution is null) return;
        for (var i = 0; i < n; i++)
        {
            var s = _targets[i];
            s.Resolved++;
            if (resolution.WithinSla) s.ResolvedWithinSla++;
            s.ResolutionHours.Add(resolution.Hours);
        }
    }

    /// <summary>Counts the fact and gathers the scopes it counts in; returns how many.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private int Targets(int channel, int staff, int segment, int region, bool hasCustomer)
    {
        _factCount++;
        var n = 0;
        _targets[n++] = _org;
        if (_breakdowns)
        {
            if (channel != FactColumns.None) _targets[n++] = _scopes[Slot(ref _channelSlots, channel, Kind.Channel)];
            if (hasCustomer)
            {
                _targets[n++] = _scopes[Slot(ref _segmentSlots, segment, Kind.Segment)];
                _targets[n++] = _scopes[Slot(ref _regionSlots, region, Kind.Region)];
            }
            if (staff != FactColumns.None) _targets[n++] = _scopes[Slot(ref _staffSlots, staff, Kind.Staff)];
        }
        for (var i = 0; i < n; i++) _targets[i].FactCount++;
        return n;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private int Slot(ref int[] slots, int code, Kind kind)
    {
        var slots0 = slots;
        return (uint)code < (uint)slots0.Length && slots0[code] >= 0 ? slots0[code] : NewSlot(ref slots, code, kind);
    }

    private int NewSlot(ref int[] slots, int code, Kind kind)
    {
        if (code >= slots.Length)
        {
            var old = slots.Length;
            Array.Resize(ref slots, Math.Max(code + 1, Math.Max(8, old * 2)));
            slots.AsSpan(old).Fill(-1);
        }
        var slot = slots[code];
        if (slot < 0)
        {
            slot = slots[code] = _scopes.Count;
            _scopes.Add(new ScopeAggregate());
            _keys.Add((kind, code));
            _deltas.Add(null);
        }
        return slot;
    }

    private void Shift(int slot, LifecycleEffect effect)
    {
        var delta = _deltas[slot] ??= new ActiveDelta();
        if (effect == LifecycleEffect.Churn) delta.Deactivated++;
        else delta.Activated++;
    }

    private DealTally CompetitorTally(int code)
    {
        if (code >= _competitors.Length) Array.Resize(ref _competitors, Math.Max(code + 1, Math.Max(4, _competitors.Length * 2)));
        return _competitors[code] ??= new DealTally();
    }

    private string NameOf(int slot)
    {
        var (kind, code) = _keys[slot];
        return kind switch
        {
            Kind.Channel => Scope.Channel(_labels.Channels[code]),
            Kind.Segment => Scope.Segment(_labels.Segments[code]),
            Kind.Region => Scope.Region(_labels.Regions[code]),
            Kind.Staff => Scope.Staff(_labels.Staff[code]),
            _ => Scope.Org,
        };
    }
}
