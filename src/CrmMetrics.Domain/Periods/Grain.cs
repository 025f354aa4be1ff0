namespace CrmMetrics.Domain.Periods;

/// <summary>The size of a reporting period.</summary>
public enum Grain
{
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// <summary>The text names of <see cref="Grain"/> used in settings, keys and storage.</summary>
public static class Grains
{
    private static readonly Grain[] Ordered = [Grain.Day, Grain.Week, Grain.Month, Grain.Quarter, Grain.Year];

    /// <summary>Every grain, finest first.</summary>
    public static IReadOnlyList<Grain> All { get; } = Array.AsReadOnly(Ordered);

    /// <summary>The lowercase name of a grain: "day", "week", "month", "quarter" or "year".</summary>
    public static string Key(Grain grain) => grain switch
    {
        Grain.Day => "day",
        Grain.Week => "week",
        Grain.Month => "month",
        Grain.Quarter => "quarter",
        Grain.Year => "year",
        _ => throw new ArgumentOutOfRangeException(nameof(grain), grain, "Unknown grain."),
    };

    /// <summary>Reads a grain from its exact lowercase name; anything else (case, spaces, numbers) fails.</summary>
    public static bool TryParse(string? text, out Grain grain)
    {
        foreach (var candidate in Ordered)
        {
            if (string.Equals(text, Key(candidate), StringComparison.Ordinal))
            {
                grain = candidate;
                return true;
            }
        }

        grain = default;
        return false;
    }
}
