using System.Diagnostics;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Samples;
using CrmMetrics.Storage.Facts;

namespace CrmMetrics.Bench;

/// <summary>
/// The map step against a bare read of the same days: how much computing costs beside reading.
/// Both read every day of a month from the same Azurite, as many days at a time as the queue
/// trigger hands one instance (host.json batchSize, 16); the bare read only counts the facts the
/// store returns for each day (its day logs decoded into columns, each id once: the very scan the map
/// step makes). A second bare read decodes the same days into <c>Fact</c> objects, the store's other
/// way to read them and the bare read of the benchmark before 3 December 2026; it is printed for
/// comparison and not in the ratio. A third side reads as the bare read does
/// and uploads each day's partial as the map step wrote it: the ceiling of any map step that writes
/// one result per day. A fourth side is the map step's computing alone (<see cref="DayAggregation.ComputeAsync"/>
/// and the partial's encoding, no bookkeeping and no upload), so the figures split what the map step
/// adds to the read into computing and storage requests. A fifth side reads as the bare read does and
/// writes each day's partial as a table row instead, the rows of the days in flight sharing
/// entity-group transactions: the ceiling of a map step whose results need not be one blob request
/// each. Prints the storage requests of a pass of each side, by kind. Each side runs
/// untimed first (JIT, <see cref="WarmUpRounds"/> rounds), and every map pass starts with the month's days marked dirty, as
/// ingestion leaves them.
/// Arguments: [facts (200000)] [days at a time (16)].
/// </summary>
public static class AggregateBenchmark
{
    /// <summary>Timed passes of each side, taking turns: a pass at 60000 lasts 30–300 ms, so a few passes' sum is mostly one outlier.</summary>
    private const int Rounds = 15;

    /// <summary>
    /// Untimed rounds of every side before the timed ones. One pass leaves much of the map step's code
    /// at its first JIT tier: methods move up after 30 calls, compiled in the background while later
    /// passes run (in a throwaway loop the computing alone took 0.38 of the bare read after one
    /// warm-up pass and 0.68 after ten more rounds).
    /// </summary>
    private const int WarmUpRounds = 3;

