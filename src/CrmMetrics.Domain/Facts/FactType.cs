namespace CrmMetrics.Domain.Facts;

/// <summary>The kinds of CRM facts the contract (events.md) defines.</summary>
public enum FactType
{
    CustomerAcquired,
    CustomerChurned,
    CustomerReactivated,
    Interaction,
    Order,
    SurveyResponse,
    ComplaintOpened,
    ComplaintResolved,
    DealClosed,
    CompetitorObservation,
    MarketObservation,
}

public static class FactTypes
{
    private static readonly (FactType Type, string Name)[] Names =
    [
        (FactType.CustomerAcquired, "customer.acquired"),
        (FactType.CustomerChurned, "customer.churned"),
        (FactType.CustomerReactivated, "customer.reactivated"),
        (FactType.Interaction, "interaction"),
        (FactType.Order, "order"),
        (FactType.SurveyResponse, "survey.response"),
        (FactType.ComplaintOpened, "complaint.opened"),
        (FactType.ComplaintResolved, "complaint.resolved"),
        (FactType.DealClosed, "deal.closed"),
        (FactType.CompetitorObservation, "competitor.observation"),
        (FactType.MarketObservation, "market.observation"),
    ];

    private static readonly Dictionary<string, FactType> ByName =
        Names.ToDictionary(n => n.Name, n => n.Type, StringComparer.Ordinal);

    private static readonly byte[][] Utf8Names = [.. Names.Select(n => System.Text.Encoding.UTF8.GetBytes(n.Name))];

    public static IEnumerable<string> AllNames => Names.Select(n => n.Name);

    public static string Name(this FactType type) => Names[(int)type].Name;

    public static bool TryParse(string? name, out FactType type)
    {
        if (name is not null && ByName.TryGetValue(name, out type)) return true;
        type = default;
        return false;
    }

    /// <summary>The type named by its UTF-8 bytes, as stored, without making a string of them.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out FactType type)
    {
        for (var i = 0; i < Utf8Names.Length; i++)
        {
            if (!utf8.SequenceEqual(Utf8Names[i])) continue;
            type = Names[i].Type;
            return true;
        }
        type = default;
        return false;
    }

    /// <summary>Observations describe the market, not a customer, so they carry no customerId.</summary>
    public static bool NeedsCustomer(this FactType type) =>
        type is not (FactType.CompetitorObservation or FactType.MarketObservation);

    public static bool IsLifecycle(this FactType type) =>
        type is FactType.CustomerAcquired or FactType.CustomerChurned or FactType.CustomerReactivated;

    public static bool IsComplaint(this FactType type) =>
        type is FactType.ComplaintOpened or FactType.ComplaintResolved;

    public static bool IsObservation(this FactType type) =>
        type is FactType.CompetitorObservation or FactType.MarketObservation;
}
