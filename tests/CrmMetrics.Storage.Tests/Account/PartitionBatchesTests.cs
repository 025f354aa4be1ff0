using Azure;
using Azure.Data.Tables;
using CrmMetrics.Storage.Account;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Account;

public class PartitionBatchesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    /// <summary>Adds one to the row's counter and records that the row was merged.</summary>
    private static Func<string, TableEntity, string?> Counting(Dictionary<string, int> merges) => (key, row) =>
    {
        merges[key] = merges.GetValueOrDefault(key) + 1;
        row["N"] = (row.GetInt32("N") ?? 0) + 1;
        return key;
    };

    private static async Task<TableClient> TableAsync(AzuriteFixture azurite)
    {
        var table = (await azurite.AccountAsync()).Table(StorageNames.Tables.Customers);
        await table.CreateIfNotExistsAsync();
        return table;
    }

    [Fact]
    public async Task A_known_row_that_changed_elsewhere_is_taken_out_of_the_transaction_and_only_it_is_read_and_merged_again()
    {
        var table = await TableAsync(azurite);
        var partition = "pb-" + Guid.NewGuid().ToString("N");
        string[] keys = ["k1", "k2", "k3"];
        var cache = new RowCache();
        await PartitionBatches.MergeManyAsync(table, partition, keys, _ => true, Counting([]), (_, _) => Task.CompletedTask, default, cache);
        // Another instance changes k2: this process's cached copy of it is stale now.
        await table.UpdateEntityAsync(new TableEntity(partition, "k2") { ["N"] = 10 }, ETag.All, TableUpdateMode.Replace);

        var merges = new Dictionary<string, int>();
        var written = await PartitionBatches.MergeManyAsync(table, partition, keys, _ => false, Counting(merges), (_, _) => Task.CompletedTask, default, cache);

        // The transaction of the three cached rows failed on k2 alone: k1 and k3 were written from the
        // same merge (once each), k2 was read and merged again.
        Assert.Equal(new Dictionary<string, int> { ["k1"] = 1, ["k2"] = 2, ["k3"] = 1 }, merges);
        Assert.Equal(keys, written.Select(w => w.RowKey).Order());
        foreach (var (key, expected) in new[] { ("k1", 2), ("k2", 11), ("k3", 2) })
        {
            var stored = (await table.GetEntityAsync<TableEntity>(partition, key)).Value;
            Assert.Equal(expected, stored.GetInt32("N"));
            // Every row is known again as stored, so the next merge needs no read.
            Assert.True(cache.TryGet(partition, key, out var cached));
            Assert.Equal(stored.ETag, cached.ETag);
        }
    }

    [Fact]
    public async Task Rows_added_blindly_that_exist_already_are_taken_out_one_by_one_and_merged_into_what_is_stored()
    {
        var table = await TableAsync(azurite);
        var partition = "pb-" + Guid.NewGuid().ToString("N");
        await table.AddEntityAsync(new TableEntity(partition, "b2") { ["N"] = 5 });

        var merges = new Dictionary<string, int>();
        var written = await PartitionBatches.MergeManyAsync(table, partition, ["b1", "b2", "b3"], _ => true, Counting(merges), (_, _) => Task.CompletedTask, default, new RowCache());

        Assert.Equal(new Dictionary<string, int> { ["b1"] = 1, ["b2"] = 2, ["b3"] = 1 }, merges);
        Assert.Equal([("b1", true), ("b2", false), ("b3", true)], written.Select(w => (w.RowKey, w.Blind)).Order());
        Assert.Equal(6, (await table.GetEntityAsync<TableEntity>(partition, "b2")).Value.GetInt32("N"));
        Assert.Equal(1, (await table.GetEntityAsync<TableEntity>(partition, "b1")).Value.GetInt32("N"));
    }
}
