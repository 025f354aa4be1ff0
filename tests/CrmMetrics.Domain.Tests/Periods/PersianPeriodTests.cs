using CrmMetrics.Domain.Periods;
using static CrmMetrics.Domain.Tests.Periods.TestCalendars;

namespace CrmMetrics.Domain.Tests.Periods;

public class PersianPeriodTests
{
    private readonly PeriodCalendar persian = Create("persian", "Asia/Tehran");

    [Fact]
    public void A_week_far_ahead_is_compared_with_the_current_week_not_a_persian_year()
    {
        // Found by an independent check: "9378-W01 is 7351 years ahead … its current year is 1405" mixed a
        // Gregorian week-year with a Solar Hijri year.
        var now = Instant("2026-12-04T12:00:00Z");
        var problem = PeriodReach.Problem(persian, persian.Parse("9378-W01"), "9378-W01", now)!;
        Assert.Contains("the current week is 2026-W49 (weeks are ISO weeks under every calendar", problem);
        Assert.DoesNotContain("1405", problem);
        Assert.EndsWith("its current year is 1405", PeriodReach.Problem(persian, persian.Parse("1600"), "1600", now));
    }

    [Theory]
    [InlineData("1405-09-02", Grain.Day, "2026-11-23", "2026-11-23")]
    [InlineData("1405-01-01", Grain.Day, "2026-03-21", "2026-03-21")]
    [InlineData("1404-12-29", Grain.Day, "2026-03-20", "2026-03-20")]
    [InlineData("1403-12-30", Grain.Day, "2025-03-20", "2025-03-20")]
    [InlineData("1405-09", Grain.Month, "2026-11-22", "2026-12-21")]
    [InlineData("1405-01", Grain.Month, "2026-03-21", "2026-04-20")]
    [InlineData("1404-12", Grain.Month, "2026-02-20", "2026-03-20")]
    [InlineData("1403-12", Grain.Month, "2025-02-19", "2025-03-20")]
    [InlineData("1405-Q1", Grain.Quarter, "2026-03-21", "2026-06-21")]
    [InlineData("1405-Q3", Grain.Quarter, "2026-09-23", "2026-12-21")]
    [InlineData("1404-Q4", Grain.Quarter, "2025-12-22", "2026-03-20")]
    [InlineData("1404", Grain.Year, "2025-03-21", "2026-03-20")]
    [InlineData("1405", Grain.Year, "2026-03-21", "2027-03-20")]
    public void Persian_keys_use_Solar_Hijri_numbers(string key, Grain grain, string firstDay, string lastDay)
    {
        var period = persian.Parse(key);
        Assert.Equal(grain, period.Grain);
        Assert.Equal(key, period.Key);
        Assert.Equal(Date(firstDay), period.FirstDay);
        Assert.Equal(Date(lastDay), period.LastDay);
    }

    [Theory]
    [InlineData("1405-01", 31)]
    [InlineData("1405-06", 31)]
    [InlineData("1405-07", 30)]
    [InlineData("1405-11", 30)]
    [InlineData("1404-12", 29)]
    [InlineData("1403-12", 30)]
    [InlineData("1403", 366)]
    [InlineData("1404", 365)]
    [InlineData("1404-Q1", 93)]
    [InlineData("1404-Q3", 90)]
    [InlineData("1404-Q4", 89)]
    [InlineData("1403-Q4", 90)]
    public void Persian_month_quarter_and_year_lengths(string key, int days)
    {
        Assert.Equal(days, persian.Parse(key).DayCount);
    }

    [Fact]
    public void Esfand_30_exists_only_in_leap_years()
    {
        Assert.True(persian.TryParse("1403-12-30", out var leapDay, out _));
        Assert.Equal(Date("2025-03-20"), leapDay.FirstDay);
        Assert.Equal("1404-01-01", leapDay.Next().Key);

        Assert.False(persian.TryParse("1404-12-30", out var missing, out var error));
        Assert.Null(missing);
        Assert.Contains("day 30 does not exist in 1404-12", error);
    }

