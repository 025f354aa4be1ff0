using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using CrmMetrics.LocalHost.Storage;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Runs;

namespace CrmMetrics.Bench;

/// <summary>
/// Faults while the app works: concurrent ingestion (each batch resent until acknowledged, as a CRM
/// connector would), BI reads at 64 connections and scheduled runs, for a fixed number of ingestion
/// requests, while storage is cut off twice for 10 seconds and the app (host and worker) is killed
/// once and started again. Prints what was served, errors by status inside and outside the fault
/// windows, read latencies, facts acknowledged against facts counted, and how the runs ended.
/// </summary>
public static class ChaosBenchmark
{
    private const string Month = "2026-09";
    private const int BatchSize = 100;

    private sealed record Outcome(string Kind, DateTimeOffset At, int Status, double Milliseconds);

    public static async Task<int> RunAsync(string[] args)
    {
        var batches = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 300;
        var readers = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
        BenchEnvironment.PrintMachine();
        Console.WriteLine($"chaos: {batches} ingestion requests of {BatchSize} orders (4 writers), {readers} reader connections, KpiSchedule every 15 s;");
        Console.WriteLine("       storage cut off for 10 s at 10 s and at 55 s, the app killed at 35 s and started again");

        var data = Directory.CreateTempSubdirectory("crm-chaos-");
        var ports = AzuriteServer.FreePorts();
        var azurite = await AzuriteServer.StartAsync(data.FullName, ports: ports);
        var keys = new Dictionary<string, string> { ["writer"] = "chaos-writer", ["reader"] = "chaos-reader", ["admin"] = "chaos-admin" };
        var environment = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["KpiSchedule"] = "*/15 * * * * *",
            ["AlertDigestSchedule"] = "0 0 0 1 1 *",
            ["CrmMetrics__Grains"] = "month",
        };
        foreach (var (role, key) in keys) environment[$"CrmMetrics__Keys__chaos-{role}"] = $"{role}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))}";
        // A host that dies leaves its messages hidden for this long: short, so the run after the kill goes on soon.
        string[] hostArgs = ["--queue-lease", "00:00:30"];
        // The app's log (both instances), to read what happened after a run that did not end well.
        var logPath = Path.Combine(Path.GetTempPath(), $"crm-chaos-app-{DateTime.UtcNow:yyyyMMdd'T'HHmmss}.log");
        await using var appLog = TextWriter.Synchronized(new StreamWriter(logPath) { AutoFlush = true });
        void Log(string line) => appLog.WriteLine(line);
        var app = await AppProcess.StartAsync(environment, Log, hostArgs);
        var started = DateTimeOffset.UtcNow;
        var faults = new ConcurrentBag<(string What, DateTimeOffset From, DateTimeOffset To)>();
        var outcomes = new ConcurrentQueue<Outcome>();
        var acknowledged = new ConcurrentDictionary<string, bool>();
        // One client per app instance and role: the app that was killed is left behind with its clients.
        var clients = new ConcurrentDictionary<(Uri, string), HttpClient>();
        HttpClient Client(string role) => clients.GetOrAdd((Volatile.Read(ref app).BaseAddress, role), k =>
        {
            var client = new HttpClient { BaseAddress = k.Item1, Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Add("x-api-key", keys[k.Item2]);
            return client;
        });

        using var loadDone = new CancellationTokenSource();
        // The faults, on a timeline.
        var chaos = Task.Run(async () =>
        {
            void Say(string what) => Console.WriteLine($"  {(DateTimeOffset.UtcNow - started).TotalSeconds,5:0.0} s  {what}");
            async Task CutStorage(TimeSpan at)
            {
                await Delay(started + at);
                var from = DateTimeOffset.UtcNow;
                Say("storage cut off");
                await azurite.DisposeAsync();
                await Task.Delay(TimeSpan.FromSeconds(10));
                azurite = await AzuriteServer.StartAsync(data.FullName, ports: ports);
                Say("storage back");
                await WaitHealthyAsync(Volatile.Read(ref app).BaseAddress);
                Say("app healthy again");
                faults.Add(("storage cut off", from, DateTimeOffset.UtcNow));
            }
            await CutStorage(TimeSpan.FromSeconds(10));
            await Delay(started + TimeSpan.FromSeconds(35));
            var killed = DateTimeOffset.UtcNow;
            Say("app killed");
            Volatile.Read(ref app).Kill();
            Log("---- the app was killed here and is started again ----");
            var restarted = await AppProcess.StartAsync(environment, Log, hostArgs);
            Say("app started again and healthy");
            await Volatile.Read(ref app).DisposeAsync();
            Volatile.Write(ref app, restarted);
            faults.Add(("app killed", killed, DateTimeOffset.UtcNow));
            await CutStorage(TimeSpan.FromSeconds(55));
        });

        // Writers: each batch is resent until it is acknowledged (the ids make a resend harmless).
        var next = -1;
        var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            int batch;
            while ((batch = Interlocked.Increment(ref next)) < batches)
            {
                var events = Enumerable.Range(0, BatchSize).Select(i => Order($"chaos-{batch}-{i}", batch * BatchSize + i)).ToList();
                var body = string.Join("\n", events.Select(e => e.ToJsonString()));
                for (var attempt = 0; ; attempt++)
                {
                    var status = await SendAsync(Client("writer"), HttpMethod.Post, "/api/events", body, outcomes, "ingest");
                    if (status == 202)
                    {
                        foreach (var e in events) acknowledged[e["id"]!.GetValue<string>()] = true;
                        break;
                    }
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 200 * (attempt + 1))));
                }
            }
        })).ToList();
        var reads = Enumerable.Range(0, readers).Select(_ => Task.Run(async () =>
        {
            while (!loadDone.IsCancellationRequested)
            {
                await SendAsync(Client("reader"), HttpMethod.Get, $"/api/snapshots?grain=month&period={Month}&scope=org", null, outcomes, "read");
            }
        })).ToList();
        // A fault step that fails (storage not coming back, the app not starting again) would leave the
        // writers resending for ever: it ends the benchmark with its error instead.
        var writing = Task.WhenAll(writers);
        while (!writing.IsCompleted)
        {
            if (chaos.IsFaulted) await chaos;
            if (DateTimeOffset.UtcNow - started > TimeSpan.FromMinutes(15))
                throw new TimeoutException($"ingestion did not finish in 15 minutes ({Volatile.Read(ref next)} of {batches} batches begun)");
            await Task.WhenAny(writing, chaos, Task.Delay(TimeSpan.FromSeconds(1)));
        }
        await writing;
        await loadDone.CancelAsync();
        await Task.WhenAll(reads);
        await chaos;
        var loadSeconds = (DateTimeOffset.UtcNow - started).TotalSeconds;

        // Afterwards: one more run counts what was acknowledged; every run must have ended well.
        var admin = Client("admin");
        var run = (await (await admin.PostAsJsonAsync("/api/runs", new { grain = "month", period = Month })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString();
        var account = StorageAccount.FromConnectionString(azurite.ConnectionString);
        var runStore = new RunStore(account);
        var watch = Stopwatch.StartNew();
        List<RunRecord> runs;
        while (true)
        {
            runs = [];
            await foreach (var e in account.Table(StorageNames.Tables.Runs).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {"run"}"), select: ["PartitionKey"]))
                if (await runStore.GetAsync(StorageKeys.Decode(e.PartitionKey), default) is { } r) runs.Add(r);
            if (runs.All(r => r.State is "succeeded" or "failed") && runs.Any(r => r.RunId == run) || watch.Elapsed > TimeSpan.FromMinutes(6)) break;
            await Task.Delay(1000);
        }
        var counted = (await admin.GetFromJsonAsync<JsonElement>($"/api/snapshots?grain=month&period={Month}&scope=org&indicator=com.orders")).GetProperty("items")
            .EnumerateArray().Select(r => r.GetProperty("value").GetDouble()).SingleOrDefault();

        // The report.
        // A request is in a fault window when it was in flight at any moment of it (one sent just
        // before the cut is cut off too), or started within 2 s after it ended.
        bool InFault(Outcome o) => faults.Any(f => o.At <= f.To.AddSeconds(2) && o.At.AddMilliseconds(o.Milliseconds) >= f.From);
        var all = outcomes.ToList();
        Console.WriteLine($"load ran {loadSeconds:0} s; faults: {string.Join("; ", faults.OrderBy(f => f.From).Select(f => $"{f.What} {(f.From - started).TotalSeconds:0}–{(f.To - started).TotalSeconds:0} s"))}");
        foreach (var kind in new[] { "ingest", "read" })
        {
            var mine = all.Where(o => o.Kind == kind).ToList();
            var served = mine.Count(o => o.Status is >= 200 and < 400);
            string Statuses(IEnumerable<Outcome> set) => string.Join(", ", set.GroupBy(o => o.Status).OrderBy(g => g.Key).Select(g => $"{(g.Key == 0 ? "no answer" : g.Key.ToString(CultureInfo.InvariantCulture))} ×{g.Count()}"));
            Console.WriteLine($"{kind}: {mine.Count} requests, {served} served; during faults: {Statuses(mine.Where(o => InFault(o)))}; outside: {Statuses(mine.Where(o => !InFault(o)))}");
        }
        static double P(List<double> sorted, double q) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
        var readsOk = all.Where(o => o.Kind == "read" && o.Status is 200 or 304).ToList();
        var inside = readsOk.Where(o => InFault(o)).Select(o => o.Milliseconds).Order().ToList();
        var outside = readsOk.Where(o => !InFault(o)).Select(o => o.Milliseconds).Order().ToList();
        Console.WriteLine($"read latency outside faults p50 {P(outside, 0.5):0.0} ms, p99 {P(outside, 0.99):0.0} ms; during faults p50 {P(inside, 0.5):0.0} ms, p99 {P(inside, 0.99):0.0} ms");
        var fiveHundreds = all.Count(o => o.Status >= 500 && !InFault(o));
        Console.WriteLine($"5xx outside the fault windows: {fiveHundreds}");
        Console.WriteLine($"facts acknowledged {acknowledged.Count}, counted {counted:0} (com.orders of {Month})");
        Console.WriteLine($"runs: {runs.Count} ({string.Join(", ", runs.GroupBy(r => r.State).Select(g => $"{g.Key} {g.Count()}"))})");
        foreach (var failed in runs.Where(r => r.State != "succeeded")) Console.WriteLine($"  {failed.RunId} {failed.State}: {string.Join("; ", failed.Errors)}");
        Console.WriteLine($"app log: {logPath}");
        Console.WriteLine($"peak working set host+worker {Volatile.Read(ref app).PeakWorkingSet / 1048576.0:0} MiB (the second app)");
        Console.WriteLine($"ratio counted/acknowledged: {counted / Math.Max(1, acknowledged.Count):0.000} (aim 1.000, with 0 5xx outside faults and every run succeeded: " +
                          $"{(fiveHundreds == 0 && runs.All(r => r.State == "succeeded") ? "yes" : "no")})");

        foreach (var client in clients.Values) client.Dispose();
        await Volatile.Read(ref app).DisposeAsync();
        await azurite.DisposeAsync();
        try { data.Delete(recursive: true); } catch (IOException) { }
        return 0;
    }

    private static JsonObject Order(string id, int n) => new()
    {
        ["id"] = id, ["type"] = "order", ["time"] = new DateTimeOffset(2026, 9, 1 + n % 30, 8 + n % 10, n % 60, 0, TimeSpan.Zero).ToString("O", CultureInfo.InvariantCulture),
        ["customerId"] = $"C-{n % 500}", ["data"] = new JsonObject { ["amount"] = 10 + n % 90, ["currency"] = "EUR" },
    };

    private static async Task<int> SendAsync(HttpClient client, HttpMethod method, string path, string? ndjson, ConcurrentQueue<Outcome> outcomes, string kind)
    {
        var at = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        var status = 0;
        try
        {
            using var request = new HttpRequestMessage(method, path);
            if (ndjson is not null) request.Content = new StringContent(ndjson, Encoding.UTF8, "application/x-ndjson");
            using var response = await client.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            status = (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // No answer (the app was down): status 0.
        }
        outcomes.Enqueue(new Outcome(kind, at, status, watch.Elapsed.TotalMilliseconds));
        if (status == 0) await Task.Delay(100);
        return status;
    }

    private static async Task Delay(DateTimeOffset until)
    {
        var wait = until - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
    }

    private static async Task WaitHealthyAsync(Uri app)
    {
        using var client = new HttpClient { BaseAddress = app, Timeout = TimeSpan.FromSeconds(10) };
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromMinutes(3))
        {
            try { if ((await client.GetAsync("/api/health")).StatusCode == HttpStatusCode.OK) return; }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(250);
        }
    }
}
