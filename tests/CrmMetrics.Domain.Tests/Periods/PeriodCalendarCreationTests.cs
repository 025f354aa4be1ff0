using CrmMetrics.Domain.Periods;

namespace CrmMetrics.Domain.Tests.Periods;

public class PeriodCalendarCreationTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData(null, "")]
    [InlineData("", null)]
    public void TryCreate_defaults_to_gregorian_in_utc(string? setting, string? zone)
    {
        Assert.True(PeriodCalendar.TryCreate(setting, zone, out var calendar, out var error));
        Assert.Null(error);
        Assert.Equal(ReportingCalendar.Gregorian, calendar.Calendar);
        Assert.Equal(TimeZoneInfo.Utc, calendar.TimeZone);
    }

    [Theory]
    [InlineData("persian", "Asia/Tehran")]
    [InlineData("fiscal:4", "Europe/Berlin")]
    [InlineData("gregorian", "America/Santiago")]
    [InlineData("fiscal:10", "America/Havana")]
    [InlineData("gregorian", "Etc/UTC")]
    [InlineData("gregorian", "UTC")]
    [InlineData("persian", "Iran")]
    public void TryCreate_reads_calendar_and_IANA_zone(string setting, string zone)
    {
        Assert.True(PeriodCalendar.TryCreate(setting, zone, out var calendar, out var error), error);
        Assert.Equal(setting, calendar.Calendar.Setting);
        Assert.Equal(zone, calendar.TimeZone.Id);
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("europe/berlin")]
    [InlineData("EUROPE/BERLIN")]
    [InlineData("utc")]
    [InlineData("W. Europe Standard Time")]
    [InlineData(" Europe/Berlin")]
    [InlineData("../../etc/passwd")]
    [InlineData("/etc/localtime")]
    [InlineData("Europe/Berlin\0")]
    [InlineData("   ")]
    public void TryCreate_names_an_unknown_zone(string zone)
    {
        // Loading the canonical zone first proves the case-insensitive zone cache does not let variants through.
        Assert.True(PeriodCalendar.TryCreate(null, "Europe/Berlin", out _, out _));
        Assert.True(PeriodCalendar.TryCreate(null, "UTC", out _, out _));
        Assert.False(PeriodCalendar.TryCreate("gregorian", zone, out var calendar, out var error));
        Assert.Null(calendar);
        Assert.Contains($"'{zone}'", error);
        Assert.Contains("time zone", error);
    }

    [Fact]
    public void TryCreate_survives_a_very_long_zone_id()
    {
        Assert.False(PeriodCalendar.TryCreate(null, new string('A', 100_000), out _, out var error));
        Assert.Contains("time zone", error);
        Assert.True(error.Length < 200, error);
    }

    [Fact]
    public void TryCreate_reports_a_bad_calendar_setting()
    {
        Assert.False(PeriodCalendar.TryCreate("fiscal:13", "UTC", out var calendar, out var error));
        Assert.Null(calendar);
        Assert.Contains("13", error);
    }

    [Fact]
    public void Constructor_rejects_nulls()
    {
        Assert.Throws<ArgumentNullException>(() => new PeriodCalendar(null!, TimeZoneInfo.Utc));
        Assert.Throws<ArgumentNullException>(() => new PeriodCalendar(ReportingCalendar.Gregorian, null!));
    }

    [Fact]
    public void Calendars_with_the_same_settings_are_equal_and_so_are_their_periods()
    {
        var first = TestCalendars.Create("persian", "Asia/Tehran");
        var second = new PeriodCalendar(ReportingCalendar.Persian, TimeZoneInfo.FindSystemTimeZoneById("Asia/Tehran"));
        Assert.Equal(first, second);
        Assert.True(first == second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
        Assert.Equal(first.Parse("1405-09"), second.Parse("1405-09"));
        Assert.Equal(first.Parse("1405-09").GetHashCode(), second.Parse("1405-09").GetHashCode());
    }

    [Fact]
    public void Periods_of_different_zones_or_calendars_are_not_equal()
    {
        var utc = TestCalendars.Create("gregorian");
        var berlin = TestCalendars.Create("gregorian", "Europe/Berlin");
        var fiscalJanuary = TestCalendars.Create("fiscal:1");
        Assert.NotEqual(utc, berlin);
        Assert.NotEqual(utc.Parse("2026-05"), berlin.Parse("2026-05"));
        Assert.True(utc.Parse("2026-05") != berlin.Parse("2026-05"));
        Assert.NotEqual(utc.Parse("2026-05"), fiscalJanuary.Parse("2026-05"));
        Assert.NotEqual(utc.Parse("2026-05"), utc.Parse("2026-06"));
        Assert.False(utc.Parse("2026-05").Equals(null));
    }

    [Fact]
    public void ToString_names_calendar_and_zone()
    {
        Assert.Equal("fiscal:4 in Europe/Berlin", TestCalendars.Create("fiscal:4", "Europe/Berlin").ToString());
    }
}
