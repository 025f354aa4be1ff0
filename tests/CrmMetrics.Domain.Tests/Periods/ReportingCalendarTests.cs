using CrmMetrics.Domain.Periods;

namespace CrmMetrics.Domain.Tests.Periods;

public class ReportingCalendarTests
{
    [Theory]
    [InlineData("gregorian", ReportingCalendarKind.Gregorian, 1)]
    [InlineData("persian", ReportingCalendarKind.Persian, 1)]
    [InlineData("fiscal:1", ReportingCalendarKind.Fiscal, 1)]
    [InlineData("fiscal:4", ReportingCalendarKind.Fiscal, 4)]
    [InlineData("fiscal:7", ReportingCalendarKind.Fiscal, 7)]
    [InlineData("fiscal:10", ReportingCalendarKind.Fiscal, 10)]
    [InlineData("fiscal:12", ReportingCalendarKind.Fiscal, 12)]
    public void TryParse_reads_each_setting_and_gives_it_back(string setting, ReportingCalendarKind kind, int firstMonth)
    {
        Assert.True(ReportingCalendar.TryParse(setting, out var calendar, out var error));
        Assert.Null(error);
        Assert.Equal(kind, calendar.Kind);
        Assert.Equal(firstMonth, calendar.FirstMonth);
        Assert.Equal(setting, calendar.Setting);
        Assert.Equal(setting, calendar.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Gregorian")]
    [InlineData("PERSIAN")]
    [InlineData(" gregorian")]
    [InlineData("gregorian ")]
    [InlineData("hijri")]
    [InlineData("fiscal")]
    [InlineData("fiscal:")]
    [InlineData("fiscal:0")]
    [InlineData("fiscal:04")]
    [InlineData("fiscal:+4")]
    [InlineData("fiscal:-4")]
    [InlineData("fiscal: 4")]
    [InlineData("fiscal:4 ")]
    [InlineData("fiscal:123")]
    [InlineData("fiscal:۴")]
    [InlineData("FISCAL:4")]
    public void TryParse_rejects_other_settings_and_says_what_is_accepted(string? setting)
    {
        Assert.False(ReportingCalendar.TryParse(setting, out var calendar, out var error));
        Assert.Null(calendar);
        Assert.Contains("gregorian, persian or fiscal:<1-12>", error);
    }

    [Theory]
    [InlineData("fiscal:13")]
    [InlineData("fiscal:99")]
    public void TryParse_names_a_fiscal_month_out_of_range(string setting)
    {
        Assert.False(ReportingCalendar.TryParse(setting, out _, out var error));
        Assert.Contains("is not 1–12", error);
    }

    [Fact]
    public void TryParse_shortens_a_very_long_setting_in_the_error()
    {
        Assert.False(ReportingCalendar.TryParse(new string('x', 100_000), out _, out var error));
        Assert.True(error.Length < 200, error);
    }

    [Fact]
    public void Parse_throws_FormatException_with_the_reason()
    {
        var thrown = Assert.Throws<FormatException>(() => ReportingCalendar.Parse("fiscal:13"));
        Assert.Contains("13", thrown.Message);
        Assert.Equal(ReportingCalendar.Persian, ReportingCalendar.Parse("persian"));
    }

    [Fact]
    public void Equality_is_by_value()
    {
        Assert.Equal(ReportingCalendar.Fiscal(4), ReportingCalendar.Parse("fiscal:4"));
        Assert.True(ReportingCalendar.Fiscal(4) == ReportingCalendar.Parse("fiscal:4"));
        Assert.Equal(ReportingCalendar.Fiscal(4).GetHashCode(), ReportingCalendar.Parse("fiscal:4").GetHashCode());
        Assert.NotEqual(ReportingCalendar.Fiscal(4), ReportingCalendar.Fiscal(7));
        Assert.NotEqual(ReportingCalendar.Gregorian, ReportingCalendar.Persian);
        Assert.True(ReportingCalendar.Gregorian != ReportingCalendar.Persian);
        Assert.False(ReportingCalendar.Gregorian.Equals(null));
    }

    [Fact]
    public void Fiscal_1_keeps_its_own_setting_text()
    {
        var fiscalJanuary = ReportingCalendar.Fiscal(1);
        Assert.Equal("fiscal:1", fiscalJanuary.Setting);
        Assert.Equal(ReportingCalendar.Gregorian.FirstMonth, fiscalJanuary.FirstMonth);
        Assert.NotEqual(ReportingCalendar.Gregorian, fiscalJanuary);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(13)]
    [InlineData(-1)]
    public void Fiscal_rejects_months_outside_1_to_12(int firstMonth)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ReportingCalendar.Fiscal(firstMonth));
    }
}
