using CrmMetrics.Domain.Periods;
using CrmMetrics.Storage.Snapshots;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Snapshots;

public class SnapshotVersionTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Concurrent_deliveries_of_one_run_share_a_version_and_the_next_run_gets_the_next_number()
    {
        var store = new SnapshotStore(await azurite.AccountAsync());
        var first = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => store.ReserveVersionAsync(Grain.Month, "2026-02", "run-a", default)));
        Assert.All(first, v => Assert.Equal(1, v));
        Assert.Equal(2, await store.ReserveVersionAsync(Grain.Month, "2026-02", "run-b", default));
        Assert.Equal(2, await store.ReserveVersionAsync(Grain.Month, "2026-02", "run-b", default));
        Assert.Equal(1, await store.ReserveVersionAsync(Grain.Month, "2026-03", "run-b", default));
    }
}
