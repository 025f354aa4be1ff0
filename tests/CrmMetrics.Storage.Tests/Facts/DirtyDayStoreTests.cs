using CrmMetrics.Storage.Facts;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Facts;

public class DirtyDayStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Clearing_a_mark_that_was_renewed_keeps_the_day_dirty()
    {
        var store = new DirtyDayStore(await azurite.AccountAsync());
        var day = new DateOnly(2031, 1, 5);
        await store.MarkAsync([day], default);
        var seen = (await store.GetAsync(day, default))!;
        await store.MarkAsync([day], default); // facts arrived while the day was aggregated
        Assert.False(await store.ClearAsync(seen, default));
        Assert.NotNull(await store.GetAsync(day, default));
    }

    [Fact]
    public async Task A_second_aggregation_of_an_already_cleared_mark_marks_the_day_again()
    {
        var store = new DirtyDayStore(await azurite.AccountAsync());
        var day = new DateOnly(2031, 1, 6);
        await store.MarkAsync([day], default);
        var seen = (await store.GetAsync(day, default))!;
        Assert.True(await store.ClearAsync(seen, default));
        Assert.Null(await store.GetAsync(day, default));
        // Two aggregations of the same mark may have crossed: the day must be aggregated once more.
        Assert.False(await store.ClearAsync(seen, default));
        Assert.NotNull(await store.GetAsync(day, default));
    }

    [Fact]
    public async Task Days_read_at_the_same_time_each_get_their_own_mark()
    {
        var store = new DirtyDayStore(await azurite.AccountAsync());
        var first = new DateOnly(2031, 3, 1);
        var dirty = Enumerable.Range(0, 30).Where(i => i % 3 == 0).Select(first.AddDays).ToList();
        await store.MarkAsync(dirty, default);

        // Every other day is asked for, so a grouped read spans days nobody asked about.
        var asked = Enumerable.Range(0, 30).Where(i => i % 2 == 0).Select(first.AddDays).ToList();
        var marks = await Task.WhenAll(asked.Select(day => store.GetAsync(day, default)));

        for (var i = 0; i < asked.Count; i++)
        {
            if (dirty.Contains(asked[i])) Assert.Equal(asked[i], marks[i]!.Day);
            else Assert.Null(marks[i]);
        }
    }

    [Fact]
    public async Task Marks_cleared_at_the_same_time_keep_only_the_renewed_days_dirty()
    {
        var store = new DirtyDayStore(await azurite.AccountAsync());
        var days = Enumerable.Range(0, 12).Select(i => new DateOnly(2031, 4, 1).AddDays(i)).ToList();
        await store.MarkAsync(days, default);
        var seen = await Task.WhenAll(days.Select(day => store.GetAsync(day, default)));
        var renewed = new[] { days[3], days[7] };
        await store.MarkAsync(renewed, default); // facts arrived for these while they were aggregated

        var cleared = await Task.WhenAll(seen.Select(mark => store.ClearAsync(mark!, default)));

        for (var i = 0; i < days.Count; i++)
        {
            var stillDirty = renewed.Contains(days[i]);
            Assert.Equal(!stillDirty, cleared[i]);
            Assert.Equal(stillDirty, await store.GetAsync(days[i], default) is not null);
        }

        // Marks nobody renewed are all cleared (those cleared together, in one transaction).
        var quiet = Enumerable.Range(0, 12).Select(i => new DateOnly(2031, 5, 1).AddDays(i)).ToList();
        await store.MarkAsync(quiet, default);
        var quietSeen = await Task.WhenAll(quiet.Select(day => store.GetAsync(day, default)));
        Assert.All(await Task.WhenAll(quietSeen.Select(mark => store.ClearAsync(mark!, default))), Assert.True);
        Assert.All(await Task.WhenAll(quiet.Select(day => store.GetAsync(day, default))), Assert.Null);
    }

    [Fact]
    public async Task Two_aggregations_of_one_mark_clearing_at_the_same_time_leave_the_day_dirty()
    {
        var store = new DirtyDayStore(await azurite.AccountAsync());
        var day = new DateOnly(2031, 6, 1);
        var others = Enumerable.Range(1, 6).Select(day.AddDays).ToList();
        await store.MarkAsync([day, .. others], default);
        var first = (await store.GetAsync(day, default))!;
        var second = (await store.GetAsync(day, default))!;
        var otherMarks = await Task.WhenAll(others.Select(d => store.GetAsync(d, default)));

        // The same day twice among other days: whichever clear comes second finds the mark gone.
        var clears = new[] { store.ClearAsync(first, default), store.ClearAsync(second, default) }
            .Concat(otherMarks.Select(m => store.ClearAsync(m!, default))).ToList();
        var results = await Task.WhenAll(clears);

        Assert.Equal(1, results.Take(2).Count(cleared => cleared));
        Assert.NotNull(await store.GetAsync(day, default)); // marked again: the crossed partials are aggregated once more
        Assert.All(results.Skip(2), Assert.True);
    }
}
