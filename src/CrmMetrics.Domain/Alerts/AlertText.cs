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
public sealed class AlertText(ReportingCalendar calendar, string currency, IndicatorResolver? indicators = null)
{
    private readonly IndicatorResolver _indicators = indicators ?? IndicatorResolver.Catalog;

    private static readonly string[] GregorianEn = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames[..12];
    private static readonly string[] PersianEn = ["Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar", "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand"];
    private static readonly string[] GregorianFa = ["ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن", "ژوئیه", "اوت", "سپتامبر", "اکتبر", "نوامبر", "دسامبر"];
    private static readonly string[] PersianFa = ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"];
    private static readonly string[] OrdinalFa = ["اول", "دوم", "سوم", "چهارم"];

    private bool Persian => calendar.Kind == ReportingCalendarKind.Persian;

    /// <summary>Whether years and quarters are fiscal ones, which carry a mark of their own: days, weeks and months stay Gregorian.</summary>
    private bool Fiscal => calendar.Kind == ReportingCalendarKind.Fiscal;

    public string Indicator(string id, bool fa) => _indicators.NameOf(id, fa);

    /// <summary>The unit values of an indicator are written in ("%" for goal attainment, "index" for a benchmark index).</summary>
    public string UnitOf(string id) => _indicators.Describe(id)?.Unit ?? "";

    /// <summary>
    /// Why an indicator has no value, as a clause: "no customer satisfaction surveys were recorded".
    /// Said of the facts a value needs, so the reader knows what to collect.
    /// </summary>
    public string MissingData(string id, bool fa, string? scope = null)
    {
        // indicators.md: not defined per channel (its customers belong to no channel); found by probing:
        // the warning blamed an empty customer base.
        if (id == "cx.complaint-rate" && scope is not null && Aggregation.Scope.KindOf(scope) == "channel")
            return fa ? "شکایت به ازای هر هزار مشتری برای هیچ کانالی تعریف نمی‌شود (مشتریان به کانالی تعلق ندارند)"
                : "complaints per 1,000 customers are not defined per channel (customers belong to no channel)";
        if (IndicatorCatalog.IsDerivedId(id))
        {
            var name = Indicator(id, fa);
            return fa ? $"برای «{name}» مقداری محاسبه نشد (یکی از اجزای آن مقدار نداشت یا مقسوم‌علیه صفر بود)"
                : $"no value could be computed for “{name}” (an operand had no value or a divisor was zero)";
        }
        if (id == "bench.market-share") return fa ? "اندازه بازار ثبت نشد" : "no market size was recorded";
        if (id == "bench.relative-market-share")
            return fa ? "اندازه بازار یا سهم بازار رقبا ثبت نشد، یا سهم بزرگ‌ترین رقیب صفر بود" : "the market size or the competitors' market shares were not recorded, or the largest competitor's share was 0";
        if (id == "bench.win-rate-vs") return fa ? "هیچ معامله‌ای با ذکر نام این رقیب بسته نشد" : "no deals naming the competitor were closed";
        // Own X minus (or against) the competitors' X: either side may be what is missing.
        if (IndicatorCatalog.BenchmarkSubject(id) is { } subject)
        {
            var name = Indicator(subject, fa);
            var index = id.StartsWith("bench.index.", StringComparison.Ordinal);
            return (fa, index) switch
            {
                (true, false) => $"«{name}» ما مقداری نداشت یا رقمی از رقبا برای آن ثبت نشد",
                (false, false) => $"our own {name} had no value, or no competitor's figure for it was recorded",
                // indicators.md: the index is null off a ratio scale (NPS) and when its denominator is 0.
                (true, true) => $"«{name}» ما مقداری نداشت، رقمی از رقبا برای آن ثبت نشد، یا شاخص برای آن تعریف نمی‌شود (مقدار صفر در مخرج، یا شاخصی که می‌تواند منفی باشد)",
                (false, true) => $"our own {name} had no value, no competitor's figure for it was recorded, or the index is not defined for it (a denominator of 0, or a figure that can be negative)",
            };
        }
        if (id.StartsWith("bench.", StringComparison.Ordinal)) return fa ? "هیچ مشاهده‌ای از رقبا ثبت نشد" : "no competitor observations were recorded";
        var (en, faText) = id switch
        {
            "cx.nps" => ("no NPS survey answers were recorded", "هیچ پاسخی به نظرسنجی NPS ثبت نشد"),
            "cx.csat" => ("no customer satisfaction surveys were recorded", "هیچ پاسخی به نظرسنجی رضایت مشتری ثبت نشد"),
            "cx.ces" => ("no customer effort surveys were recorded", "هیچ پاسخی به نظرسنجی سهولت تعامل ثبت نشد"),
            "cx.complaint-rate" => ("no customers were active at the end of the period", "هیچ مشتری فعالی در پایان دوره وجود نداشت"),
            "cx.resolution-hours-p50" or "cx.resolution-hours-p90" or "cx.sla-compliance" => ("no complaints were resolved", "هیچ شکایتی حل‌وفصل نشد"),
            "cx.fcr" => ("no inbound interactions reported whether they were resolved at first contact", "هیچ تعامل ورودی‌ای با نشانه حل در اولین تماس ثبت نشد"),
            "cx.churn-rate" or "cx.retention-rate" => ("no customers were active at the start of the period", "هیچ مشتری فعالی در آغاز دوره وجود نداشت"),
            "com.active-customers" => ("active customers are not counted for this scope", "مشتریان فعال برای این بخش شمرده نمی‌شوند"),
            "com.arpc" or "com.ssc-revenue-share" => ("no orders were recorded", "هیچ سفارشی ثبت نشد"),
            "com.deal-win-rate" => ("no deals were closed", "هیچ معامله‌ای بسته نشد"),
            "com.avg-deal-size" => ("no deals were won", "هیچ معامله موفقی ثبت نشد"),
            "cx.avg-handle-seconds" => ("no interactions reported a handling time", "هیچ تعاملی با زمان رسیدگی ثبت نشد"),
            _ => ($"there was no data to compute {Indicator(id, false)}", $"داده‌ای برای محاسبه {Indicator(id, true)} وجود نداشت"),
        };
        return fa ? faText : en;
    }

