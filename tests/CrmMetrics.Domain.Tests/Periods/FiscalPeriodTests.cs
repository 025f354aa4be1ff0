using CrmMetrics.Domain.Periods;
using static CrmMetrics.Domain.Tests.Periods.TestCalendars;

namespace CrmMetrics.Domain.Tests.Periods;

public class FiscalPeriodTests
{
    [Theory]
    [InlineData("fiscal:4", "2026", "2026-04-01", "2027-03-31")]
    [InlineData("fiscal:4", "2026-Q1", "2026-04-01", "2026-06-30")]
    [InlineData("fiscal:4", "2026-Q2", "2026-07-01", "2026-09-30")]
    [InlineData("fiscal:4", "2026-Q3", "2026-10-01", "2026-12-31")]
    [InlineData("fiscal:4", "2026-Q4", "2027-01-01", "2027-03-31")]
    [InlineData("fiscal:7", "2027", "2026-07-01", "2027-06-30")]
    [InlineData("fiscal:7", "2027-Q1", "2026-07-01", "2026-09-30")]
    [InlineData("fiscal:7", "2027-Q2", "2026-10-01", "2026-12-31")]
    [InlineData("fiscal:7", "2027-Q3", "2027-01-01", "2027-03-31")]
    [InlineData("fiscal:7", "2027-Q4", "2027-04-01", "2027-06-30")]
    [InlineData("fiscal:10", "2027", "2026-10-01", "2027-09-30")]
    [InlineData("fiscal:10", "2027-Q1", "2026-10-01", "2026-12-31")]
    [InlineData("fiscal:10", "2027-Q4", "2027-07-01", "2027-09-30")]
    [InlineData("fiscal:6", "2026", "2026-06-01", "2027-05-31")]
    [InlineData("fiscal:12", "2027", "2026-12-01", "2027-11-30")]
    [InlineData("fiscal:2", "2026-Q4", "2026-11-01", "2027-01-31")]
    public void Fiscal_years_and_quarters_follow_the_naming_rule(string setting, string key, string firstDay, string lastDay)
    {
        var period = Create(setting).Parse(key);
        Assert.Equal(Date(firstDay), period.FirstDay);
        Assert.Equal(Date(lastDay), period.LastDay);
    }

    [Theory]
    [InlineData("fiscal:4", "2026-11", "2026-11-01", "2026-11-30")]
    [InlineData("fiscal:7", "2026-11-23", "2026-11-23", "2026-11-23")]
    [InlineData("fiscal:10", "2026-02", "2026-02-01", "2026-02-28")]
    public void Fiscal_days_and_months_keep_Gregorian_keys(string setting, string key, string firstDay, string lastDay)
    {
        var period = Create(setting).Parse(key);
        Assert.Equal(Date(firstDay), period.FirstDay);
        Assert.Equal(Date(lastDay), period.LastDay);
    }

    [Theory]
    [InlineData("fiscal:4", "2026-03-31", "2025-Q4", "2025")]
    [InlineData("fiscal:4", "2026-04-01", "2026-Q1", "2026")]
    [InlineData("fiscal:4", "2026-12-31", "2026-Q3", "2026")]
    [InlineData("fiscal:4", "2027-01-01", "2026-Q4", "2026")]
    [InlineData("fiscal:7", "2026-06-30", "2026-Q4", "2026")]
    [InlineData("fiscal:7", "2026-07-01", "2027-Q1", "2027")]
    [InlineData("fiscal:7", "2027-01-15", "2027-Q3", "2027")]
    [InlineData("fiscal:10", "2026-09-30", "2026-Q4", "2026")]
    [InlineData("fiscal:10", "2026-10-01", "2027-Q1", "2027")]
    [InlineData("fiscal:10", "2026-12-31", "2027-Q1", "2027")]
    [InlineData("fiscal:10", "2027-01-01", "2027-Q2", "2027")]
    public void PeriodOf_a_date_gives_the_fiscal_quarter_and_year(string setting, string date, string quarter, string year)
    {
        var calendar = Create(setting);
        Assert.Equal(quarter, calendar.PeriodOf(Grain.Quarter, Date(date)).Key);
        Assert.Equal(year, calendar.PeriodOf(Grain.Year, Date(date)).Key);
        Assert.Equal(date[..7], calendar.PeriodOf(Grain.Month, Date(date)).Key);
    }

    [Theory]
    [InlineData("fiscal:4", "2026-Q4", "2027-Q1")]
    [InlineData("fiscal:4", "2025-Q4", "2026-Q1")]
    [InlineData("fiscal:4", "2026", "2027")]
    [InlineData("fiscal:7", "2027-Q4", "2028-Q1")]
    [InlineData("fiscal:7", "2027-Q2", "2027-Q3")]
    [InlineData("fiscal:7", "2027", "2028")]
    [InlineData("fiscal:10", "2027-Q4", "2028-Q1")]
    [InlineData("fiscal:10", "2027-Q1", "2027-Q2")]
    [InlineData("fiscal:10", "2026", "2027")]
    public void Next_and_Previous_cross_fiscal_year_ends(string setting, string key, string nextKey)
    {
        var calendar = Create(setting);
        var period = calendar.Parse(key);
        var next = period.Next();
        Assert.Equal(nextKey, next.Key);
        Assert.Equal(period.LastDay.AddDays(1), next.FirstDay);
        Assert.Equal(period, next.Previous());
    }

    [Fact]
    public void Fiscal_quarter_crossing_the_calendar_year_in_Berlin()
    {
        var quarter = Create("fiscal:10", "Europe/Berlin").Parse("2027-Q1");
        Assert.Equal(Instant("2026-09-30T22:00:00Z"), quarter.Start);
        Assert.Equal(Instant("2026-12-31T23:00:00Z"), quarter.End);
        Assert.Equal(92, quarter.DayCount);
        Assert.Equal(TimeSpan.FromDays(92) + TimeSpan.FromHours(1), quarter.Length);
    }

    [Theory]
    [InlineData("fiscal:4", "9999", "9999 falls outside")]
    [InlineData("fiscal:4", "9999-Q4", "9999-Q4 falls outside")]
    [InlineData("fiscal:7", "0001", "0001 falls outside")]
    [InlineData("fiscal:7", "0001-Q2", "0001-Q2 falls outside")]
    [InlineData("fiscal:4", "2026-Q5", "quarter 5 is not 1–4")]
    [InlineData("fiscal:4", "2026-Q0", "quarter 0 is not 1–4")]
    public void Fiscal_periods_outside_the_supported_dates_are_errors(string setting, string key, string error)
    {
        Assert.False(Create(setting).TryParse(key, out _, out var actual));
        Assert.Contains(error, actual);
    }

    [Fact]
    public void Fiscal_periods_inside_the_supported_dates_at_the_edges_exist()
    {
        Assert.Equal(Date("9999-12-31"), Create("fiscal:4").Parse("9999-Q3").LastDay);
        Assert.Equal(Date("0001-01-01"), Create("fiscal:7").Parse("0001-Q3").FirstDay);
        Assert.Throws<InvalidOperationException>(() => Create("fiscal:7").Parse("0001-Q3").Previous());
        Assert.Throws<ArgumentOutOfRangeException>(() => Create("fiscal:7").PeriodOf(Grain.Year, DateOnly.MinValue));
    }
}
