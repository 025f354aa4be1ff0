using CrmMetrics.Domain.Periods;
using static CrmMetrics.Domain.Tests.Periods.TestCalendars;

namespace CrmMetrics.Domain.Tests.Periods;

public class IsoWeekTests
{
    [Theory]
    [InlineData("2020-W53", "2020-12-28", "2021-01-03")]
    [InlineData("2026-W53", "2026-12-28", "2027-01-03")]
    [InlineData("2025-W01", "2024-12-30", "2025-01-05")]
    [InlineData("2025-W52", "2025-12-22", "2025-12-28")]
    [InlineData("2026-W01", "2025-12-29", "2026-01-04")]
    [InlineData("2015-W53", "2015-12-28", "2016-01-03")]
    [InlineData("0001-W01", "0001-01-01", "0001-01-07")]
    public void Week_key_spans_Monday_to_Sunday(string key, string monday, string sunday)
    {
        var week = Create("gregorian").Parse(key);
        Assert.Equal(Grain.Week, week.Grain);
        Assert.Equal(Date(monday), week.FirstDay);
        Assert.Equal(DayOfWeek.Monday, week.FirstDay.DayOfWeek);
        Assert.Equal(Date(sunday), week.LastDay);
        Assert.Equal(7, week.DayCount);
    }

    [Theory]
    [InlineData("2024-12-30", "2025-W01")]
    [InlineData("2024-12-29", "2024-W52")]
    [InlineData("2021-01-03", "2020-W53")]
    [InlineData("2021-01-04", "2021-W01")]
    [InlineData("2027-01-01", "2026-W53")]
    [InlineData("2027-01-04", "2027-W01")]
    [InlineData("2026-01-01", "2026-W01")]
    [InlineData("2023-01-01", "2022-W52")]
    public void Days_near_year_ends_fall_in_the_ISO_week_year(string date, string key)
    {
        Assert.Equal(key, Create("gregorian").PeriodOf(Grain.Week, Date(date)).Key);
    }

    [Theory]
    [InlineData("gregorian")]
    [InlineData("persian")]
    [InlineData("fiscal:4")]
    [InlineData("fiscal:7")]
    [InlineData("fiscal:10")]
    public void Weeks_are_ISO_weeks_in_every_calendar(string setting)
    {
        var calendar = Create(setting);
        Assert.Equal("2025-W01", calendar.PeriodOf(Grain.Week, Date("2024-12-30")).Key);
        var week = calendar.Parse("2026-W53");
        Assert.Equal(Date("2026-12-28"), week.FirstDay);
        Assert.Equal("2027-W01", week.Next().Key);
    }

    [Theory]
    [InlineData("2025-W53", "week 53 does not exist in ISO year 2025")]
    [InlineData("2026-W54", "week 54 does not exist in ISO year 2026")]
    [InlineData("2026-W00", "week 00 does not exist in ISO year 2026")]
    [InlineData("2026-W99", "week 99 does not exist in ISO year 2026")]
    [InlineData("0000-W01", "ISO week-year 0000 is not 0001–9999")]
    public void Invalid_weeks_are_named(string key, string error)
    {
        Assert.False(Create("gregorian").TryParse(key, out var period, out var actual));
        Assert.Null(period);
        Assert.Contains(error, actual);
    }

    [Theory]
    [InlineData("2020-W52", "2020-W53")]
    [InlineData("2020-W53", "2021-W01")]
    [InlineData("2024-W52", "2025-W01")]
    [InlineData("2026-W52", "2026-W53")]
    public void Next_week_and_back(string key, string next)
    {
        var calendar = Create("gregorian");
        Assert.Equal(next, calendar.Parse(key).Next().Key);
        Assert.Equal(key, calendar.Parse(next).Previous().Key);
    }

    [Fact]
    public void Year_2026_has_53_weeks_and_2025_has_52()
    {
        var calendar = Create("gregorian");
        Assert.Equal(53, calendar.Range(calendar.Parse("2026-W01"), calendar.Parse("2026-W53")).Count());
        Assert.True(calendar.TryParse("2025-W52", out _, out _));
        Assert.False(calendar.TryParse("2025-W53", out _, out _));
    }

    [Fact]
    public void Berlin_week_with_clock_change_is_an_hour_short()
    {
        var week = Create("gregorian", "Europe/Berlin").Parse("2026-W13");
        Assert.Equal(Date("2026-03-23"), week.FirstDay);
        Assert.Equal(TimeSpan.FromHours((7 * 24) - 1), week.Length);
    }
}
