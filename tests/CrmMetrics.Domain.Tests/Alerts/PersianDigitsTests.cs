using CrmMetrics.Domain.Alerts;

namespace CrmMetrics.Domain.Tests.Alerts;

public class PersianDigitsTests
{
    [Theory]
    // Found by probing: "−۵٫۹" in a right-to-left sentence shows its sign to the right of the digits; CLDR's Persian format leads it with a left-to-right mark.
    [InlineData("-5.9", "\u200E−۵٫۹")]
    [InlineData("NPS -100%", "NPS \u200E−۱۰۰%")]
    [InlineData("1,234.5", "۱٬۲۳۴٫۵")]
    // A hyphen between digits (a period key, a date) is no sign.
    [InlineData("2026-12", "۲۰۲۶−۱۲")]
    [InlineData("a - b", "a − b")]
    public void Signs_of_numbers_keep_their_place_in_right_to_left_text(string text, string persian) =>
        Assert.Equal(persian, AlertText.Digits(text));
}
