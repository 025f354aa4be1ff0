using CrmMetrics.Domain.Periods;
using static CrmMetrics.Domain.Tests.Periods.TestCalendars;

namespace CrmMetrics.Domain.Tests.Periods;

public class TimeZoneTests
{
    [Theory]
    [InlineData("2026-03-28T22:59:59Z", "2026-03-28")]
    [InlineData("2026-03-28T23:00:00Z", "2026-03-29")]
    [InlineData("2026-07-01T21:59:59Z", "2026-07-01")]
    [InlineData("2026-07-01T22:00:00Z", "2026-07-02")]
    [InlineData("2026-07-02T00:30:00+02:00", "2026-07-02")]
    [InlineData("2026-07-01T23:30:00-05:00", "2026-07-02")]
    public void LocalDateOf_uses_the_wall_clock_of_the_zone(string instant, string localDate)
    {
        var berlin = Create("gregorian", "Europe/Berlin");
        Assert.Equal(Date(localDate), berlin.LocalDateOf(Instant(instant)));
    }

    [Theory]
    [InlineData("Europe/Berlin", "2026-01-15", "2026-01-14T23:00:00Z")]
    [InlineData("Europe/Berlin", "2026-07-15", "2026-07-14T22:00:00Z")]
    [InlineData("Asia/Tehran", "2026-03-21", "2026-03-20T20:30:00Z")]
    [InlineData("America/Santiago", "2026-01-15", "2026-01-15T03:00:00Z")]
    [InlineData("UTC", "2026-01-15", "2026-01-15T00:00:00Z")]
    public void StartOfDay_is_local_midnight_in_utc(string zone, string date, string start)
    {
        var calendar = Create("gregorian", zone);
        var result = calendar.StartOfDay(Date(date));
        Assert.Equal(Instant(start), result);
        Assert.Equal(TimeSpan.Zero, result.Offset);
    }

    [Theory]
    [InlineData("Asia/Tehran", "2021-03-22", "2021-03-21T20:30:00Z")]
    [InlineData("America/Santiago", "2026-09-06", "2026-09-06T04:00:00Z")]
    [InlineData("America/Havana", "2026-03-08", "2026-03-08T05:00:00Z")]
    public void StartOfDay_is_the_first_valid_instant_when_midnight_is_skipped(string zone, string date, string start)
    {
        var calendar = Create("gregorian", zone);
        var result = calendar.StartOfDay(Date(date));
        Assert.Equal(Instant(start), result);
        Assert.Equal(new TimeSpan(1, 0, 0), TimeZoneInfo.ConvertTime(result, calendar.TimeZone).TimeOfDay);
        Assert.Equal(Date(date), calendar.LocalDateOf(result));
        Assert.Equal(Date(date).AddDays(-1), calendar.LocalDateOf(result.AddTicks(-1)));
    }

    [Theory]
    [InlineData("America/Havana", "2026-11-01", "2026-11-01T04:00:00Z")]
    [InlineData("Atlantic/Azores", "2026-10-25", "2026-10-25T00:00:00Z")]
    public void StartOfDay_takes_the_earlier_instant_when_midnight_happens_twice(string zone, string date, string start)
    {
        var calendar = Create("gregorian", zone);
        Assert.Equal(Instant(start), calendar.StartOfDay(Date(date)));
        Assert.Equal(Date(date).AddDays(-1), calendar.LocalDateOf(Instant(start).AddTicks(-1)));
    }

    [Fact]
    public void Tehran_day_without_midnight_starts_at_one_and_lasts_23_hours()
    {
        var tehran = Create("gregorian", "Asia/Tehran");
        var day = tehran.Parse("2021-03-22");
        Assert.Equal(Instant("2021-03-22T01:00:00+04:30"), day.Start);
        Assert.Equal(Instant("2021-03-23T00:00:00+04:30"), day.End);
        Assert.Equal(TimeSpan.FromHours(23), day.Length);
        Assert.Equal(day, tehran.PeriodOf(Grain.Day, day.Start));
        Assert.Equal(TimeSpan.FromHours(24), day.Previous().Length);
        Assert.Equal(day.Start, day.Previous().End);
    }

    [Fact]
    public void Persian_day_in_Tehran_without_midnight()
    {
        var tehran = Create("persian", "Asia/Tehran");
        var day = tehran.PeriodOf(Grain.Day, Instant("2021-03-21T20:30:00Z"));
        Assert.Equal("1400-01-02", day.Key);
        Assert.Equal(Date("2021-03-22"), day.FirstDay);
        Assert.Equal(TimeSpan.FromHours(23), day.Length);
        Assert.Equal("1400-01-01", tehran.PeriodOf(Grain.Day, Instant("2021-03-21T20:29:59Z")).Key);
    }

    [Fact]
    public void Tehran_fall_back_day_lasts_25_hours()
    {
        var tehran = Create("gregorian", "Asia/Tehran");
        Assert.Equal(TimeSpan.FromHours(25), tehran.Parse("2021-09-21").Length);
    }

