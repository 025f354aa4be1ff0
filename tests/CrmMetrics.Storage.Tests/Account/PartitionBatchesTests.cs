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

    private static string NewPartition() => "pb-" + Guid.NewGuid().ToString("N");

    /// <summary>Merges the rows with <see cref="Counting"/> (nothing to do before writing); returns what was written.</summary>
    private static Task<List<(string RowKey, string Outcome, bool Blind)>> MergeAsync(TableClient table, string partition, IReadOnlyCollection<string> keys,
        Func<string, bool> probablyNew, Dictionary<string, int> merges, RowCache cache) =>
        PartitionBatches.MergeManyAsync(table, partition, keys, probablyNew, Counting(merges), (_, _) => Task.CompletedTask, default, cache);

    [Fact]
    public async Task A_known_row_that_changed_elsewhere_is_taken_out_of_the_transaction_and_only_it_is_read_and_merged_again()
    {
        var table = await TableAsync(azurite);
        var partition = NewPartition();
        string[] keys = ["k1", "k2", "k3"];
        var cache = new RowCache();
        await MergeAsync(table, partition, keys, _ => true, [], cache);
        // Another instance changes k2: this process's cached copy of it is stale now.
        await table.UpdateEntityAsync(new TableEntity(partition, "k2") { ["N"] = 10 }, ETag.All, TableUpdateMode.Replace);

        var merges = new Dictionary<string, int>();
        var written = await MergeAsync(table, partition, keys, _ => false, merges, cache);

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
        var partition = NewPartition();
        await table.AddEntityAsync(new TableEntity(partition, "b2") { ["N"] = 5 });

        var merges = new Dictionary<string, int>();
        var written = await MergeAsync(table, partition, ["b1", "b2", "b3"], _ => true, merges, new RowCache());

        Assert.Equal(new Dictionary<string, int> { ["b1"] = 1, ["b2"] = 2, ["b3"] = 1 }, merges);
        Assert.Equal([("b1", true), ("b2", false), ("b3", true)], written.Select(w => (w.RowKey, w.Blind)).Order());
        Assert.Equal(6, (await table.GetEntityAsync<TableEntity>(partition, "b2")).Value.GetInt32("N"));
        Assert.Equal(1, (await table.GetEntityAsync<TableEntity>(partition, "b1")).Value.GetInt32("N"));
    }

    [Fact]
    public async Task However_many_known_rows_changed_elsewhere_the_unchanged_ones_are_written_from_their_first_merge()
    {
        var table = await TableAsync(azurite);
        var partition = NewPartition();
        var keys = Enumerable.Range(1, 7).Select(i => $"r{i}").ToList();
        var cache = new RowCache();
        await MergeAsync(table, partition, keys, _ => true, [], cache);
        var changed = keys.Take(5).ToList();
        foreach (var key in changed) await table.UpdateEntityAsync(new TableEntity(partition, key) { ["N"] = 10 }, ETag.All, TableUpdateMode.Replace);

        var merges = new Dictionary<string, int>();
        await MergeAsync(table, partition, keys, _ => false, merges, cache);

        foreach (var key in keys)
        {
            Assert.Equal(changed.Contains(key) ? 2 : 1, merges[key]);
            Assert.Equal(changed.Contains(key) ? 11 : 2, (await table.GetEntityAsync<TableEntity>(partition, key)).Value.GetInt32("N"));
        }
    }

    [Fact]
    public async Task A_new_row_that_exists_after_all_leaves_the_shared_transaction_for_the_read_path_without_a_second_blind_add()
    {
        var table = await TableAsync(azurite);
        var partition = NewPartition();
        var cache = new RowCache();
        await MergeAsync(table, partition, ["known"], _ => true, [], cache);
        // Written by another instance: this one takes it for new.
        await table.AddEntityAsync(new TableEntity(partition, "elsewhere") { ["N"] = 5 });

        var merges = new Dictionary<string, int>();
        var written = await MergeAsync(table, partition, ["known", "elsewhere"], key => key == "elsewhere", merges, cache);

        // Merged once for the shared transaction that failed on it, once more from what was read.
        Assert.Equal(new Dictionary<string, int> { ["elsewhere"] = 2, ["known"] = 2 }, merges);
        Assert.Equal([("elsewhere", false), ("known", false)], written.Select(w => (w.RowKey, w.Blind)).Order());
        Assert.Equal(6, (await table.GetEntityAsync<TableEntity>(partition, "elsewhere")).Value.GetInt32("N"));
        Assert.Equal(2, (await table.GetEntityAsync<TableEntity>(partition, "known")).Value.GetInt32("N"));
    }
}
