using System.Globalization;
using System.Text;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;

namespace CrmMetrics.Domain.Alerts;

/// <summary>
/// Words and numbers for people: indicator, scope and period names in English and Persian, numbers
/// rounded as a reader expects them (Persian digits and separators in Persian), and Solar Hijri
/// month names when that calendar is configured.
/// </summary>
public sealed class AlertText(ReportingCalendar calendar, string currency)
{
    private static readonly string[] GregorianEn = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames[..12];
    private static readonly string[] PersianEn = ["Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar", "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand"];
    private static readonly string[] GregorianFa = ["ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن", "ژوئیه", "اوت", "سپتامبر", "اکتبر", "نوامبر", "دسامبر"];
    private static readonly string[] PersianFa = ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"];
    private static readonly string[] OrdinalFa = ["اول", "دوم", "سوم", "چهارم"];

    private bool Persian => calendar.Kind == ReportingCalendarKind.Persian;

    public string Indicator(string id, bool fa) => IndicatorCatalog.NameOf(id, fa);

    public string Scope(string scope, bool fa)
    {
        var colon = scope.IndexOf(':');
        var (kind, value) = colon < 0 ? (scope, "") : (scope[..colon], scope[(colon + 1)..]);
        return (kind, fa) switch
        {
            ("org", false) => "the organisation",
            ("org", true) => "کل سازمان",
            ("channel", false) => $"the {value} channel",
            ("channel", true) => $"کانال {value}",
            ("segment", false) => $"the {value} segment",
            ("segment", true) => $"بخش {value}",
            ("region", false) => $"region {value}",
            ("region", true) => $"منطقه {value}",
            ("staff", false) => $"staff member {value}",
            ("staff", true) => $"کارمند {value}",
            ("competitor", false) => $"competitor {value}",
            ("competitor", true) => $"رقیب {value}",
            _ => scope,
        };
    }

    public string Period(string key, bool fa)
    {
        var parts = key.Split('-');
        var year = parts[0];
        string Year(string y) => fa ? Digits(y) : y;
        if (parts.Length == 1) return fa ? $"سال {Digits(year)}" : year;
        if (parts[1].StartsWith('Q'))
        {
            var q = int.Parse(parts[1][1..], CultureInfo.InvariantCulture);
            return fa ? $"فصل {OrdinalFa[q - 1]} {Year(year)}" : $"Q{q} {year}";
        }
        if (parts[1].StartsWith('W')) return fa ? $"هفته {Digits(parts[1][1..].TrimStart('0'))} سال {Year(year)}" : $"week {int.Parse(parts[1][1..], CultureInfo.InvariantCulture)} of {year}";
        var month = int.Parse(parts[1], CultureInfo.InvariantCulture) - 1;
        var monthName = (Persian, fa) switch { (true, true) => PersianFa[month], (true, false) => PersianEn[month], (false, true) => GregorianFa[month], _ => GregorianEn[month] };
        if (parts.Length == 2) return $"{monthName} {Year(year)}";
        var day = int.Parse(parts[2], CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        return fa ? $"{Digits(day)} {monthName} {Year(year)}" : $"{day} {monthName} {year}";
    }

    public string Grain(Grain grain, bool fa, bool plural) => (grain, fa) switch
    {
        (Periods.Grain.Day, false) => plural ? "days" : "day",
        (Periods.Grain.Week, false) => plural ? "weeks" : "week",
        (Periods.Grain.Month, false) => plural ? "months" : "month",
        (Periods.Grain.Quarter, false) => plural ? "quarters" : "quarter",
        (Periods.Grain.Year, false) => plural ? "years" : "year",
        (Periods.Grain.Day, true) => "روز",
        (Periods.Grain.Week, true) => "هفته",
        (Periods.Grain.Month, true) => "ماه",
        (Periods.Grain.Quarter, true) => "فصل",
        _ => "سال",
    };

    /// <summary>A value with its unit, rounded for people.</summary>
    public string Value(double? value, string unit, bool fa)
    {
        if (value is not { } v) return fa ? "نامعلوم" : "unknown";
        var text = unit switch
        {
            "currency" => Math.Abs(v) >= 1000 ? v.ToString("#,##0", CultureInfo.InvariantCulture) : v.ToString("#,##0.00", CultureInfo.InvariantCulture),
            "count" => v.ToString("#,##0", CultureInfo.InvariantCulture),
            _ => v.ToString("#,##0.#", CultureInfo.InvariantCulture),
        };
        if (fa) text = Digits(text);
        return unit switch
        {
            "%" => fa ? text + "٪" : text + "%",
            "currency" => fa ? $"{text} {currency}" : $"{currency} {text}",
            "hours" => fa ? $"{text} ساعت" : $"{text} hours",
            "seconds" => fa ? $"{text} ثانیه" : $"{text} seconds",
            "per 1,000" => fa ? $"{text} در هزار" : $"{text} per 1,000",
            _ => text,
        };
    }

    public string Number(double value, bool fa, string format = "#,##0.#")
    {
        var text = value.ToString(format, CultureInfo.InvariantCulture);
        return fa ? Digits(text) : text;
    }

    /// <summary>Persian digits, Arabic thousands and decimal separators, and a true minus sign.</summary>
    public static string Digits(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                >= '0' and <= '9' => (char)('۰' + (c - '0')),
                ',' => '٬',
                '.' => '٫',
                '-' => '−',
                _ => c,
            });
        }
        return sb.ToString();
    }
}
