using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Functions.OData;

namespace CrmMetrics.Functions.Tests.BiAccess;

/// <summary>The OData feed's decimal Value keeps the digits the REST API gives.</summary>
public class ODataValueTests
{
    private static SnapshotRow Row(double? value, decimal? exact = null) => new()
    {
        Indicator = "cx.csat", Family = "cx", Scope = "org", Grain = Grain.Month, Period = "2026-10", Value = value, Exact = exact,
        Unit = "%", Direction = Direction.Higher, Kind = IndicatorKind.Internal,
    };

    [Theory]
    [InlineData(200.0 / 3, "66.66666666666667")]   // found by probing: a cast gave 66.6666666666667
    [InlineData(0.1 + 0.2, "0.30000000000000004")]
    [InlineData(-1234567.125, "-1234567.125")]
    [InlineData(1e27, "1000000000000000000000000000")]
    public void A_value_has_its_shortest_round_trip_digits(double value, string expected) =>
        Assert.Equal(expected, ODataSnapshot.ToDecimal(Row(value))!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Money_is_exact_and_what_a_decimal_cannot_hold_is_null()
    {
        Assert.Equal(12.34m, ODataSnapshot.ToDecimal(Row(12.339999, 12.34m)));
        Assert.Null(ODataSnapshot.ToDecimal(Row(5e34)));
        Assert.Null(ODataSnapshot.ToDecimal(Row(null)));
        Assert.Equal(0m, ODataSnapshot.ToDecimal(Row(1e-30)));
    }
}