    public string Scope(string scope, bool fa)
    {
        var colon = scope.IndexOf(':');
        var (kind, value) = colon < 0 ? (scope, "") : (scope[..colon], scope[(colon + 1)..]);
        return (kind, fa) switch
        {
            ("org", false) => "the organisation",
            ("org", true) => "کل سازمان",
            ("channel", false) => $"the {value} channel",
            ("channel", true) => $"کانال {ChannelsFa.GetValueOrDefault(value, value)}",
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

    /// <summary>
    /// The contract's channels in Persian, as the dashboard names them (found by a contract probe: a Persian
    /// alert named the channel "phone" in English).
    /// </summary>
    private static readonly Dictionary<string, string> ChannelsFa = new(StringComparer.Ordinal)
    {
        ["phone"] = "تلفن", ["email"] = "ایمیل", ["web"] = "وب", ["chat"] = "گفتگوی برخط", ["social"] = "شبکه‌های اجتماعی",
        ["mobile"] = "موبایل", ["mail"] = "پست", ["fax"] = "فکس", ["in-person"] = "حضوری", ["other"] = "سایر",
    };

    /// <summary>
    /// The scope after its Persian preposition: "در" (in) a channel, segment, region or the organisation,
    /// "برای" (for) a staff member or competitor, who are people and firms, not places.
    /// </summary>
    public string InScopeFa(string scope) =>
        (scope.StartsWith("staff:", StringComparison.Ordinal) || scope.StartsWith("competitor:", StringComparison.Ordinal) ? "برای " : "در ") + Scope(scope, true);

    /// <summary>
    /// A period's name: "October 2026", "Q4 2026", "week 48 of 2026", "2 December 2026". Under a fiscal calendar its
    /// years and quarters, which name other months than the calendar year's, are marked as fiscal: "FY2026",
    /// "FY2026 Q1", in Persian "سال مالی ۲۰۲۶", "فصل اول سال مالی ۲۰۲۶" (found by probing: "2026" beside months
    /// of 2027 carried no mark of its own).
    /// </summary>
    public string Period(string key, bool fa)
    {
        var parts = key.Split('-');
        var year = parts[0];
        string Year(string y) => fa ? Digits(y) : y;
        if (parts.Length == 1) return (Fiscal, fa) switch { (true, true) => $"سال مالی {Digits(year)}", (true, false) => $"FY{year}", (false, true) => $"سال {Digits(year)}", _ => year };
        if (parts[1].StartsWith('Q'))
        {
            var q = int.Parse(parts[1][1..], CultureInfo.InvariantCulture);
            return (Fiscal, fa) switch
            {
                (true, true) => $"فصل {OrdinalFa[q - 1]} سال مالی {Digits(year)}",
                (true, false) => $"FY{year} Q{q}",
                (false, true) => $"فصل {OrdinalFa[q - 1]} {Year(year)}",
                _ => $"Q{q} {year}",
            };
        }
        // Weeks are ISO weeks of a Gregorian year in every calendar: beside Solar Hijri months its year is
        // said to be Gregorian (found by probing: "week 48 of 2026" next to months of 1405).
        if (parts[1].StartsWith('W'))
            return fa ? $"هفته {Digits(parts[1][1..].TrimStart('0'))} سال {Year(year)}{(Persian ? " میلادی" : "")}" : $"week {int.Parse(parts[1][1..], CultureInfo.InvariantCulture)} of {year}";
        var month = int.Parse(parts[1], CultureInfo.InvariantCulture) - 1;
        var monthName = (Persian, fa) switch { (true, true) => PersianFa[month], (true, false) => PersianEn[month], (false, true) => GregorianFa[month], _ => GregorianEn[month] };
        if (parts.Length == 2) return $"{monthName} {Year(year)}";
        var day = int.Parse(parts[2], CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        return fa ? $"{Digits(day)} {monthName} {Year(year)}" : $"{day} {monthName} {year}";
    }

    /// <summary>A period as an English adverbial: "in October 2026", "in Q4 2026", but "on 2 December 2026".</summary>
    public string In(string key) => (key.Count(c => c == '-') == 2 ? "on " : "in ") + Period(key, false);

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

    /// <summary>
    /// A value with its unit, rounded for people. Given <paramref name="apartFrom"/> (the other number
    /// of a comparison), it keeps as many more decimals as it takes not to read as that number: 4.96
    /// against a threshold of 5 is "4.96", not "5", and an attainment of 99.96% against 100% is
    /// "99.96%". Both numbers of a comparison are written this way, each apart from the other, so they
    /// get the same decimals (a bound of 4.96 against 4.97 reads "4.96").
    /// </summary>
    public string Value(double? value, string unit, bool fa, double? apartFrom = null)
    {
        if (value is not { } v) return fa ? "نامعلوم" : "unknown";
        var text = Rounded(v, unit, apartFrom);
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

    /// <summary>
    /// A difference between two values of a unit: as <see cref="Value"/>, except that a difference of
    /// percentages is in percentage points ("8 percentage points", not "8%", which reads as relative).
    /// </summary>
    public string Difference(double value, string unit, bool fa, double? apartFrom = null) =>
        unit != "%" ? Value(value, unit, fa, apartFrom)
        : fa ? $"{Number(value, true, apartFrom: apartFrom)} واحد درصد" : Points(Number(value, false, apartFrom: apartFrom));

    private static string Points(string number) => $"{number} percentage point{(number is "1" or "-1" ? "" : "s")}";

    /// <summary>A plain number (a percentile, a count of periods), kept apart from <paramref name="apartFrom"/> as <see cref="Value"/> does.</summary>
    public string Number(double value, bool fa, string format = "#,##0.#", double? apartFrom = null)
    {
        var decimals = Decimals(format);
        if (apartFrom is { } other && DecimalsApart(value, other, decimals) is { } more && more > decimals) format = "#,##0." + new string('#', more);
        var text = value.ToString(format, CultureInfo.InvariantCulture);
        return fa ? Digits(text) : text;
    }

    private static string Rounded(double v, string unit, double? apartFrom)
    {
        // Currency under 1,000 always shows its cents; a whole count shows no decimals, an average of counts one.
        var (fixedDecimals, decimals) = unit switch
        {
            "currency" => Math.Abs(v) >= 1000 ? (0, 0) : (2, 2),
            "count" => (0, v == Math.Floor(v) ? 0 : 1),
            _ => (0, 1),
        };
        if (apartFrom is { } other) decimals = DecimalsApart(v, other, decimals) ?? decimals;
        var format = decimals == 0 ? "#,##0" : "#,##0." + new string('0', fixedDecimals) + new string('#', Math.Max(0, decimals - fixedDecimals));
        return v.ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary>The fewest decimals, from <paramref name="from"/> up to 15, at which two different numbers round apart; null when they are equal.</summary>
    private static int? DecimalsApart(double value, double other, int from)
    {
        if (value == other) return null;
        var decimals = from;
        while (decimals < 15 && Math.Round(value, decimals, MidpointRounding.AwayFromZero) == Math.Round(other, decimals, MidpointRounding.AwayFromZero)) decimals++;
        return decimals;
    }

    private static int Decimals(string format) => format.IndexOf('.') is var dot and >= 0 ? format.Length - dot - 1 : 0;

    /// <summary>
    /// Persian digits, Arabic thousands and decimal separators, and a true minus sign; a minus that is a
    /// number's sign is led by a left-to-right mark, as CLDR's Persian number format has it (found by
    /// probing: without it a right-to-left paragraph shows the sign to the right of the digits, "۵٫۹−").
    /// </summary>
    public static string Digits(string text)
    {
        var sb = new StringBuilder(text.Length + 2);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '-' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1]) && (i == 0 || !char.IsAsciiDigit(text[i - 1])))
            {
                sb.Append('\u200E').Append('−');
                continue;
            }
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
