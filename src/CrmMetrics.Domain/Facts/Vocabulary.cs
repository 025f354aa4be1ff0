namespace CrmMetrics.Domain.Facts;

/// <summary>The closed vocabularies of the event contract, in one place.</summary>
public static class Vocabulary
{
    public static readonly IReadOnlyList<string> Channels =
        ["phone", "email", "web", "chat", "social", "mobile", "mail", "fax", "in-person", "other"];

    public static readonly IReadOnlyList<string> Directions = ["inbound", "outbound"];
    public static readonly IReadOnlyList<string> SurveyMetrics = ["nps", "csat", "ces"];
    public static readonly IReadOnlyList<string> Severities = ["low", "medium", "high", "critical"];
    public static readonly IReadOnlyList<string> Outcomes = ["won", "lost"];

    /// <summary>Inclusive score range per survey metric.</summary>
    public static (int Min, int Max) ScoreRange(string metric) => metric switch
    {
        "nps" => (0, 10),
        "csat" => (1, 5),
        "ces" => (1, 7),
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown survey metric"),
    };

    /// <summary>Ids, customer ids and staff ids: 1–128 characters of [A-Za-z0-9._:-].</summary>
    public static bool IsKey(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 128) return false;
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-')) return false;
        }
        return true;
    }

    /// <summary>
    /// Free labels (segment, region, competitor, case and deal ids): 1–128 characters, no control
    /// characters. Spaces alone are a label too: events.md compares strings exactly, trimming nothing.
    /// Characters are counted as Unicode code points, so one outside the basic plane (an emoji, a rare
    /// CJK ideograph) counts once, not as its two UTF-16 halves (found by a contract probe); the longest
    /// label is then 256 UTF-16 units, well inside the 1 KiB of a table key it is part of.
    /// </summary>
    public static bool IsLabel(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 256) return false;
        var count = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            if (++count > 128 || System.Text.Rune.IsControl(rune)) return false;
        }
        return true;
    }

    /// <summary>
    /// Whether text shows nothing: only spaces and invisible format characters (zero-width joiners,
    /// which Persian uses between letters, alone show nothing).
    /// </summary>
    public static bool ShowsNothing(string text) =>
        text.EnumerateRunes().All(r => System.Text.Rune.IsWhiteSpace(r) || System.Text.Rune.GetUnicodeCategory(r) == System.Globalization.UnicodeCategory.Format);

    public static bool IsCurrencyCode(string? value) =>
        value is { Length: 3 } && value.All(char.IsAsciiLetterUpper);
}
