using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Functions.Api;

namespace CrmMetrics.Functions.Tests.Api;

/// <summary>Exact values are written as numbers are, in JSON and CSV alike: no trailing zeros their arithmetic left.</summary>
public class SnapshotValueTests
{
    private static SnapshotRow Row(decimal? exact, double? value) => new()
    {
        Indicator = "com.revenue", Family = "com", Scope = "org", Grain = Grain.Month, Period = "2026-10", Exact = exact, Value = value,
        Unit = "currency", Direction = Direction.Higher, Kind = IndicatorKind.Internal,
    };

    [Theory]
    [InlineData("500.0", "500")]                                   // found by probing: 500.0 for the organisation, 150 for a channel
    [InlineData("1000000000000000.0000000000000", "1000000000000000")]
    [InlineData("12.50", "12.5")]
    [InlineData("0.000", "0")]
    [InlineData("-79228162514264337593543950335", "-79228162514264337593543950335")]
    [InlineData("0.0000000000000000000000000001", "0.0000000000000000000000000001")]
    public void An_exact_value_is_written_without_trailing_zeros(string stored, string written)
    {
        var exact = decimal.Parse(stored, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(written, ((decimal)SnapshotRowDto.From(Row(exact, (double)exact)).Value!).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("," + written + ",", SnapshotCsv.Write([Row(exact, (double)exact)]));
    }

    [Fact]
    public void A_text_cell_a_spreadsheet_would_take_for_a_formula_is_led_by_an_apostrophe_and_a_negative_value_is_not()
    {
        // Found by probing: a derived indicator's unit reached Excel as a formula.
        var csv = SnapshotCsv.Write([Row(-5m, -5) with { Indicator = "derived.x", Unit = "=HYPERLINK(\"http://evil\",\"x\")" }]);
        var line = csv.Split("\r\n")[1];
        Assert.Contains(",-5,", line);
        Assert.Contains(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",", line);
        Assert.StartsWith("derived.x,", line);
    }
}
