using CrmMetrics.Domain.Periods;
using static CrmMetrics.Domain.Tests.Periods.TestCalendars;

namespace CrmMetrics.Domain.Tests.Periods;

public class PeriodRangeTests
{
    private readonly PeriodCalendar gregorian = Create("gregorian", "Europe/Berlin");

    [Fact]
    public void A_year_of_months_has_12_items_in_order()
    {
        var months = gregorian.Range(gregorian.Parse("2026-01"), gregorian.Parse("2026-12")).ToList();
        Assert.Equal(12, months.Count);
        Assert.Equal("2026-01", months[0].Key);
        Assert.Equal("2026-12", months[^1].Key);
        Assert.Equal(gregorian.Parse("2026").Length, months.Aggregate(TimeSpan.Zero, (sum, month) => sum + month.Length));
        for (var i = 1; i < months.Count; i++)
        {
            Assert.Equal(months[i - 1].End, months[i].Start);
        }
    }

    [Theory]
    [InlineData("gregorian", "2024-01-01", "2024-12-31", 366)]
    [InlineData("gregorian", "2025-12-30", "2026-01-02", 4)]
    [InlineData("gregorian", "2026-W01", "2026-W53", 53)]
    [InlineData("gregorian", "2025-W50", "2026-W02", 5)]
    [InlineData("gregorian", "2025-Q3", "2027-Q2", 8)]
    [InlineData("gregorian", "2020", "2029", 10)]
    [InlineData("persian", "1404-01", "1404-12", 12)]
    [InlineData("persian", "1403-12-28", "1404-01-02", 5)]
    [InlineData("fiscal:7", "2026-Q3", "2027-Q2", 4)]
    [InlineData("fiscal:10", "2026-Q4", "2027-Q1", 2)]
    [InlineData("gregorian", "2026-05", "2026-05", 1)]
    public void Range_is_inclusive(string setting, string from, string to, int count)
    {
        var calendar = Create(setting);
        var periods = calendar.Range(calendar.Parse(from), calendar.Parse(to)).ToList();
        Assert.Equal(count, periods.Count);
        Assert.Equal(from, periods[0].Key);
        Assert.Equal(to, periods[^1].Key);
        Assert.Equal(count, periods.Distinct().Count());
    }

    [Fact]
    public void Range_is_empty_when_to_precedes_from()
    {
        Assert.Empty(gregorian.Range(gregorian.Parse("2026-05"), gregorian.Parse("2026-04")));
    }

    [Fact]
    public void Range_reaches_the_last_supported_period()
    {
        var utc = Create("gregorian");
        Assert.Equal(3, utc.Range(utc.Parse("9999-12-29"), utc.Parse("9999-12-31")).Count());
    }

    [Fact]
    public void Range_rejects_mixed_grains_right_away()
    {
        Assert.Throws<ArgumentException>(() => gregorian.Range(gregorian.Parse("2026-01"), gregorian.Parse("2026-Q4")));
        Assert.Throws<ArgumentException>(() => gregorian.Range(gregorian.Parse("2026-W01"), gregorian.Parse("2026-01-31")));
    }

    [Fact]
    public void Range_rejects_periods_of_another_calendar()
    {
        var utc = Create("gregorian");
        Assert.Throws<ArgumentException>(() => gregorian.Range(utc.Parse("2026-01"), gregorian.Parse("2026-03")));
        Assert.Throws<ArgumentException>(() => gregorian.Range(gregorian.Parse("2026-01"), utc.Parse("2026-03")));
    }

    [Fact]
    public void Range_rejects_nulls()
    {
        Assert.Throws<ArgumentNullException>(() => gregorian.Range(null!, gregorian.Parse("2026-03")));
        Assert.Throws<ArgumentNullException>(() => gregorian.Range(gregorian.Parse("2026-03"), null!));
    }
}
