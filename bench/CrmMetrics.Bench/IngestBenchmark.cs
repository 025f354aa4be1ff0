using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Specialized;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Samples;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Facts;
using CrmMetrics.LocalHost.Storage;

namespace CrmMetrics.Bench;

/// <summary>
/// Ingestion throughput: the HTTP path (validation, dedupe, dirty days, lifecycle and complaint
/// state) against a bare Azure.Data.Tables loop writing the same entities in 100-entity batches with
/// the same number of transactions in flight. Each side writes into an Azurite of its own, started
/// empty: the emulator keeps everything in one Node.js heap, and a side that ran after the others
/// would pay for their data in garbage collection. The bare loop runs before and after the app
/// (its rate is both runs together), and each side is timed once its processes are quiet after
/// their warm-up.
/// </summary>
public static class IngestBenchmark
{
    private const int RequestSize = 5000;
    private const int ConcurrentRequests = 4;

    /// <summary>The app runs at most 8 batch transactions per request; the bare loop gets the same total.</summary>
    private const int BareParallelism = ConcurrentRequests * 8;

    /// <summary>Writes the entities grouped by partition in 100-entity transactions, <see cref="BareParallelism"/> in flight; returns the transactions.</summary>
    private static async Task<int> WriteAsync(StorageAccount account, string tableName, List<TableEntity> entities)
    {
        var table = account.Table(tableName);
        await table.CreateIfNotExistsAsync();
        var batches = entities.GroupBy(e => e.PartitionKey).SelectMany(g => g.Chunk(100)).ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = BareParallelism }, async (batch, ct) =>
            await table.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)), ct));
        return batches.Count;
    }

    /// <summary>The benchmark's events: a synthetic CRM over three months, no duplicates, none late.</summary>
    public static List<System.Text.Json.Nodes.JsonObject> Events(int total) => SyntheticCrm.Generate(new SyntheticCrmOptions
    {
        Customers = Math.Max(100, (int)(total / 8.5)),
        From = new DateOnly(2026, 8, 1),
        To = new DateOnly(2026, 10, 31),
        DuplicateShare = 0,
        LateShare = 0,
        Seed = 7,
    }).Take(total).ToList();

    /// <summary>Posts one NDJSON body to <c>/api/events</c>; returns how many events were accepted.</summary>
    private static async Task<int> PostAsync(HttpClient client, string body, CancellationToken ct)
    {
        using var content = new StringContent(body, new MediaTypeHeaderValue("application/x-ndjson"));
        using var response = await client.PostAsync("/api/events", content, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("accepted").GetInt32();
    }

    /// <summary>Stops the previous side's Azurite, if any, and starts an empty one.</summary>
    private static async Task<(AzuriteServer Azurite, StorageAccount Account, ProcessCpu? Cpu)> FreshStorageAsync(AzuriteServer? previous)
    {
        if (previous is not null) await previous.DisposeAsync();
        var azurite = await AzuriteServer.StartAsync(dataFolder: null);
        var account = StorageAccount.FromConnectionString(azurite.ConnectionString);
        await account.InitializeAsync(default);
        return (azurite, account, ProcessCpu.Azurite(azurite.TablePort));
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var total = args.Length > 0 ? int.Parse(args[0]) : 200_000;
        BenchEnvironment.PrintMachine();
        Console.WriteLine($"ingest benchmark: {total} events, requests of {RequestSize}, {ConcurrentRequests} concurrent; bare loop {BareParallelism} transactions in flight");

        var events = Events(total);
        var lifecycleCount = events.Count(e => e["type"]!.GetValue<string>().StartsWith("customer.", StringComparison.Ordinal));
        var complaintCount = events.Count(e => e["type"]!.GetValue<string>().StartsWith("complaint.", StringComparison.Ordinal));
        Console.WriteLine($"generated {events.Count} events: {lifecycleCount} lifecycle ({100.0 * lifecycleCount / events.Count:0.0}%) and {complaintCount} complaint facts ({100.0 * complaintCount / events.Count:0.0}%) also update customer and case state");


        // 1. Bare loop: the same entities the app stores, grouped by partition into 100-entity transactions.
        var calendar = PeriodCalendar.TryCreate("gregorian", "UTC", out var c, out _) ? c! : throw new InvalidOperationException();
        var validator = new FactValidator(new FactRules { Calendar = calendar, IsReportableIndicator = IndicatorCatalog.IsReportableByCompetitors }, TimeProvider.System);
        var entities = events.Select(e =>
        {
            using var doc = JsonDocument.Parse(e.ToJsonString());
            validator.TryValidate(doc.RootElement, out var fact, out _);
            return FactEntity.ToEntity(fact!);
        }).ToList();
        var memory = new PeakMemory();
        var ownCpu = new ProcessCpu(Environment.ProcessId);

        // The bare loop runs twice, before and after the app, each into a fresh Azurite: a drift in
        // the machine's speed during the run (other tenants, the emulator's heap) then weighs on
        // both sides alike. Its rate is the total of both runs.
        async Task<double> BareAsync(string when)
        {
            memory.Reset();
            var (bareAzurite, bareAccount, bareStorageCpu) = await FreshStorageAsync(null);
            await using var _ = bareAzurite;
            // The SDK's first transactions pay for JIT and connections; the app's side is warm by the time it is measured, so this side is too.
            await WriteAsync(bareAccount, "Warmup", entities.Take(2000).ToList());
            var bareSettled = await ProcessCpu.WaitUntilQuietAsync([ownCpu], TimeSpan.FromSeconds(60));
            var bareOwn0 = ownCpu.Seconds;
            var bareStorage0 = bareStorageCpu?.Seconds ?? 0;
            var bareWatch = Stopwatch.StartNew();
            var bareTransactions = await WriteAsync(bareAccount, "BareFacts", entities);
            bareWatch.Stop();
            var bareStorage = (bareStorageCpu?.Seconds ?? 0) - bareStorage0;
            var bareOwn = ownCpu.Seconds - bareOwn0;
            Console.WriteLine($"bare loop ({when}): {entities.Count,8} entities in {bareWatch.Elapsed.TotalSeconds,7:0.00} s = {entities.Count / bareWatch.Elapsed.TotalSeconds,9:0} entities/s ({bareTransactions} transactions), " +
                              $"Azurite CPU {bareStorage:0.0} s, client CPU {bareOwn:0.0} s, quiet {bareSettled.TotalSeconds:0} s after its warm-up, peak working set {PeakMemory.MiB(memory.Peak)} MiB (the benchmark process, entities in memory)");
            return bareWatch.Elapsed.TotalSeconds;
        }

        var bareSeconds = await BareAsync("first");
        var bareRate = entities.Count / bareSeconds;

        // 1b. The least a design with the contract's id index and a row per fact writes: each id
        //     claimed, then its fact row; the same loop, nothing else.
        var claims = entities.Select(e => new TableEntity(StorageKeys.FactIdPartition(e.RowKey), e.RowKey) { ["Day"] = e.PartitionKey[..8] }).ToList();
        var (azurite, account, storageCpu) = await FreshStorageAsync(null);
        var indexedStorage0 = storageCpu?.Seconds ?? 0;
        var indexedWatch = Stopwatch.StartNew();
        await WriteAsync(account, "BareFactIds", claims);
        await WriteAsync(account, "BareIndexedFacts", entities);
        indexedWatch.Stop();
        var indexedStorage = (storageCpu?.Seconds ?? 0) - indexedStorage0;
        var indexedRate = entities.Count / indexedWatch.Elapsed.TotalSeconds;
        Console.WriteLine($"bare id index + fact rows: {entities.Count,8} events in {indexedWatch.Elapsed.TotalSeconds,7:0.00} s = {indexedRate,9:0} events/s, Azurite CPU {indexedStorage:0.0} s " +
                          $"(the ceiling of any design that claims each id and stores a row per fact: {indexedRate / bareRate:0.00} of the bare loop's first run)");

        // 1c. The least a design writes whose only per-event table write is the id index: each id
        //     claimed, then each request's facts of a day appended to that day's append blob (one
        //     block per day and request), the design issue 11 mentions. Same loop, nothing else.
        (azurite, account, storageCpu) = await FreshStorageAsync(azurite);
        var logs = new Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, "bare-fact-logs");
        await logs.CreateIfNotExistsAsync();
        var blocks = entities.Chunk(RequestSize).SelectMany(chunk => chunk.GroupBy(e => e.PartitionKey[..8])).ToList();
        var loggedStorage0 = storageCpu?.Seconds ?? 0;
        var loggedWatch = Stopwatch.StartNew();
        await WriteAsync(account, "BareLogFactIds", claims);
        foreach (var day in blocks.Select(b => b.Key).Distinct()) await logs.GetAppendBlobClient(day).CreateIfNotExistsAsync();
        await Parallel.ForEachAsync(blocks, new ParallelOptions { MaxDegreeOfParallelism = BareParallelism }, async (block, ct) =>
        {
            var lines = new StringBuilder();
            foreach (var e in block) lines.Append(JsonSerializer.Serialize(e)).Append('\n');
            using var content = new MemoryStream(Encoding.UTF8.GetBytes(lines.ToString()));
            await logs.GetAppendBlobClient(block.Key).AppendBlockAsync(content, cancellationToken: ct);
        });
        loggedWatch.Stop();
        var loggedStorage = (storageCpu?.Seconds ?? 0) - loggedStorage0;
        var loggedRate = entities.Count / loggedWatch.Elapsed.TotalSeconds;
        Console.WriteLine($"bare id index + per-day fact logs: {entities.Count,8} events in {loggedWatch.Elapsed.TotalSeconds,7:0.00} s = {loggedRate,9:0} events/s ({blocks.Count} blocks), Azurite CPU {loggedStorage:0.0} s " +
                          $"(the ceiling of a design whose only per-event table write is the id index: {loggedRate / bareRate:0.00} of the bare loop's first run)");

        // 2. The app, in its own process, through POST /api/events.
        const string key = "bench-writer";
        (azurite, account, storageCpu) = await FreshStorageAsync(azurite);
        double appSeconds;
        await using (var lastAzurite = azurite)
        await using (var app = await AppProcess.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CrmMetrics__Keys__bench"] = "writer:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))),
            ["Logging__LogLevel__Default"] = "Warning",
        }))
        {
            var idleBytes = app.WorkingSet;
            var appCpu = ProcessCpu.ServingPort(app.BaseAddress.Port);
            var workerCpu = appCpu is null ? null : ProcessCpu.WorkerOf(appCpu.ProcessId);
            using var client = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
            client.DefaultRequestHeaders.Add("x-api-key", key);
            var bodies = events.Chunk(RequestSize).Select(chunk => string.Join("\n", chunk.Select(e => e.ToJsonString()))).ToList();

            // A warm-up request of other customers in another month, as the bare side warmed up its SDK:
            // the worker's first requests pay for JIT, which a throughput figure should not count.
            var warmup = SyntheticCrm.Generate(new SyntheticCrmOptions
            {
                Customers = 300, From = new DateOnly(2026, 5, 1), To = new DateOnly(2026, 5, 31), DuplicateShare = 0, LateShare = 0, Seed = 8, IdPrefix = "warmup-",
            }).Take(RequestSize);
            await PostAsync(client, string.Join("\n", warmup.Select(e => e.ToJsonString())), default);

            // After its warm-up the runtime keeps recompiling hot code in the background for several
            // seconds (tiered compilation; 1.5 s of worker CPU in the first 10 s when measured). Both
            // sides start timing once their processes are quiet.
            var settled = await ProcessCpu.WaitUntilQuietAsync([appCpu, workerCpu], TimeSpan.FromSeconds(60));
            Console.WriteLine($"app quiet {settled.TotalSeconds:0} s after its warm-up");
            var appStorage0 = storageCpu?.Seconds ?? 0;
            var appOwn0 = appCpu?.Seconds ?? 0;
            var worker0 = workerCpu?.Seconds ?? 0;
            var appends0 = await DayLogAppendsAsync(account);
            var accepted = 0;
            var appWatch = Stopwatch.StartNew();
            await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = ConcurrentRequests }, async (body, ct) =>
            {
                Interlocked.Add(ref accepted, await PostAsync(client, body, ct));
            });
            appWatch.Stop();
            var appStorage = (storageCpu?.Seconds ?? 0) - appStorage0;
            var appOwn = (appCpu?.Seconds ?? 0) - appOwn0;
            var workerOwn = (workerCpu?.Seconds ?? 0) - worker0;
            if (accepted != entities.Count)
            {
                Console.WriteLine($"the sides disagree: the app accepted {accepted} events, the bare loop wrote {entities.Count} entities");
                return 1;
            }
            Console.WriteLine($"ingestion path:  {events.Count,8} events   in {appWatch.Elapsed.TotalSeconds,7:0.00} s = {events.Count / appWatch.Elapsed.TotalSeconds,9:0} events/s ({accepted} accepted, {bodies.Count} requests), Azurite CPU {appStorage:0.0} s, CPU host {appOwn:0.0} s + worker {workerOwn:0.0} s, " +
                              $"app peak working set {PeakMemory.MiB(app.PeakWorkingSet)} MiB (idle {PeakMemory.MiB(idleBytes)} MiB, after {PeakMemory.MiB(app.WorkingSet)} MiB)");
            // Counted once the clock stopped: appends the requests made to the day logs, against one per request and UTC day they touched.
            var perRequestAndDay = events.Chunk(RequestSize).Sum(chunk => chunk.Select(e => DateOnly.FromDateTime(DateTimeOffset.Parse(e["time"]!.GetValue<string>()).UtcDateTime)).Distinct().Count());
            Console.WriteLine($"day-log appends of the ingestion path: {await DayLogAppendsAsync(account) - appends0} (one per request and UTC day it touches: {perRequestAndDay}; requests share an append only when they write to the same day at the same time)");
            appSeconds = appWatch.Elapsed.TotalSeconds;
        }

        var secondBare = await BareAsync("again, after the app");
        bareRate = 2.0 * entities.Count / (bareSeconds + secondBare);
        var appRate = events.Count / appSeconds;
        Console.WriteLine($"bare loop, both runs: {bareRate:0} entities/s; ingestion: {appRate:0} events/s");
        Console.WriteLine($"ratio ingestion/bare: {appRate / bareRate:0.00} (aim >= 0.70)");
        return 0;
    }

    /// <summary>The appends all day logs hold (each segment's committed block count).</summary>
    private static async Task<long> DayLogAppendsAsync(StorageAccount account)
    {
        var container = account.Container(StorageNames.Containers.FactLogs);
        if (!await container.ExistsAsync()) return 0;
        long appends = 0;
        await foreach (var blob in container.GetBlobsAsync())
        {
            appends += (await container.GetBlobClient(blob.Name).GetPropertiesAsync()).Value.BlobCommittedBlockCount;
        }
        return appends;
    }
}
