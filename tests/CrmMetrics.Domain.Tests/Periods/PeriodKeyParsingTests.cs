using CrmMetrics.Domain.Periods;
using static CrmMetrics.Domain.Tests.Periods.TestCalendars;

namespace CrmMetrics.Domain.Tests.Periods;

public class PeriodKeyParsingTests
{
    private readonly PeriodCalendar gregorian = Create("gregorian");

    [Theory]
    [InlineData("2026-13", "month 13 is not 01–12")]
    [InlineData("2026-00", "month 00 is not 01–12")]
    [InlineData("2026-13-01", "month 13 is not 01–12")]
    [InlineData("2026-02-30", "day 30 does not exist in 2026-02 (it has 28 days)")]
    [InlineData("2026-02-29", "day 29 does not exist in 2026-02")]
    [InlineData("2026-04-31", "day 31 does not exist in 2026-04")]
    [InlineData("2026-01-32", "day 32 does not exist in 2026-01")]
    [InlineData("2026-01-00", "day 00 does not exist in 2026-01")]
    [InlineData("2026-W54", "week 54 does not exist in ISO year 2026")]
    [InlineData("2026-Q5", "quarter 5 is not 1–4")]
    [InlineData("2026-Q0", "quarter 0 is not 1–4")]
    [InlineData("0000", "year 0000 is not 0001–9999")]
    [InlineData("0000-01", "year 0000 is not 0001–9999")]
    [InlineData("0000-Q1", "year 0000 is not 0001–9999")]
    [InlineData("9999-W52", "9999-W52 falls outside")]
    [InlineData("2026-w01", "uppercase W")]
    [InlineData("2026-q1", "uppercase Q")]
    [InlineData("", "the period key is empty")]
    [InlineData(null, "the period key is missing")]
    public void Invalid_keys_give_a_named_error(string? key, string error)
    {
        Assert.False(gregorian.TryParse(key, out var period, out var actual));
        Assert.Null(period);
        Assert.Contains(error, actual);
    }

    [Theory]
    [InlineData("26-01")]
    [InlineData(" 2026")]
    [InlineData("2026 ")]
    [InlineData("2026\n")]
    [InlineData("20260")]
    [InlineData("202")]
    [InlineData("2026-1")]
    [InlineData("2026-01-1")]
    [InlineData("2026-1-01")]
    [InlineData("2026/01")]
    [InlineData("2026.01")]
    [InlineData("2026-01-01T00:00")]
    [InlineData("2026-01-01 ")]
    [InlineData("20260101")]
    [InlineData("+2026")]
    [InlineData("-2026")]
    [InlineData("-001")]
    [InlineData("２０２６")]
    [InlineData("۱۴۰۵")]
    [InlineData("١٤٠٥-٠١")]
    [InlineData("2026-M01")]
    [InlineData("2026-W1")]
    [InlineData("2026-W001")]
    [InlineData("2026W01")]
    [InlineData("2026-Q01")]
    [InlineData("2026-H1")]
    [InlineData("2026-Q")]
    [InlineData("2026-W")]
    [InlineData("Q1-2026")]
    [InlineData("abcd")]
    [InlineData("2026-ab")]
    [InlineData("2026-0a-01")]
    [InlineData("2026-01-0a")]
    [InlineData("2026-01_01")]
    [InlineData("\0\0\0\0")]
    public void Malformed_keys_are_shape_errors(string key)
    {
        Assert.False(gregorian.TryParse(key, out var period, out var error));
        Assert.Null(period);
        Assert.Contains("is not a period key", error);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(1_000)]
    [InlineData(1_000_000)]
    public void Very_long_keys_are_errors_with_short_messages(int length)
    {
        var key = new string('9', length);
        Assert.False(gregorian.TryParse(key, out var period, out var error));
        Assert.Null(period);
        Assert.True(error.Length < 200, error);
        Assert.False(gregorian.TryParse(key, Grain.Year, out _, out _));
    }

