using CrmMetrics.Storage.Account;
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
        DefinitionLock[] instances = [new(account, "overlap"), new(account, "overlap")];
        var inside = 0;
        var most = 0;
        await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
        {
            await using var held = await instances[i % 2].AcquireAsync(default);
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref most, now);
            await Task.Delay(5);
            Interlocked.Decrement(ref inside);
        }));
        Assert.Equal(1, most);
    }

    [Fact]
    public async Task A_change_that_outlasts_a_lease_keeps_the_lock_until_it_is_done()
    {
        // Found in review: a lease taken once ran out under a slow change, and another instance then changed too.
        var account = await azurite.AccountAsync();
        var released = DateTimeOffset.MaxValue;
        var slow = Task.Run(async () =>
        {
            await using (await new DefinitionLock(account, "slow").AcquireAsync(default))
            {
                await Task.Delay(TimeSpan.FromSeconds(33));   // longer than the 30-second lease
                released = DateTimeOffset.UtcNow;
            }
        });
        await Task.Delay(TimeSpan.FromSeconds(1));
        await using (await new DefinitionLock(account, "slow").AcquireAsync(default))
        {
            Assert.True(DateTimeOffset.UtcNow >= released, "the second instance got the lock while the first still held it");
        }
        await slow;
    }

    [Fact]
    public async Task A_lease_left_by_an_instance_that_died_is_outlived()
    {
        var account = await azurite.AccountAsync();
        var container = account.Container(StorageNames.Containers.Locks);
        await container.CreateIfNotExistsAsync();
        var blob = container.GetBlobClient("died");
        await blob.UploadAsync(BinaryData.FromString(""), overwrite: true);
        // Taken and never renewed nor released, as by an instance that died holding it.
        await Azure.Storage.Blobs.Specialized.SpecializedBlobExtensions.GetBlobLeaseClient(blob).AcquireAsync(TimeSpan.FromSeconds(15));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        await using (await new DefinitionLock(account, "died").AcquireAsync(default))
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
