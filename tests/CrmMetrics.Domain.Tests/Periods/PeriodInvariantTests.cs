using CrmMetrics.Domain.Periods;
using static CrmMetrics.Domain.Tests.Periods.TestCalendars;

namespace CrmMetrics.Domain.Tests.Periods;

/// <summary>Properties that must hold for every day and grain, checked over several years of each calendar.</summary>
public class PeriodInvariantTests
{
    [Theory]
    [InlineData("gregorian", "UTC")]
    [InlineData("gregorian", "Europe/Berlin")]
    [InlineData("persian", "Asia/Tehran")]
    [InlineData("fiscal:1", "UTC")]
    [InlineData("fiscal:4", "Europe/Berlin")]
    [InlineData("fiscal:7", "America/Santiago")]
    [InlineData("fiscal:10", "America/Havana")]
    [InlineData("fiscal:12", "Atlantic/Azores")]
    public void Every_day_round_trips_through_every_grain(string setting, string zone)
    {
        var calendar = Create(setting, zone);
        for (var date = Date("2019-12-01"); date <= Date("2027-02-01"); date = date.AddDays(1))
        {
            foreach (var grain in Grains.All)
            {
                var period = calendar.PeriodOf(grain, date);
                Assert.Equal(grain, period.Grain);
                Assert.True(period.Contains(date));
                Assert.Equal(period, calendar.Parse(period.Key));
                Assert.Equal(period, calendar.Parse(period.Key, grain));
                Assert.Equal(period, calendar.PeriodOf(grain, period.Start));
                Assert.Equal(period, calendar.PeriodOf(grain, period.End.AddTicks(-1)));
                Assert.True(period.Contains(period.Start));
                Assert.False(period.Contains(period.End));
                Assert.True(period.Start < period.End);
                Assert.Equal(period.FirstDay, calendar.LocalDateOf(period.Start));
                var next = period.Next();
                Assert.Equal(period.LastDay.AddDays(1), next.FirstDay);
                Assert.Equal(period.End, next.Start);
                Assert.Equal(period, next.Previous());
            }
        }
    }

    [Theory]
    [InlineData("gregorian")]
    [InlineData("persian")]
    [InlineData("fiscal:4")]
    [InlineData("fiscal:7")]
    [InlineData("fiscal:10")]
    public void Coarser_periods_are_made_of_whole_finer_periods(string setting)
    {
        var calendar = Create(setting, "Europe/Berlin");
        for (var date = Date("2024-01-01"); date <= Date("2027-12-31"); date = date.AddDays(5))
        {
            var month = calendar.PeriodOf(Grain.Month, date);
            var quarter = calendar.PeriodOf(Grain.Quarter, date);
            var year = calendar.PeriodOf(Grain.Year, date);
            Assert.True(quarter.Contains(month.FirstDay) && quarter.Contains(month.LastDay));
            Assert.True(year.Contains(quarter.FirstDay) && year.Contains(quarter.LastDay));
            Assert.Equal(3, calendar.Range(calendar.PeriodOf(Grain.Month, quarter.FirstDay), calendar.PeriodOf(Grain.Month, quarter.LastDay)).Count());
            Assert.Equal(12, calendar.Range(calendar.PeriodOf(Grain.Month, year.FirstDay), calendar.PeriodOf(Grain.Month, year.LastDay)).Count());
            Assert.Equal(4, calendar.Range(calendar.PeriodOf(Grain.Quarter, year.FirstDay), calendar.PeriodOf(Grain.Quarter, year.LastDay)).Count());
            Assert.Equal(year.Key[..4], quarter.Key[..4]);
        }
    }

    [Fact]
    public void A_shared_calendar_gives_the_same_answers_on_many_threads()
    {
        var calendar = Create("persian", "Asia/Tehran");
        var dates = Enumerable.Range(0, 4_000).Select(offset => Date("2015-01-01").AddDays(offset)).ToArray();
        var expected = dates.Select(date => calendar.PeriodOf(Grain.Quarter, date).Key + calendar.PeriodOf(Grain.Day, date).Start.ToString("O")).ToArray();
        var actual = new string[dates.Length];
        Parallel.For(0, dates.Length, i =>
            actual[i] = calendar.PeriodOf(Grain.Quarter, dates[i]).Key + calendar.PeriodOf(Grain.Day, dates[i]).Start.ToString("O"));
        Assert.Equal(expected, actual);
    }
}
