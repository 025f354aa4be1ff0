using CrmMetrics.Domain.Periods;

namespace CrmMetrics.Domain.Tests.Periods;

public class GrainsTests
{
    [Theory]
    [InlineData(Grain.Day, "day")]
    [InlineData(Grain.Week, "week")]
    [InlineData(Grain.Month, "month")]
    [InlineData(Grain.Quarter, "quarter")]
    [InlineData(Grain.Year, "year")]
    public void Key_and_TryParse_round_trip(Grain grain, string key)
    {
        Assert.Equal(key, Grains.Key(grain));
        Assert.True(Grains.TryParse(key, out var parsed));
        Assert.Equal(grain, parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Day")]
    [InlineData("DAY")]
    [InlineData(" day")]
    [InlineData("day ")]
    [InlineData("days")]
    [InlineData("0")]
    [InlineData("fortnight")]
    public void TryParse_accepts_only_exact_lowercase_names(string? text)
    {
        Assert.False(Grains.TryParse(text, out _));
    }

    [Fact]
    public void All_lists_every_grain_finest_first()
    {
        Assert.Equal([Grain.Day, Grain.Week, Grain.Month, Grain.Quarter, Grain.Year], Grains.All);
        Assert.Equal(Enum.GetValues<Grain>().Length, Grains.All.Count);
    }

    [Fact]
    public void Key_of_an_undefined_grain_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Grains.Key((Grain)42));
    }
}
