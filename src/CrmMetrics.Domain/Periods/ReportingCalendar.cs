using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace CrmMetrics.Domain.Periods;

/// <summary>Which numbering a <see cref="ReportingCalendar"/> gives to months, quarters and years.</summary>
public enum ReportingCalendarKind
{
    Gregorian,
    Fiscal,
    Persian,
}

/// <summary>
/// The calendar a tenant reports in: Gregorian, a Gregorian fiscal year starting in a given month,
/// or the Persian (Solar Hijri) calendar. Immutable; equal when the setting text is equal.
/// </summary>
/// <remarks>
/// Fiscal-year naming rule: with first month F, a fiscal year runs twelve months from month F and is labelled
/// with the calendar year in which it starts when F ≤ 6, otherwise with the following year (the year in which
/// most of its months fall); quarters count from the fiscal year's first month and carry the fiscal year label,
/// while day and month keys stay Gregorian. Examples: fiscal:4 → "2026" = Apr 2026–Mar 2027 and "2026-Q1" =
/// Apr–Jun 2026; fiscal:7 → "2027" = Jul 2026–Jun 2027; fiscal:10 → "2027-Q1" = Oct–Dec 2026. Gregorian, Persian
/// and fiscal:1 years start in month 1 and keep their calendar year number.
/// </remarks>
public sealed class ReportingCalendar : IEquatable<ReportingCalendar>
{
    private const string Accepted = "use gregorian, persian or fiscal:<1-12>";
    private const string FiscalPrefix = "fiscal:";

    private ReportingCalendar(ReportingCalendarKind kind, int firstMonth, string setting)
    {
        Kind = kind;
        FirstMonth = firstMonth;
        Setting = setting;
    }

    /// <summary>The plain Gregorian calendar (setting "gregorian").</summary>
    public static ReportingCalendar Gregorian { get; } = new(ReportingCalendarKind.Gregorian, 1, "gregorian");

    /// <summary>The Solar Hijri calendar as computed by <see cref="PersianCalendar"/> (setting "persian").</summary>
    public static ReportingCalendar Persian { get; } = new(ReportingCalendarKind.Persian, 1, "persian");

    /// <summary>A Gregorian fiscal year whose first month is <paramref name="firstMonth"/> (setting "fiscal:N"), labelled by the class remarks rule.</summary>
    public static ReportingCalendar Fiscal(int firstMonth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(firstMonth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstMonth, 12);
        return new ReportingCalendar(
            ReportingCalendarKind.Fiscal,
            firstMonth,
            FiscalPrefix + firstMonth.ToString(CultureInfo.InvariantCulture));
    }

    public ReportingCalendarKind Kind { get; }

    /// <summary>
    /// The month (in the calendar's own month numbering) that opens the reporting year:
    /// 1 for Gregorian and Persian, the fiscal first month otherwise.
    /// </summary>
    public int FirstMonth { get; }

    /// <summary>The setting text this calendar was read from: "gregorian", "persian" or "fiscal:N".</summary>
    public string Setting { get; }

    /// <summary>How far a year label runs ahead of the calendar year its reporting year starts in (see the class remarks).</summary>
    internal int YearLabelOffset => FirstMonth <= 6 ? 0 : 1;

    /// <summary>Reads "gregorian", "persian" or "fiscal:1".."fiscal:12" exactly (lowercase, no spaces or leading zeros).</summary>
    public static bool TryParse(
        string? setting,
        [NotNullWhen(true)] out ReportingCalendar? calendar,
        [NotNullWhen(false)] out string? error)
    {
        calendar = null;
        error = null;
        if (string.IsNullOrEmpty(setting))
        {
            error = $"the calendar setting is empty; {Accepted}";
            return false;
        }

        if (setting == Gregorian.Setting)
        {
            calendar = Gregorian;
            return true;
        }

        if (setting == Persian.Setting)
        {
            calendar = Persian;
            return true;
        }

        if (setting.StartsWith(FiscalPrefix, StringComparison.Ordinal))
        {
            var digits = setting.AsSpan(FiscalPrefix.Length);
            // Leading zeros and signs are refused so that Setting always gives back the exact text.
            var wellFormed = digits.Length is 1 or 2 && digits[0] != '0' && char.IsAsciiDigit(digits[0])
                && (digits.Length == 1 || char.IsAsciiDigit(digits[1]));
            if (wellFormed)
            {
                var month = int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
                if (month <= 12)
                {
                    calendar = Fiscal(month);
                    return true;
                }

                error = $"fiscal first month {month} is not 1–12";
                return false;
            }
        }

        error = $"calendar setting '{Shorten(setting)}' is not supported; {Accepted}";
        return false;
    }

    /// <summary>Reads a calendar setting, throwing <see cref="FormatException"/> with the reason when it is not valid.</summary>
    public static ReportingCalendar Parse(string setting) =>
        TryParse(setting, out var calendar, out var error) ? calendar : throw new FormatException(error);

    public bool Equals(ReportingCalendar? other) =>
        other is not null && Kind == other.Kind && FirstMonth == other.FirstMonth;

    public override bool Equals(object? obj) => Equals(obj as ReportingCalendar);

    public override int GetHashCode() => HashCode.Combine(Kind, FirstMonth);

    public override string ToString() => Setting;

    public static bool operator ==(ReportingCalendar? left, ReportingCalendar? right) =>
        left is null ? right is null : left.Equals(right);

    public static bool operator !=(ReportingCalendar? left, ReportingCalendar? right) => !(left == right);

    // Keeps error messages readable when a configuration value is huge.
    internal static string Shorten(string text) => text.Length <= 24 ? text : string.Concat(text.AsSpan(0, 24), "…");
}