    [Theory]
    [InlineData("2026-03-29", 23)]
    [InlineData("2026-10-25", 25)]
    [InlineData("2026-03-28", 24)]
    [InlineData("2026-03-30", 24)]
    [InlineData("2026-10-24", 24)]
    [InlineData("2026-10-26", 24)]
    public void Berlin_days_around_clock_changes(string date, int hours)
    {
        var berlin = Create("gregorian", "Europe/Berlin");
        Assert.Equal(TimeSpan.FromHours(hours), berlin.Parse(date).Length);
    }

    [Fact]
    public void Berlin_spring_forward_day_bounds()
    {
        var day = Create("gregorian", "Europe/Berlin").Parse("2026-03-29");
        Assert.Equal(Instant("2026-03-28T23:00:00Z"), day.Start);
        Assert.Equal(Instant("2026-03-29T22:00:00Z"), day.End);
    }

    [Fact]
    public void Berlin_fall_back_day_bounds()
    {
        var day = Create("gregorian", "Europe/Berlin").Parse("2026-10-25");
        Assert.Equal(Instant("2026-10-24T22:00:00Z"), day.Start);
        Assert.Equal(Instant("2026-10-25T23:00:00Z"), day.End);
    }

    [Theory]
    [InlineData("2026-03", -1)]
    [InlineData("2026-10", 1)]
    [InlineData("2026-04", 0)]
    public void Month_length_includes_the_clock_change(string month, int extraHours)
    {
        var period = Create("gregorian", "Europe/Berlin").Parse(month);
        Assert.Equal(TimeSpan.FromDays(period.DayCount) + TimeSpan.FromHours(extraHours), period.Length);
    }

    [Fact]
    public void Berlin_March_2026_bounds()
    {
        var march = Create("gregorian", "Europe/Berlin").Parse("2026-03");
        Assert.Equal(Instant("2026-02-28T23:00:00Z"), march.Start);
        Assert.Equal(Instant("2026-03-31T22:00:00Z"), march.End);
        Assert.Equal(TimeSpan.FromHours((31 * 24) - 1), march.Length);
    }

    [Fact]
    public void A_year_with_both_changes_lasts_whole_days()
    {
        var year = Create("gregorian", "Europe/Berlin").Parse("2026");
        Assert.Equal(TimeSpan.FromDays(365), year.Length);
    }

    [Fact]
    public void Havana_day_when_midnight_repeats_lasts_25_hours()
    {
        var havana = Create("gregorian", "America/Havana");
        var day = havana.Parse("2026-11-01");
        Assert.Equal(TimeSpan.FromHours(25), day.Length);
        Assert.Equal(day.Start, day.Previous().End);
        Assert.True(day.Contains(Instant("2026-11-01T04:30:00Z")));
        Assert.True(day.Contains(Instant("2026-11-01T05:30:00Z")));
    }

    [Fact]
    public void Day_lengths_of_a_year_add_up_to_the_year()
    {
        foreach (var zone in new[] { "Europe/Berlin", "America/Santiago", "Asia/Tehran", "America/Havana" })
        {
            var calendar = Create("gregorian", zone);
            var year = calendar.Parse("2021");
            var total = year.Days.Select(day => calendar.PeriodOf(Grain.Day, day).Length).Aggregate(TimeSpan.Zero, (sum, length) => sum + length);
            Assert.Equal(year.Length, total);
        }
    }

    [Fact]
    public void Contains_is_true_at_Start_and_false_at_End()
    {
        var day = Create("gregorian", "Europe/Berlin").Parse("2026-03-29");
        Assert.True(day.Contains(day.Start));
        Assert.True(day.Contains(day.End.AddTicks(-1)));
        Assert.False(day.Contains(day.End));
        Assert.False(day.Contains(day.Start.AddTicks(-1)));
        Assert.True(day.Next().Contains(day.End));
    }

    [Fact]
    public void Contains_compares_instants_whatever_their_offset()
    {
        var day = Create("gregorian", "Europe/Berlin").Parse("2026-07-02");
        Assert.True(day.Contains(Instant("2026-07-01T20:30:00-02:00")));
        Assert.False(day.Contains(Instant("2026-07-01T23:30:00+02:00")));
    }

    [Fact]
    public void LocalDateOf_throws_for_an_instant_before_the_first_local_date()
    {
        var santiago = Create("gregorian", "America/Santiago");
        Assert.Throws<ArgumentOutOfRangeException>(() => santiago.LocalDateOf(DateTimeOffset.MinValue));
        Assert.Equal(DateOnly.MinValue, Create("gregorian", "Asia/Tehran").LocalDateOf(DateTimeOffset.MinValue));
    }

    [Fact]
    public void StartOfDay_clamps_to_the_representable_range()
    {
        var tehran = Create("gregorian", "Asia/Tehran");
        Assert.Equal(DateTimeOffset.MinValue, tehran.StartOfDay(DateOnly.MinValue));
        var lastDay = tehran.PeriodOf(Grain.Day, DateOnly.MaxValue);
        Assert.Equal(DateTimeOffset.MaxValue, lastDay.End);
        Assert.True(lastDay.Contains(lastDay.Start));
    }
}
