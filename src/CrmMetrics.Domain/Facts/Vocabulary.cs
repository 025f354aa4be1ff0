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

    /// <summary>
    /// A code ISO 4217 lists now (not XXX, "no currency", nor XTS, kept for testing): what a deployment's
    /// reporting currency and the currencies it converts from must be. Events are only checked for the
    /// form (<see cref="IsCurrencyCode"/>): one in a currency without a rate is refused for that anyway.
    /// </summary>
    public static bool IsKnownCurrency(string? value) => value is not null && KnownCurrencies.Contains(value);

    private static readonly HashSet<string> KnownCurrencies = new("""
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
        CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
        GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
        KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN
        NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL
        SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES
        VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL
        """.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
}
