using CrmMetrics.Domain.Periods;
using static CrmMetrics.Domain.Tests.Periods.TestCalendars;

namespace CrmMetrics.Domain.Tests.Periods;

public class GregorianPeriodTests
{
    private readonly PeriodCalendar utc = Create("gregorian");

    [Theory]
    [InlineData("2026-11-23", Grain.Day, "2026-11-23", "2026-11-23")]
    [InlineData("2026-02", Grain.Month, "2026-02-01", "2026-02-28")]
    [InlineData("2024-02", Grain.Month, "2024-02-01", "2024-02-29")]
    [InlineData("2026-Q1", Grain.Quarter, "2026-01-01", "2026-03-31")]
    [InlineData("2026-Q3", Grain.Quarter, "2026-07-01", "2026-09-30")]
    [InlineData("2026-Q4", Grain.Quarter, "2026-10-01", "2026-12-31")]
    [InlineData("2026", Grain.Year, "2026-01-01", "2026-12-31")]
    [InlineData("2026-W01", Grain.Week, "2025-12-29", "2026-01-04")]
    [InlineData("0001-01-01", Grain.Day, "0001-01-01", "0001-01-01")]
    [InlineData("9999", Grain.Year, "9999-01-01", "9999-12-31")]
    public void Parse_gives_grain_and_local_days(string key, Grain grain, string firstDay, string lastDay)
    {
        var period = utc.Parse(key);
        Assert.Equal(grain, period.Grain);
        Assert.Equal(key, period.Key);
        Assert.Equal(key, period.ToString());
        Assert.Equal(Date(firstDay), period.FirstDay);
        Assert.Equal(Date(lastDay), period.LastDay);
        Assert.Equal(period.LastDay.DayNumber - period.FirstDay.DayNumber + 1, period.DayCount);
        Assert.Equal(period.DayCount, period.Days.Count());
        Assert.Equal(period.FirstDay, period.Days.First());
        Assert.Equal(period.LastDay, period.Days.Last());
        Assert.Same(utc, period.Calendar);
    }

    [Theory]
    [InlineData("2026-12-31", "2027-01-01")]
    [InlineData("2026-12", "2027-01")]
    [InlineData("2026-Q4", "2027-Q1")]
    [InlineData("2026", "2027")]
    [InlineData("2026-W53", "2027-W01")]
    [InlineData("2024-02-28", "2024-02-29")]
    [InlineData("2024-02-29", "2024-03-01")]
    [InlineData("2026-02-28", "2026-03-01")]
    [InlineData("2026-01", "2026-02")]
    [InlineData("2026-Q2", "2026-Q3")]
    public void Next_and_Previous_cross_month_and_year_ends(string key, string nextKey)
    {
        var period = utc.Parse(key);
        Assert.Equal(nextKey, period.Next().Key);
        Assert.Equal(key, utc.Parse(nextKey).Previous().Key);
        Assert.Equal(period, period.Next().Previous());
    }

    [Theory]
    [InlineData("2026-07-15", Grain.Day, "2026-07-15")]
    [InlineData("2026-07-15", Grain.Week, "2026-W29")]
    [InlineData("2026-07-15", Grain.Month, "2026-07")]
    [InlineData("2026-07-15", Grain.Quarter, "2026-Q3")]
    [InlineData("2026-07-15", Grain.Year, "2026")]
    [InlineData("2026-12-31", Grain.Quarter, "2026-Q4")]
    [InlineData("2027-01-01", Grain.Quarter, "2027-Q1")]
    [InlineData("2026-04-01", Grain.Quarter, "2026-Q2")]
    [InlineData("2026-03-31", Grain.Quarter, "2026-Q1")]
    public void PeriodOf_a_date(string date, Grain grain, string key)
    {
        var period = utc.PeriodOf(grain, Date(date));
        Assert.Equal(key, period.Key);
        Assert.True(period.Contains(Date(date)));
    }

    [Fact]
    public void PeriodOf_an_instant_uses_the_local_date()
    {
        var berlin = Create("gregorian", "Europe/Berlin");
        Assert.Equal("2027-01-01", berlin.PeriodOf(Grain.Day, Instant("2026-12-31T23:30:00Z")).Key);
        Assert.Equal("2027", berlin.PeriodOf(Grain.Year, Instant("2026-12-31T23:30:00Z")).Key);
        Assert.Equal("2026", utc.PeriodOf(Grain.Year, Instant("2026-12-31T23:30:00Z")).Key);
    }

    [Fact]
    public void Contains_a_date_is_inclusive_at_both_ends()
    {
        var month = utc.Parse("2026-02");
        Assert.True(month.Contains(Date("2026-02-01")));
        Assert.True(month.Contains(Date("2026-02-28")));
        Assert.False(month.Contains(Date("2026-01-31")));
        Assert.False(month.Contains(Date("2026-03-01")));
    }

    [Fact]
    public void Utc_month_bounds_are_whole_days()
    {
        var month = utc.Parse("2026-02");
        Assert.Equal(Instant("2026-02-01T00:00:00Z"), month.Start);
        Assert.Equal(Instant("2026-03-01T00:00:00Z"), month.End);
        Assert.Equal(TimeSpan.FromDays(28), month.Length);
    }

    [Theory]
    [InlineData(Grain.Day)]
    [InlineData(Grain.Month)]
    [InlineData(Grain.Quarter)]
    [InlineData(Grain.Year)]
    public void The_last_supported_period_has_no_Next(Grain grain)
    {
        var last = utc.PeriodOf(grain, DateOnly.MaxValue);
        Assert.Equal(DateOnly.MaxValue, last.LastDay);
        Assert.Equal(DateTimeOffset.MaxValue, last.End);
        Assert.Throws<InvalidOperationException>(() => last.Next());
        Assert.Equal(last, last.Previous().Next());
    }

    [Theory]
    [InlineData(Grain.Day)]
    [InlineData(Grain.Week)]
    [InlineData(Grain.Month)]
    [InlineData(Grain.Quarter)]
    [InlineData(Grain.Year)]
    public void The_first_supported_period_has_no_Previous(Grain grain)
    {
        var first = utc.PeriodOf(grain, DateOnly.MinValue);
        Assert.Equal(DateOnly.MinValue, first.FirstDay);
        Assert.Equal(DateTimeOffset.MinValue, first.Start);
        Assert.Throws<InvalidOperationException>(() => first.Previous());
    }

    [Fact]
    public void The_week_of_9999_12_31_does_not_fit()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => utc.PeriodOf(Grain.Week, DateOnly.MaxValue));
        Assert.Throws<InvalidOperationException>(() => utc.PeriodOf(Grain.Week, Date("9999-12-26")).Next());
    }

    [Fact]
    public void PeriodOf_an_undefined_grain_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => utc.PeriodOf((Grain)42, Date("2026-01-01")));
    }

    [Fact]
    public void Fiscal_1_behaves_like_gregorian()
    {
        var fiscalJanuary = Create("fiscal:1");
        for (var date = Date("2025-12-01"); date <= Date("2027-02-01"); date = date.AddDays(3))
        {
            foreach (var grain in Grains.All)
            {
                var expected = utc.PeriodOf(grain, date);
                var actual = fiscalJanuary.PeriodOf(grain, date);
                Assert.Equal(expected.Key, actual.Key);
                Assert.Equal(expected.FirstDay, actual.FirstDay);
                Assert.Equal(expected.LastDay, actual.LastDay);
            }
        }
    }
}
