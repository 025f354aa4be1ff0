using CrmMetrics.Domain.Facts;

namespace CrmMetrics.Domain.Lifecycle;

/// <summary>One complaint fact as a case keeps it.</summary>
public sealed record ComplaintEvent(
    string Id,
    FactType Type,
    DateTimeOffset Time,
    string? CustomerId = null,
    string? Channel = null,
    string? StaffId = null,
    double? SlaHours = null)
{
    public static ComplaintEvent From(Fact fact) =>
        new(fact.Id, fact.Type, fact.Time, fact.CustomerId, fact.Channel, fact.StaffId, fact.SlaHours);

    public static ComplaintEvent From(FactColumns facts, int row)
    {
        var labels = facts.Labels;
        return new(facts.Ids[row], facts.Types[row], facts.TimeOf(row), labels.Customers.LabelOf(facts.Customers[row]),
            labels.Channels.LabelOf(facts.Channels[row]), labels.Staff.LabelOf(facts.Staff[row]), double.IsNaN(facts.SlaHours[row]) ? null : facts.SlaHours[row]);
    }
}

/// <summary>
/// The facts of one complaint case (by <c>caseId</c>), matched across days and arrival order:
/// the case opens at its earliest <c>complaint.opened</c> and is resolved at its earliest
/// <c>complaint.resolved</c>. A resolve whose case was never opened waits for the open.
/// </summary>
public sealed class ComplaintCase
{
    private readonly List<ComplaintEvent> _events;

    public ComplaintCase(string caseId, IEnumerable<ComplaintEvent> events)
    {
        CaseId = caseId;
        _events = events.DistinctBy(e => e.Id).ToList();
        _events.Sort(Compare);
    }

    public string CaseId { get; }
    public IReadOnlyList<ComplaintEvent> Events => _events;

    public ComplaintEvent? Opened => _events.FirstOrDefault(e => e.Type == FactType.ComplaintOpened);
    public ComplaintEvent? Resolved => _events.FirstOrDefault(e => e.Type == FactType.ComplaintResolved);

    public bool Add(IEnumerable<ComplaintEvent> events)
    {
        var known = _events.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        var added = false;
        foreach (var e in events)
        {
            if (known.Add(e.Id)) { _events.Add(e); added = true; }
        }
        if (added)
        {
            _events.Sort(Compare);
        }
        return added;
    }

    /// <summary>The resolution a resolve fact stands for, if it is the case's counted one and the case is open.</summary>
    public Resolution? ResolutionFor(string resolveFactId, double defaultSlaHours)
    {
        var opened = Opened;
        var resolved = Resolved;
        if (opened is null || resolved is null || resolved.Id != resolveFactId) return null;
        return Resolution.Of(opened, resolved, defaultSlaHours);
    }

    private static int Compare(ComplaintEvent a, ComplaintEvent b) => Compare(a.Time.UtcTicks, a.Id, b.Time.UtcTicks, b.Id);

    /// <summary>A case's order: time, then id. Its first open and first resolve by this order are the counted ones.</summary>
    public static int Compare(long ticksA, string idA, long ticksB, string idB) =>
        ticksA != ticksB ? ticksA.CompareTo(ticksB) : string.CompareOrdinal(idA, idB);
}

public sealed record Resolution(double Hours, bool WithinSla, string? Channel, string? StaffId, string? CustomerId)
{
    /// <summary>What resolving an opened complaint counts as.</summary>
    public static Resolution Of(ComplaintEvent opened, ComplaintEvent resolved, double defaultSlaHours)
    {
        var hours = (resolved.Time - opened.Time).TotalHours;
        var sla = opened.SlaHours ?? defaultSlaHours;
        return new Resolution(
            hours,
            hours <= sla,
            // The resolution belongs to the resolving fact's channel and staff, else the complaint's.
            resolved.Channel ?? opened.Channel,
            resolved.StaffId ?? opened.StaffId,
            resolved.CustomerId ?? opened.CustomerId);
    }
}
