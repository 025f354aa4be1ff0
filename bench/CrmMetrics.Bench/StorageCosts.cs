using System.Diagnostics;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Specialized;
using CrmMetrics.LocalHost.Storage;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Bench;

/// <summary>
/// What one storage request costs in a fresh Azurite and in this process (CPU per operation), 8 in
/// flight: the unit prices behind the ingest benchmark's figures. Then whether the id index's
/// partitioning changes what its claims cost: the same claims over 64 partitions (the id index) and
/// over 736 (the bare loop's day-and-shard partitions), each into an Azurite of its own.
/// A diagnostic, not an aim. Arguments: [claims (200000)].
/// </summary>
public static class StorageCosts
{
    public static async Task<int> RunAsync(string[] args)
    {
        var claims = args.Length > 0 ? int.Parse(args[0]) : 200_000;
        BenchEnvironment.PrintMachine();
        await using var azurite = await AzuriteServer.StartAsync(dataFolder: null);
        var account = StorageAccount.FromConnectionString(azurite.ConnectionString);
        await account.InitializeAsync(default);
        var storage = ProcessCpu.Azurite(azurite.TablePort);
        var own = new ProcessCpu(Environment.ProcessId);
        var table = account.Table("Costs");
        await table.CreateIfNotExistsAsync();
        var logs = account.Container("costs");
        await logs.CreateIfNotExistsAsync();

        async Task MeasureAsync(string name, int count, Func<int, Task> operation)
        {
            var (storage0, own0) = (storage?.Seconds ?? 0, own.Seconds);
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) => await operation(i));
            Console.WriteLine($"{name,-40} Azurite {((storage?.Seconds ?? 0) - storage0) * 1000 / count,6:0.00} ms, client {(own.Seconds - own0) * 1000 / count,6:0.00} ms per operation ({count})");
        }

        await MeasureAsync("(warm-up) single upsert", 500, i => table.UpsertEntityAsync(new TableEntity("w", $"r{i}")));
        await MeasureAsync("single upsert", 2000, i => table.UpsertEntityAsync(new TableEntity("u", $"r{i}") { ["S"] = "abc" }));
        await MeasureAsync("point read", 2000, i => table.GetEntityIfExistsAsync<TableEntity>("u", $"r{i}"));
        await MeasureAsync("transaction of 1 add", 1000, i => table.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("one", $"r{i}"))]));
        await MeasureAsync("transaction of 100 claims (2 properties)", 100, i => table.SubmitTransactionAsync(Enumerable.Range(0, 100).Select(j =>
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity($"c{i}", $"r{j}") { ["Day"] = "20260801", ["Write"] = "0123456789abcdef0123456789abcdef" }))));
        var text = new string('x', 2000);
        await MeasureAsync("transaction of 100 adds with 2 KB each", 50, i => table.SubmitTransactionAsync(Enumerable.Range(0, 100).Select(j =>
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity($"t{i}", $"r{j}") { ["T"] = text }))));
        foreach (var size in new[] { 5_000, 27_000, 400_000 })
        {
            var block = new byte[size];
            Random.Shared.NextBytes(block);
            for (var b = 0; b < 8; b++) await logs.GetAppendBlobClient($"{size}/{b}").CreateIfNotExistsAsync();
            await MeasureAsync($"append-blob block of {size / 1000} KB", 400, i => logs.GetAppendBlobClient($"{size}/{i % 8}").AppendBlockAsync(new MemoryStream(block)));
        }

        foreach (var partitions in new[] { 64, 736 }) await ClaimsAsync(claims, partitions);
        return 0;
    }

    /// <summary>Claims (two properties) in transactions of up to 100 per partition, 32 in flight, into an empty Azurite.</summary>
    private static async Task ClaimsAsync(int count, int partitions)
    {
        await using var azurite = await AzuriteServer.StartAsync(dataFolder: null);
        var account = StorageAccount.FromConnectionString(azurite.ConnectionString);
        var table = account.Table("Claims");
        await table.CreateIfNotExistsAsync();
        var storage = ProcessCpu.Azurite(azurite.TablePort);
        var batches = Enumerable.Range(0, count).Select(i => $"evt-{i:D7}")
            .GroupBy(id => "p" + (uint)StringComparer.Ordinal.GetHashCode(id) % partitions)
            .SelectMany(g => g.Chunk(100).Select(ids => (Partition: g.Key, Ids: ids))).ToList();
        var storage0 = storage?.Seconds ?? 0;
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (batch, ct) =>
            await table.SubmitTransactionAsync(batch.Ids.Select(id => new TableTransactionAction(TableTransactionActionType.Add,
                new TableEntity(batch.Partition, id) { ["Day"] = "20260801", ["Write"] = "0123456789abcdef0123456789abcdef" })), ct));
        Console.WriteLine($"{count} claims over {partitions,3} partitions ({batches.Count} transactions): Azurite CPU {(storage?.Seconds ?? 0) - storage0:0.0} s, {watch.Elapsed.TotalSeconds:0.0} s wall");
    }
}
