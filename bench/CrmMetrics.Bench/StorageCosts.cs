using System.Diagnostics;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Specialized;
using CrmMetrics.LocalHost.Storage;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Bench;

/// <summary>
/// What one storage request costs in a fresh Azurite and in this process (CPU per operation), 8 in
/// flight: the unit prices behind the ingest benchmark's figures. A diagnostic, not an aim.
/// </summary>
public static class StorageCosts
{
    public static async Task<int> RunAsync()
    {
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
        return 0;
    }
}
