namespace CrmMetrics.Domain.Aggregation;

/// <summary>
/// Everything the base indicators need about one scope over some days that merges by adding:
/// counts and sums, exact survey histograms, a duration digest. (Revenue per ordering customer does
/// not add up across days; it comes from the days' <see cref="OrderCells"/>.) A day's partial holds
/// one per scope; a period merges its days'.
/// </summary>
public sealed class ScopeAggregate
{
    public long FactCount { get; set; }

    // Surveys: exact histograms indexed by score.
    public long[] Nps { get; set; } = new long[11];
    public long[] Csat { get; set; } = new long[6];
    public long[] Ces { get; set; } = new long[8];

    // Complaints: opened in the days; resolutions counted on the day of the first resolve.
    public long ComplaintsOpened { get; set; }
    public long Resolved { get; set; }
    public long ResolvedWithinSla { get; set; }
    public DurationDigest ResolutionHours { get; set; } = new();

    // Interactions.
    public long Interactions { get; set; }
    public long InboundWithFcrFlag { get; set; }
    public long InboundFcrTrue { get; set; }
    public double HandleSecondsSum { get; set; }
    public long HandleSecondsCount { get; set; }

    // Orders.
    public decimal Revenue { get; set; }
    public long Orders { get; set; }

    // Deals.
    public long DealsClosed { get; set; }
    public long DealsWon { get; set; }
    public decimal WonAmount { get; set; }

    // Lifecycle transitions caused by this scope's lifecycle facts.
    public long NewCustomers { get; set; }
    public long WinBacks { get; set; }
    public long Churned { get; set; }

    public void Merge(ScopeAggregate other)
    {
        FactCount += other.FactCount;
        Add(Nps, other.Nps);
        Add(Csat, other.Csat);
        Add(Ces, other.Ces);
        ComplaintsOpened += other.ComplaintsOpened;
        Resolved += other.Resolved;
        ResolvedWithinSla += other.ResolvedWithinSla;
        ResolutionHours.Merge(other.ResolutionHours);
        Interactions += other.Interactions;
        InboundWithFcrFlag += other.InboundWithFcrFlag;
        InboundFcrTrue += other.InboundFcrTrue;
        HandleSecondsSum += other.HandleSecondsSum;
        HandleSecondsCount += other.HandleSecondsCount;
        Revenue += other.Revenue;
        Orders += other.Orders;
        DealsClosed += other.DealsClosed;
        DealsWon += other.DealsWon;
        WonAmount += other.WonAmount;
        NewCustomers += other.NewCustomers;
        WinBacks += other.WinBacks;
        Churned += other.Churned;
    }

    private static void Add(long[] into, long[] from)
    {
        for (var i = 0; i < into.Length && i < from.Length; i++) into[i] += from[i];
    }
}

/// <summary>Deals that named a competitor: who we won against or lost to.</summary>
public sealed class DealTally
{
    public long Won { get; set; }
    public long Closed { get; set; }

    public void Merge(DealTally other)
    {
        Won += other.Won;
        Closed += other.Closed;
    }
}

/// <summary>Changes in the number of active customers caused by one day's lifecycle facts, per scope.</summary>
public sealed class ActiveDelta
{
    public long Activated { get; set; }
    public long Deactivated { get; set; }
    public long Net => Activated - Deactivated;
}
