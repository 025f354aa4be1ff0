using System.Diagnostics.CodeAnalysis;

namespace CrmMetrics.Domain.Periods;

/// <summary>
/// The numbers read from a period key by its shape alone, before any calendar checks:
/// <c>yyyy</c>, <c>yyyy-MM</c>, <c>yyyy-Qn</c>, <c>YYYY-Www</c> or <c>yyyy-MM-dd</c>.
/// </summary>
/// <param name="Grain">The grain the shape denotes.</param>
/// <param name="Year">The year (ISO week-year for weeks, year label for quarters and years).</param>
/// <param name="Part">Month, quarter or week number; zero for years.</param>
/// <param name="Day">Day of month for day keys; zero otherwise.</param>
internal readonly record struct PeriodKeyShape(Grain Grain, int Year, int Part, int Day)
{
    private const string Shapes = "yyyy, yyyy-MM, yyyy-Qn, YYYY-Www or yyyy-MM-dd";

    /// <summary>The written form of each grain's key, for error messages.</summary>
    public static string Pattern(Grain grain) => grain switch
    {
        Grain.Day => "yyyy-MM-dd",
        Grain.Week => "YYYY-Www",
        Grain.Month => "yyyy-MM",
        Grain.Quarter => "yyyy-Qn",
        _ => "yyyy",
    };

    /// <summary>Reads the shape of a key; strict ASCII digits and exact lengths, never throws.</summary>
    public static bool TryRead(string? key, out PeriodKeyShape shape, [NotNullWhen(false)] out string? error)
    {
        shape = default;
        error = null;
        if (key is null)
        {
            error = "the period key is missing";
            return false;
        }

        if (key.Length == 0)
        {
            error = "the period key is empty";
            return false;
        }

        var text = key.AsSpan();
        if (text.Length is 4 or 7 or 8 or 10 && TryDigits(text[..4], out var year))
        {
            if (text.Length == 4)
            {
                shape = new PeriodKeyShape(Grain.Year, year, 0, 0);
                return true;
            }

            if (text[4] == '-')
            {
                switch (text.Length)
                {
                    case 7 when TryDigits(text[5..7], out var month):
                        shape = new PeriodKeyShape(Grain.Month, year, month, 0);
                        return true;
                    case 7 when text[5] == 'Q' && TryDigits(text[6..7], out var quarter):
                        shape = new PeriodKeyShape(Grain.Quarter, year, quarter, 0);
                        return true;
                    case 7 when text[5] == 'q':
                        error = $"'{ReportingCalendar.Shorten(key)}' needs an uppercase Q (yyyy-Qn)";
                        return false;
                    case 8 when text[5] == 'W' && TryDigits(text[6..8], out var week):
                        shape = new PeriodKeyShape(Grain.Week, year, week, 0);
                        return true;
                    case 8 when text[5] == 'w':
                        error = $"'{ReportingCalendar.Shorten(key)}' needs an uppercase W (YYYY-Www)";
                        return false;
                    case 10 when text[7] == '-' && TryDigits(text[5..7], out var dayMonth) && TryDigits(text[8..10], out var day):
                        shape = new PeriodKeyShape(Grain.Day, year, dayMonth, day);
                        return true;
                }
            }
        }

        error = $"'{ReportingCalendar.Shorten(key)}' is not a period key; expected {Shapes}";
        return false;
    }

    // char.IsAsciiDigit keeps out Persian and Arabic-Indic digits, which int.Parse would also refuse but less clearly.
    private static bool TryDigits(ReadOnlySpan<char> digits, out int value)
    {
        value = 0;
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }
}