    public static async Task<int> RunAsync(string[] args)
    {
        var target = args.Length > 0 ? int.Parse(args[0]) : 200_000;
        var concurrency = args.Length > 1 ? int.Parse(args[1]) : 16;
        BenchEnvironment.PrintMachine();
        await using var app = await BenchApp.StartAsync();
        var events = SyntheticCrm.Generate(new SyntheticCrmOptions
        {
            From = new DateOnly(2026, 9, 1), To = new DateOnly(2026, 9, 30), Customers = Math.Max(200, target / 6), ExistingShare = 0.8,
            DuplicateShare = 0, LateShare = 0, CompetitorObservations = false, Seed = 17,
        });
        var facts = app.Facts(events);
        var load = Stopwatch.StartNew();
        await app.IngestAsync(facts);
        Console.WriteLine($"setup: {facts.Count} facts ingested in {load.Elapsed.TotalSeconds:0.0} s");

        var calendar = app.Get<CrmMetricsSettings>().Calendar;
        var days = calendar.Parse("2026-09", Grain.Month).Days.ToList();
        var store = app.Get<FactStore>();
        var aggregation = app.Get<DayAggregation>();
        await app.Get<CustomerDirectory>().RefreshAsync(default);

        var memory = new PeakMemory();
        GC.Collect();
        var (bare, map, readWrite, computing) = (new SideCpu(), new SideCpu(), new SideCpu(), new SideCpu());
        var storageCpu = ProcessCpu.Azurite(app.Azurite.TablePort);
        var ownCpu = new ProcessCpu(Environment.ProcessId);

        // One pass of a side over the month, as many days at a time as the queue trigger hands an
        // instance; the side's CPU and peak working set are added up. Returns the facts the days gave.
        async Task<(long Facts, double Seconds)> PassAsync(SideCpu side, Func<DateOnly, CancellationToken, Task<long>> dayAsync)
        {
            memory.Reset();
            var (storage0, own0) = (storageCpu?.Seconds ?? 0, ownCpu.Seconds);
            var watch = Stopwatch.StartNew();
            long n = 0;
            await Parallel.ForEachAsync(days, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (day, ct) =>
                Interlocked.Add(ref n, await dayAsync(day, ct)));
            side.Peak = Math.Max(side.Peak, memory.Peak);
            side.Storage += (storageCpu?.Seconds ?? 0) - storage0;
            side.Own += ownCpu.Seconds - own0;
            return (n, watch.Elapsed.TotalSeconds);
        }

        // The bare read, and (thenWrite) the read plus a result per day: both read the same way, as
        // columns (asFacts: as Fact objects instead).
        Task<(long Facts, double Seconds)> ReadDaysAsync(SideCpu side, Func<DateOnly, CancellationToken, Task>? thenWrite, bool asFacts = false) =>
            PassAsync(side, async (day, ct) =>
            {
                long rows = 0;
                if (asFacts)
                {
                    await foreach (var _ in store.ScanDayFactsAsync(day, calendar, ct)) rows++;
                }
                else
                {
                    await foreach (var page in store.ScanDayAsync(day, calendar, new CrmMetrics.Domain.Facts.FactLabels(), ct)) rows += page.Count;
                }
                if (thenWrite is not null) await thenWrite(day, ct);
                return rows;
            });

        Task<(long Facts, double Seconds)> BareAsync() => ReadDaysAsync(bare, null);
        var bareFacts = new SideCpu();
        Task<(long Facts, double Seconds)> BareFactsAsync() => ReadDaysAsync(bareFacts, null, asFacts: true);

        // Each map pass starts as ingestion leaves the days: every one marked dirty (untimed), so the
        // pass reads and clears the marks.
        var dirtyDays = app.Get<DirtyDayStore>();
        async Task<(long Facts, double Seconds)> MapAsync(bool markFirst = true)
        {
            if (markFirst) await dirtyDays.MarkAsync(days, default);
            return await PassAsync(map, async (day, ct) => (await aggregation.AggregateAsync(day, ct)).FactCount);
        }

        // The map step's computing alone: each day read and folded into its partial with the directory
        // as refreshed above, and the partial encoded as its blob holds it; nothing written, no mark read.
        Task<(long Facts, double Seconds)> ComputeAsync() => PassAsync(computing, async (day, ct) =>
        {
            var result = await aggregation.ComputeAsync(day, ct);
            _ = CrmMetrics.Storage.Aggregates.PartialStore.Encode(result.Partial);
            return result.Partial.FactCount;
        });

        // Untimed rounds of each side first: early passes pay for JIT (the map step's code is far
        // larger than the bare read's), which a throughput figure should not count (as in `ingest`).
        // The map step's first pass goes first: it writes the partials the third side uploads.
        var warmMap = await MapAsync();

        // The least any map step does: read the day and write its result, one blob per day (the
        // partials the map step wrote, byte for byte, to another container), no computing.
        var account = app.Get<CrmMetrics.Storage.Account.StorageAccount>();
        var partialBlobs = account.Container(CrmMetrics.Storage.Account.StorageNames.Containers.Partials);
        var results = new Dictionary<DateOnly, BinaryData>();
        foreach (var day in days)
        {
            var blob = partialBlobs.GetBlobClient($"days/{CrmMetrics.Storage.Account.StorageKeys.DayKey(day)}.bin.gz");
            results[day] = (await blob.DownloadContentAsync()).Value.Content;
        }
        var copies = account.Container("bench-partials");
        await copies.CreateIfNotExistsAsync();
        Task<(long Facts, double Seconds)> ReadWriteAsync() => ReadDaysAsync(readWrite, (day, ct) =>
            copies.GetBlobClient($"{day:yyyyMMdd}.bin.gz").UploadAsync(results[day], overwrite: true, ct));

        // The same partials as table rows, the rows of the days in flight written together.
        var rowTable = account.Tables.GetTableClient("BenchPartialRows");
        await rowTable.CreateIfNotExistsAsync();
        var rowWriter = new GroupedRowWriter(rowTable);
        var readRows = new SideCpu();
        Task<(long Facts, double Seconds)> ReadRowsAsync() => ReadDaysAsync(readRows, (day, _) => rowWriter.WriteAsync(GroupedRowWriter.Row("202609", $"{day:yyyyMMdd}", results[day])));

        // Then the sides take turns, round after round, so a drift of the machine weighs on all alike;
        // a pass lasts a fraction of a second at 60000, so one round alone would be mostly noise.
        var warmBare = await BareAsync();
        await BareFactsAsync();
        var warmWrite = await ReadWriteAsync();
        var warmCompute = await ComputeAsync();
        var warmRows = await ReadRowsAsync();
        for (var round = 1; round < WarmUpRounds; round++)
        {
            await BareAsync();
            await BareFactsAsync();
            await MapAsync();
            await ReadWriteAsync();
            await ComputeAsync();
            await ReadRowsAsync();
        }
        Console.WriteLine($"first warm-up passes ({WarmUpRounds} untimed rounds, not in the figures below): bare read {warmBare.Seconds:0.00} s, map step {warmMap.Seconds:0.00} s, read + result blob {warmWrite.Seconds:0.00} s, " +
                          $"computing alone {warmCompute.Seconds:0.00} s, read + grouped result rows {warmRows.Seconds:0.00} s");
        (bare, map, readWrite, bareFacts, computing, readRows) = (new SideCpu(), new SideCpu(), new SideCpu(), new SideCpu(), new SideCpu(), new SideCpu());
        var (bares, maps, writes) = (new List<(long Facts, double Seconds)>(), new List<(long Facts, double Seconds)>(), new List<(long Facts, double Seconds)>());
        var computes = new List<(long Facts, double Seconds)>();
        var rowPasses = new List<(long Facts, double Seconds)>();
        var bareFactPasses = new List<(long Facts, double Seconds)>();
        for (var round = 0; round < Rounds; round++)
        {
            bares.Add(await BareAsync());
            bareFactPasses.Add(await BareFactsAsync());
            maps.Add(await MapAsync());
            writes.Add(await ReadWriteAsync());
            computes.Add(await ComputeAsync());
            rowPasses.Add(await ReadRowsAsync());
        }
        var expected = bares[0].Facts;
        if (bares.Concat(maps).Concat(writes).Concat(bareFactPasses).Concat(computes).Concat(rowPasses).Any(p => p.Facts != expected))
        {
            Console.WriteLine($"the sides disagree: the bare reads returned {string.Join("/", bares.Select(b => b.Facts))} facts, " +
                              $"the map step aggregated {string.Join("/", maps.Select(m => m.Facts))}, the read + blob side read {string.Join("/", writes.Select(w => w.Facts))}, " +
                              $"the reads as Fact objects {string.Join("/", bareFactPasses.Select(b => b.Facts))}, the computing alone {string.Join("/", computes.Select(c => c.Facts))}, the read + grouped rows {string.Join("/", rowPasses.Select(r => r.Facts))}");
            return 1;
        }
        double Rate(List<(long Facts, double Seconds)> passes) => passes.Sum(p => p.Facts) / passes.Sum(p => p.Seconds);
        string Times(List<(long Facts, double Seconds)> passes) => string.Join(", ", passes.Select(p => $"{p.Seconds:0.00}"));
        var (bareRate, mapRate, writeRate) = (Rate(bares), Rate(maps), Rate(writes));
        Console.WriteLine($"bare day-log read (columns): {expected} facts a pass, {Rounds} passes in {Times(bares)} s = {bareRate:0} facts/s, peak working set {PeakMemory.MiB(bare.Peak)} MiB");
        Console.WriteLine($"bare day-log read as Fact objects (not in the ratio): {Rounds} passes in {Times(bareFactPasses)} s = {Rate(bareFactPasses):0} facts/s " +
                          $"(the columns read {bareRate / Rate(bareFactPasses):0.00}x as fast), CPU: Azurite {bareFacts.Storage:0.00} s, this process {bareFacts.Own:0.00} s, peak working set {PeakMemory.MiB(bareFacts.Peak)} MiB");
        Console.WriteLine($"map step (AggregateDay x {days.Count}): {Rounds} passes in {Times(maps)} s = {mapRate:0} facts/s, peak working set {PeakMemory.MiB(map.Peak)} MiB");
        Console.WriteLine($"bare read + one result blob per day: {Rounds} passes in {Times(writes)} s = {writeRate:0} facts/s " +
                          $"(partials of {results.Values.Average(r => r.ToMemory().Length) / 1024:0} KiB a day on average; the ceiling of any map step that writes a blob per day: {writeRate / bareRate:0.00} of the bare read)");
        var rowRate = Rate(rowPasses);
        Console.WriteLine($"bare read + the day's result as a table row, the rows of the days in flight in shared entity-group transactions: {Rounds} passes in {Times(rowPasses)} s = {rowRate:0} facts/s " +
                          $"(the ceiling of a map step whose results share requests: {rowRate / bareRate:0.00} of the bare read); CPU: Azurite {readRows.Storage:0.00} s against {readWrite.Storage:0.00} s with a blob a day, " +
                          $"this process {readRows.Own:0.00} s against {readWrite.Own:0.00} s; {rowWriter.Transactions} transactions for {rowWriter.Rows} rows in all; peak working set {PeakMemory.MiB(readRows.Peak)} MiB");
        var computeRate = Rate(computes);
        Console.WriteLine($"map step's computing alone (the same read, attribution, timelines and cases from the directory in memory, the partial encoded; no bookkeeping request, no upload): " +
                          $"{Rounds} passes in {Times(computes)} s = {computeRate:0} facts/s = {computeRate / bareRate:0.00} of the bare read; CPU: Azurite {computing.Storage:0.00} s, this process {computing.Own:0.00} s; peak working set {PeakMemory.MiB(computing.Peak)} MiB");
        // A pass's seconds at a side's rate over all its passes.
        double PassMs(double rate) => expected / rate * 1000;
        Console.WriteLine($"a pass of the map step beyond the bare read: computing {PassMs(computeRate) - PassMs(bareRate):0} ms, " +
                          $"then the bookkeeping requests and the upload {PassMs(mapRate) - PassMs(computeRate):0} ms (the bare read {PassMs(bareRate):0} ms)");
        Console.WriteLine("(peak working sets are of this process, which hosts the app's services and holds the generated facts)");
        Console.WriteLine($"CPU used, all timed passes: Azurite {bare.Storage:0.00} s for the bare reads and {map.Storage:0.00} s for the map steps; this process {bare.Own:0.00} s and {map.Own:0.00} s; read + result blob: Azurite {readWrite.Storage:0.00} s, this process {readWrite.Own:0.00} s " +
                          "(CPU time does not grow when other work on the machine makes the wall clock slow)");
        Console.WriteLine($"days aggregated {concurrency} at a time; directory refreshes that read the table: {app.Get<CustomerDirectory>().Reads}");
        await PrintRequestsAsync("bare read", async () => await BareAsync());
        await dirtyDays.MarkAsync(days, default);
        await PrintRequestsAsync("map step", async () => await MapAsync(markFirst: false));
        await PrintRequestsAsync("computing alone", async () => await ComputeAsync());
        await PrintRequestsAsync("read + grouped result rows", async () => await ReadRowsAsync());
        Console.WriteLine($"ratio map/bare: {mapRate / bareRate:0.00} (aim >= 0.80)");
        return 0;

        async Task PrintRequestsAsync(string side, Func<Task> run)
        {
            using var counter = new StorageRequests();
            await run();
            var counts = counter.Stop();
            Console.WriteLine($"storage requests of one {side} of {days.Count} days (an untimed pass): {StorageRequests.Total(counts)}, " +
                              string.Join(", ", counts.Select(c => $"{c.Count} {c.Request}")));
        }
    }