    [Theory]
    [InlineData("gregorian")]
    [InlineData("persian")]
    [InlineData("fiscal:4")]
    [InlineData("fiscal:7")]
    [InlineData("fiscal:10")]
    public void No_key_of_any_shape_makes_TryParse_throw(string setting)
    {
        var calendar = Create(setting, "Europe/Berlin");
        var random = new Random(20260101);
        const string alphabet = "0123456789-QW";
        for (var i = 0; i < 20_000; i++)
        {
            var length = random.Next(0, 12);
            var key = string.Create(length, random, (span, source) =>
            {
                for (var j = 0; j < span.Length; j++)
                {
                    span[j] = alphabet[source.Next(alphabet.Length)];
                }
            });
            if (calendar.TryParse(key, out var period, out var error))
            {
                Assert.Null(error);
                Assert.Equal(key, period.Key);
            }
            else
            {
                Assert.Null(period);
                Assert.False(string.IsNullOrWhiteSpace(error));
            }
        }
    }

    [Theory]
    [InlineData("gregorian")]
    [InlineData("persian")]
    [InlineData("fiscal:4")]
    [InlineData("fiscal:7")]
    [InlineData("fiscal:12")]
    public void Every_well_shaped_key_in_the_edge_years_parses_or_errs_without_throwing(string setting)
    {
        var calendar = Create(setting, "Asia/Tehran");
        foreach (var year in new[] { "0000", "0001", "0002", "9377", "9378", "9379", "9998", "9999" })
        {
            for (var part = 0; part <= 99; part++)
            {
                var two = part.ToString("D2", System.Globalization.CultureInfo.InvariantCulture);
                foreach (var key in new[] { $"{year}-{two}", $"{year}-W{two}", $"{year}-{two}-01", $"{year}-12-{two}", $"{year}-10-{two}" })
                {
                    Assert.Equal(calendar.TryParse(key, out var period, out _), period is not null);
                }
            }

            for (var quarter = 0; quarter <= 9; quarter++)
            {
                Assert.Equal(calendar.TryParse($"{year}-Q{quarter}", out var period, out _), period is not null);
            }

            Assert.Equal(calendar.TryParse(year, out var yearPeriod, out _), yearPeriod is not null);
        }
    }

    [Theory]
    [InlineData("2026-05-01", Grain.Day)]
    [InlineData("2026-W05", Grain.Week)]
    [InlineData("2026-05", Grain.Month)]
    [InlineData("2026-Q2", Grain.Quarter)]
    [InlineData("2026", Grain.Year)]
    public void TryParse_with_the_expected_grain_accepts_its_shape(string key, Grain grain)
    {
        Assert.True(gregorian.TryParse(key, grain, out var period, out var error));
        Assert.Null(error);
        Assert.Equal(grain, period.Grain);
        Assert.Equal(period, gregorian.Parse(key, grain));
    }

    [Theory]
    [InlineData("2026-05", Grain.Week, "'2026-05' is a month key, not a week key (YYYY-Www)")]
    [InlineData("2026-W05", Grain.Month, "is a week key, not a month key (yyyy-MM)")]
    [InlineData("2026", Grain.Day, "is a year key, not a day key (yyyy-MM-dd)")]
    [InlineData("2026-05-01", Grain.Quarter, "is a day key, not a quarter key (yyyy-Qn)")]
    [InlineData("2026-Q2", Grain.Year, "is a quarter key, not a year key (yyyy)")]
    public void TryParse_with_another_grain_names_both(string key, Grain grain, string error)
    {
        Assert.False(gregorian.TryParse(key, grain, out var period, out var actual));
        Assert.Null(period);
        Assert.Contains(error, actual);
        Assert.Throws<FormatException>(() => gregorian.Parse(key, grain));
    }

    [Theory]
    [InlineData("2026-13", Grain.Month, "month 13 is not 01–12")]
    [InlineData(null, Grain.Month, "missing")]
    [InlineData("x", Grain.Month, "is not a period key")]
    public void TryParse_with_a_grain_still_validates_values(string? key, Grain grain, string error)
    {
        Assert.False(gregorian.TryParse(key, grain, out _, out var actual));
        Assert.Contains(error, actual);
    }

    [Fact]
    public void Parse_throws_FormatException_with_the_error()
    {
        var thrown = Assert.Throws<FormatException>(() => gregorian.Parse("2026-13"));
        Assert.Equal("month 13 is not 01–12", thrown.Message);
    }

    [Fact]
    public void TryParse_with_an_undefined_grain_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => gregorian.TryParse("2026", (Grain)42, out _, out _));
    }
}
