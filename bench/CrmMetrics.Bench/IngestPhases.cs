using System.Diagnostics;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Ingestion;

namespace CrmMetrics.Bench;

/// <summary>
/// Where ingestion's CPU goes: the events of <c>ingest</c>, validated beforehand, sent through each
/// step of the store in this process (requests of 5,000, 4 at a time, as the ingest benchmark
/// sends them), one step at a time into one Azurite (each step writes tables of its own); then the
/// whole path without HTTP, into a fresh Azurite. Prints the CPU seconds Azurite and this process spent on each. A diagnostic, not an aim.
/// Arguments: [events (50000)].
/// </summary>
public static class IngestPhases
{
    private const int RequestSize = 5000;
    private const int ConcurrentRequests = 4;

    public static async Task<int> RunAsync(string[] args)
    {
        var total = args.Length > 0 ? int.Parse(args[0]) : 50_000;
        BenchEnvironment.PrintMachine();
        var events = IngestBenchmark.Events(total);
        var own = new ProcessCpu(Environment.ProcessId);

        await using (var app = await BenchApp.StartAsync())
        {
            var validation0 = own.Seconds;
            var facts = app.Facts(events);
            Console.WriteLine($"validation of {facts.Count} events (from JSON text): this process {own.Seconds - validation0:0.0} s CPU");
            var requests = facts.Chunk(RequestSize).ToList();
            var account = app.Get<StorageAccount>();
            var calendar = app.Get<CrmMetricsSettings>().Calendar;
            var today = DateOnly.FromDateTime(DateTime.UtcNow);
            var dirty = new DirtyDayStore(account);
            var storage = ProcessCpu.Azurite(app.Azurite.TablePort);

            async Task StepAsync(string name, Func<Fact[], Task> step)
            {
                var (storage0, own0) = (storage?.Seconds ?? 0, own.Seconds);
                var watch = Stopwatch.StartNew();
                using var counter = new StorageRequests();
                await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = ConcurrentRequests }, async (request, _) => await step(request));
                var counts = counter.Stop();
                Console.WriteLine($"{name,-40} {watch.Elapsed.TotalSeconds,6:0.00} s wall, Azurite CPU {(storage?.Seconds ?? 0) - storage0,5:0.0} s, this process CPU {own.Seconds - own0,5:0.0} s; " +
                                  $"requests per request: {StorageRequests.Total(counts) / (double)requests.Count:0.0}, " + string.Join(", ", counts.Select(c => $"{c.Count / (double)requests.Count:0.0} {c.Request}")));
            }

            await StepAsync("dirty marks", r => dirty.MarkAsync(r.Select(f => calendar.LocalDateOf(f.Time)).ToHashSet(), default));
            await StepAsync("facts (id claims, day logs, commit)", r => new FactStore(account).InsertAsync(r, default));
            var customers = new CustomerStore(account);
            await StepAsync("customer timelines and their feed", r => customers.ApplyAsync(r.Where(f => f.Type.IsLifecycle()).ToList(), calendar.LocalDateOf, today, d => dirty.MarkAsync(d, default), default));
            var complaints = new ComplaintStore(account);
            await StepAsync("complaint cases and their feed", r => complaints.ApplyAsync(r.Where(f => f.Type.IsComplaint()).ToList(), calendar.LocalDateOf, d => dirty.MarkAsync(d, default), default));
        }

        await using (var app = await BenchApp.StartAsync())
        {
            var facts = app.Facts(events);
            var ingestion = app.Get<FactIngestion>();
            var storage = ProcessCpu.Azurite(app.Azurite.TablePort);
            var (storage0, own0) = (storage?.Seconds ?? 0, own.Seconds);
            var gc = GcActivity.Start();
            using var failures = new FailedTransactions();
            var watch = Stopwatch.StartNew();
            await StoreAllAsync(ingestion, facts.Chunk(RequestSize));
            Console.WriteLine($"{"the whole store path, no HTTP (fresh)",-40} {watch.Elapsed.TotalSeconds,6:0.00} s wall, Azurite CPU {(storage?.Seconds ?? 0) - storage0,5:0.0} s, this process CPU {own.Seconds - own0,5:0.0} s; " +
                              $"entity-group transactions that failed (409/412): {failures.Count}; {gc.Describe(facts.Count, "event")}");
        }

        // The same path once more into a fresh Azurite, untimed, counting its storage requests.
        await using (var app = await BenchApp.StartAsync())
        {
            var requests = app.Facts(events).Chunk(RequestSize).ToList();
            var ingestion = app.Get<FactIngestion>();
            using var counter = new StorageRequests();
            await StoreAllAsync(ingestion, requests);
            var counts = counter.Stop();
            Console.WriteLine($"storage requests per ingestion request of {RequestSize} events (an untimed pass): {StorageRequests.Total(counts) / (double)requests.Count:0.0}, " +
                              string.Join(", ", counts.Select(c => $"{c.Count / (double)requests.Count:0.0} {c.Request}")));
        }
        return 0;
    }

    /// <summary>The whole store path for each request, as many at a time as the ingest benchmark sends.</summary>
    private static Task StoreAllAsync(FactIngestion ingestion, IEnumerable<Fact[]> requests) =>
        Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = ConcurrentRequests }, async (request, ct) => await ingestion.StoreAsync(request, ct));
}
