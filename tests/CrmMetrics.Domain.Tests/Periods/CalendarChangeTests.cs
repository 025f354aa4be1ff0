using CrmMetrics.Domain.Periods;
using static CrmMetrics.Domain.Tests.Periods.TestCalendars;

namespace CrmMetrics.Domain.Tests.Periods;

/// <summary>Which keys made under one <c>CrmMetrics:Calendar</c> name other days under another (runs and reads of stored figures ask).</summary>
public class CalendarChangeTests
{
    [Theory]
    [InlineData("gregorian", "fiscal:4", "2026-Q1", Grain.Quarter, true)]
    [InlineData("gregorian", "fiscal:4", "2026", Grain.Year, true)]
    [InlineData("gregorian", "fiscal:4", "2026-03", Grain.Month, false)]
    [InlineData("gregorian", "fiscal:4", "2026-W10", Grain.Week, false)]
    [InlineData("gregorian", "fiscal:4", "2026-03-10", Grain.Day, false)]
    [InlineData("gregorian", "fiscal:1", "2026-Q1", Grain.Quarter, false)]
    [InlineData("gregorian", "fiscal:1", "2026", Grain.Year, false)]
    [InlineData("fiscal:4", "fiscal:4", "2026-Q1", Grain.Quarter, false)]
    [InlineData("gregorian", "persian", "2026-03", Grain.Month, true)]
    [InlineData("persian", "gregorian", "1405-08-12", Grain.Day, true)]
    [InlineData("gregorian", "persian", "2026-W10", Grain.Week, false)]
    public void NamesOtherDays_compares_the_days_a_key_names_under_both_calendars(string madeIn, string now, string key, Grain grain, bool other) =>
        Assert.Equal(other, Create(now).NamesOtherDays(madeIn, key, grain));

    [Fact]
    public void NamesOtherDays_a_calendar_setting_that_does_not_read_names_other_days() =>
        Assert.True(Create("gregorian").NamesOtherDays("lunar", "2026-03", Grain.Month));
}