    /// <summary>
    /// Rows written as the days in flight hand them in: a row joins the next entity-group transaction
    /// (all rows share one partition), so while one transaction is under way the rows of the other
    /// days gather for the one after it.
    /// </summary>
    private sealed class GroupedRowWriter(Azure.Data.Tables.TableClient table)
    {
        // A binary property holds at most 64 KiB.
        private const int Slice = 60_000;
        private readonly Lock _lock = new();
        private List<(Azure.Data.Tables.TableEntity Row, TaskCompletionSource Done)> _pending = [];
        private bool _writing;

        public int Transactions;
        public int Rows;

        public static Azure.Data.Tables.TableEntity Row(string partition, string key, BinaryData content)
        {
            var bytes = content.ToArray();
            var row = new Azure.Data.Tables.TableEntity(partition, key);
            for (var (i, offset) = (0, 0); offset < bytes.Length; i++, offset += Slice) row[$"P{i}"] = bytes[offset..Math.Min(bytes.Length, offset + Slice)];
            return row;
        }

        public Task WriteAsync(Azure.Data.Tables.TableEntity row)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            bool start;
            lock (_lock)
            {
                _pending.Add((row, done));
                start = !_writing;
                _writing = true;
            }
            if (start) _ = Task.Run(WriteGroupsAsync);
            return done.Task;
        }

        private async Task WriteGroupsAsync()
        {
            while (true)
            {
                List<(Azure.Data.Tables.TableEntity Row, TaskCompletionSource Done)> group;
                lock (_lock)
                {
                    if (_pending.Count == 0)
                    {
                        _writing = false;
                        return;
                    }
                    (group, _pending) = (_pending, []);
                }
                foreach (var chunk in group.Chunk(100))
                {
                    try
                    {
                        await table.SubmitTransactionAsync(chunk.Select(r => new Azure.Data.Tables.TableTransactionAction(Azure.Data.Tables.TableTransactionActionType.UpsertReplace, r.Row)));
                        Interlocked.Increment(ref Transactions);
                        Interlocked.Add(ref Rows, chunk.Length);
                        foreach (var (_, done) in chunk) done.SetResult();
                    }
                    catch (Exception e)
                    {
                        foreach (var (_, done) in chunk) done.SetException(e);
                    }
                }
            }
        }
    }

    /// <summary>What one side of the benchmark used, summed over its runs.</summary>
    private sealed class SideCpu
    {
        public double Storage;
        public double Own;
        public long Peak;
    }
}
