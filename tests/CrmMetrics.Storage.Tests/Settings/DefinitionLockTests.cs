using CrmMetrics.Storage.Settings;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Settings;

/// <summary>Changes to the definitions take turns across instances of the app, against a real Azurite.</summary>
public class DefinitionLockTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Holders_in_two_instances_never_overlap()
    {
        var account = await azurite.AccountAsync();
        DefinitionLock[] instances = [new(account), new(account)];
        var inside = 0;
        var most = 0;
        await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
        {
            await using var held = await instances[i % 2].AcquireAsync(default);
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref most, now);
            await Task.Yield();
            await Task.Delay(5);
            Interlocked.Decrement(ref inside);
        }));
        Assert.Equal(1, most);
    }

    [Fact]
    public async Task A_holder_that_died_is_outlived_when_its_lease_runs_out()
    {
        var account = await azurite.AccountAsync();
        // Acquired and never released, as by an instance that died holding it.
        _ = await new DefinitionLock(account).AcquireAsync(default);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        await using (await new DefinitionLock(account).AcquireAsync(default))
        {
            Assert.True(waited.Elapsed > TimeSpan.FromSeconds(10), $"acquired after {waited.Elapsed} while the other held it");
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
