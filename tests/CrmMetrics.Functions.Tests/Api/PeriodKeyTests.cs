using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Api;

namespace CrmMetrics.Functions.Tests.Api;

/// <summary>How every input path reads a period key: a key centuries ahead is refused with the calendar's current year, not read as an empty period.</summary>
public class PeriodKeyTests
{
    private static PeriodCalendar Calendar(string setting, string zone) =>
        PeriodCalendar.TryCreate(setting, zone, out var calendar, out var error) ? calendar! : throw new InvalidOperationException(error);

    [Theory]
    [InlineData("2026-11", null)]
    [InlineData("2026-12-03", null)]
    [InlineData("2026", Grain.Year)]
    public void A_gregorian_key_under_the_persian_calendar_is_named_as_centuries_ahead(string key, Grain? grain)
    {
        var persian = Calendar("persian", "Asia/Tehran");
        Assert.False(QueryParameters.TryPeriod(persian, key, grain, out var period, out var error));
        Assert.Null(period);
        Assert.Contains("years ahead", error, StringComparison.Ordinal);
        Assert.Contains("in the reporting calendar (persian)", error, StringComparison.Ordinal);
        Assert.Contains($"its current year is {persian.PeriodOf(Grain.Year, DateTimeOffset.UtcNow).Key}", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("persian", "Asia/Tehran", "1405-08")]
    [InlineData("persian", "Asia/Tehran", "1500")]
    [InlineData("gregorian", "UTC", "2026-11")]
    [InlineData("gregorian", "UTC", "2100")]
    [InlineData("fiscal:4", "UTC", "2030-Q2")]
    public void Keys_up_to_a_century_ahead_read_as_before(string setting, string zone, string key)
    {
        Assert.True(QueryParameters.TryPeriod(Calendar(setting, zone), key, null, out var period, out var error), error);
        Assert.Equal(key, period!.Key);
    }

    [Fact]
    public void A_gregorian_key_more_than_a_century_ahead_is_refused_too() =>
        Assert.False(QueryParameters.TryPeriod(Calendar("gregorian", "UTC"), "2400-01", null, out _, out _));

    [Fact]
    public void A_period_that_ends_before_the_earliest_fact_is_refused_and_a_persian_week_key_is_told_how_weeks_are_keyed()
    {
        Assert.False(QueryParameters.TryPeriod(Calendar("gregorian", "UTC"), "1899", null, out _, out var error));
        Assert.Equal("ends before 1900-01-01, the earliest day a fact may have", error);
        // Found by probing: a Solar Hijri key under another calendar was only said to end before 1900.
        Assert.False(QueryParameters.TryPeriod(Calendar("gregorian", "UTC"), "1405-08", null, out _, out var hijri));
        Assert.Contains("1405-08 reads like a Solar Hijri key, but the reporting calendar is gregorian; its current year is 20", hijri, StringComparison.Ordinal);
        Assert.False(QueryParameters.TryPeriod(Calendar("fiscal:4", "UTC"), "1405", null, out _, out var fiscal));
        Assert.Contains("reads like a Solar Hijri key, but the reporting calendar is fiscal:4", fiscal, StringComparison.Ordinal);

        var persian = Calendar("persian", "Asia/Tehran");
        Assert.False(QueryParameters.TryPeriod(persian, "1405-W37", null, out _, out var week));
        Assert.Contains("weeks are ISO weeks under every calendar, keyed by their Gregorian week-year", week, StringComparison.Ordinal);
        Assert.True(QueryParameters.TryPeriod(persian, persian.PeriodOf(Grain.Week, DateTimeOffset.UtcNow).Key, null, out _, out _));
    }
}