    [Fact]
    public void Persian_year_rolls_over_on_Nowruz()
    {
        var lastDay = persian.Parse("1404-12-29");
        var nowruz = lastDay.Next();
        Assert.Equal("1405-01-01", nowruz.Key);
        Assert.Equal(Date("2026-03-21"), nowruz.FirstDay);
        Assert.Equal(lastDay, nowruz.Previous());
        Assert.Equal("1405-01", persian.Parse("1404-12").Next().Key);
        Assert.Equal("1405-Q1", persian.Parse("1404-Q4").Next().Key);
        Assert.Equal("1405", persian.Parse("1404").Next().Key);
        Assert.Equal("1404-Q4", persian.Parse("1405-Q1").Previous().Key);
    }

    [Theory]
    [InlineData("2026-03-20", Grain.Day, "1404-12-29")]
    [InlineData("2026-03-21", Grain.Day, "1405-01-01")]
    [InlineData("2026-11-23", Grain.Day, "1405-09-02")]
    [InlineData("2026-11-23", Grain.Month, "1405-09")]
    [InlineData("2026-11-23", Grain.Quarter, "1405-Q3")]
    [InlineData("2026-11-23", Grain.Year, "1405")]
    [InlineData("2026-01-15", Grain.Quarter, "1404-Q4")]
    [InlineData("2026-03-20", Grain.Year, "1404")]
    [InlineData("2026-11-23", Grain.Week, "2026-W48")]
    public void PeriodOf_a_date_in_Persian_numbers(string date, Grain grain, string key)
    {
        Assert.Equal(key, persian.PeriodOf(grain, Date(date)).Key);
    }

    [Fact]
    public void Persian_quarter_4_is_Dey_to_Esfand()
    {
        var quarter = persian.Parse("1404-Q4");
        Assert.Equal("1404-10", persian.PeriodOf(Grain.Month, quarter.FirstDay).Key);
        Assert.Equal("1404-12", persian.PeriodOf(Grain.Month, quarter.LastDay).Key);
        Assert.Equal(3, persian.Range(persian.PeriodOf(Grain.Month, quarter.FirstDay), persian.PeriodOf(Grain.Month, quarter.LastDay)).Count());
    }

    [Fact]
    public void Persian_year_in_Tehran_starts_at_local_midnight()
    {
        var year = persian.Parse("1405");
        Assert.Equal(Instant("2026-03-20T20:30:00Z"), year.Start);
        Assert.Equal(Instant("2027-03-20T20:30:00Z"), year.End);
    }

    [Theory]
    [InlineData("1404-12-30", "day 30 does not exist in 1404-12 (it has 29 days)")]
    [InlineData("1405-07-31", "day 31 does not exist in 1405-07 (it has 30 days)")]
    [InlineData("1405-13", "month 13 is not 01–12")]
    [InlineData("1405-00-01", "month 00 is not 01–12")]
    [InlineData("1405-01-00", "day 00 does not exist in 1405-01")]
    [InlineData("9379", "Persian year 9379 is not 0001–9378")]
    [InlineData("0000-01-01", "Persian year 0000 is not 0001–9378")]
    [InlineData("9378", "9378 falls outside the dates the persian calendar supports")]
    [InlineData("9378-10", "9378-10 falls outside")]
    [InlineData("9378-Q4", "9378-Q4 falls outside")]
    [InlineData("9378-10-14", "9378-10-14 falls outside")]
    public void Invalid_Persian_keys_are_named(string key, string error)
    {
        Assert.False(persian.TryParse(key, out var period, out var actual));
        Assert.Null(period);
        Assert.Contains(error, actual);
    }

    [Fact]
    public void Persian_range_ends_are_supported_where_representable()
    {
        Assert.Equal(DateOnly.MaxValue, persian.Parse("9378-10-13").FirstDay);
        Assert.Equal(Date("9999-12-18"), persian.Parse("9378-Q3").LastDay);
        Assert.Throws<InvalidOperationException>(() => persian.Parse("9378-09").Next());
        Assert.Throws<InvalidOperationException>(() => persian.Parse("9378-10-13").Next());
        Assert.Equal(Date("0622-03-22"), persian.Parse("0001-01-01").FirstDay);
        Assert.Equal(Date("0622-03-22"), persian.Parse("0001").FirstDay);
        Assert.Throws<InvalidOperationException>(() => persian.Parse("0001").Previous());
        Assert.Throws<InvalidOperationException>(() => persian.Parse("9377").Next());
        Assert.Throws<ArgumentOutOfRangeException>(() => persian.PeriodOf(Grain.Day, Date("0622-03-21")));
        Assert.Equal("0001-W01", persian.PeriodOf(Grain.Week, Date("0001-01-01")).Key);
    }
}
