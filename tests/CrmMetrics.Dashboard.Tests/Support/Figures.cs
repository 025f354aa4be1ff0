using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CrmMetrics.Dashboard.Tests.Support;

/// <summary>How the page is expected to show a figure, reduced to what does not depend on the locale: its digits.</summary>
public static class Figures
{
    /// <summary>The decimals the page shows for a value of a unit (as Words.digits in i18n.js).</summary>
    public static int Decimals(double value, string unit) => unit switch
    {
        "count" => 0,
        "currency" => Math.Abs(value) >= 1000 ? 0 : 2,
        "ratio" => 2,
        _ => Math.Abs(value) >= 100 ? 0 : 1,
    };

    /// <summary>The digits of a value as shown: rounded half away from zero; trailing zeros dropped except for money's cents.</summary>
    public static string ExpectedDigits(double value, string unit)
    {
        var decimals = Decimals(value, unit);
        var rounded = Math.Round((decimal)value, decimals, MidpointRounding.AwayFromZero);
        var format = unit == "currency" && decimals == 2 ? "0.00" : decimals == 0 ? "0" : "0." + new string('#', decimals);
        return DigitsOf(Math.Abs(rounded).ToString(format, CultureInfo.InvariantCulture));
    }

    /// <summary>The digits of a text, Persian digits read as their values; everything else dropped.</summary>
    public static string DigitsOf(string text)
    {
        var sb = new StringBuilder();
        foreach (var c in text)
        {
            if (c is >= '0' and <= '9') sb.Append(c);
            else if (c is >= '۰' and <= '۹') sb.Append((char)('0' + (c - '۰')));
        }
        return sb.ToString();
    }

    public static bool HasAsciiDigits(string text) => text.Any(c => c is >= '0' and <= '9');
    public static bool HasPersianDigits(string text) => text.Any(c => c is >= '۰' and <= '۹');

    public static double? Number(JsonElement element, string member) =>
        element.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
}
