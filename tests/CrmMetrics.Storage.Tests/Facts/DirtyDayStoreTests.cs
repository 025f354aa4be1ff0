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
}
