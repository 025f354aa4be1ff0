using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using CrmMetrics.LocalHost.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CrmMetrics.Bench;

/// <summary>
/// What the local Functions host costs, in one run: its cold start (host process start → first
/// request served by the worker), HTTP requests through the host (routing, invocation, proxy to the
/// worker) against a bare ASP.NET Core server answering the same bytes, and queue invocations per
/// second against a bare Azure.Storage.Queues loop doing the same work per message.
/// </summary>
public static class HostBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var requests = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
        var messages = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000;
        const int concurrency = 64;
        BenchEnvironment.PrintMachine();

        await using var azurite = await AzuriteServer.StartAsync(dataFolder: null);
        const string key = "bench-reader";
        var watch = Stopwatch.StartNew();
        await using var app = await AppProcess.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CrmMetrics__Keys__bench"] = "admin:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))),
            ["KpiSchedule"] = "0 0 0 1 1 *",
            ["AlertDigestSchedule"] = "0 0 0 1 1 *",
        });
        var coldStart = watch.Elapsed;
        Console.WriteLine($"cold start: host process start to first request served by the worker: {coldStart.TotalMilliseconds:0} ms " +
                          $"(peak working set host+worker {app.PeakWorkingSet / 1048576.0:0} MiB)");

        // HTTP: the catalog (no storage behind it) through the host, and the same bytes from a bare server.
        using var client = new HttpClient { BaseAddress = app.BaseAddress };
        client.DefaultRequestHeaders.Add("x-api-key", key);
        const string route = "/api/indicators";
        var body = await client.GetByteArrayAsync(route);
        var bare = WebApplication.CreateSlimBuilder();
        bare.Logging.ClearProviders();
        bare.WebHost.UseUrls("http://127.0.0.1:0");
        var bareApp = bare.Build();
        bareApp.MapGet(route, () => Results.Bytes(body, "application/json; charset=utf-8"));
        await bareApp.StartAsync();
        using var bareClient = new HttpClient { BaseAddress = new Uri(bareApp.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        bareClient.DefaultRequestHeaders.Add("x-api-key", key);

        await GetMany(client, route, 500, concurrency);
        await GetMany(bareClient, route, 500, concurrency);
        var (hostRps, hostP50, hostP99) = await GetMany(client, route, requests, concurrency);
        var (bareRps, bareP50, bareP99) = await GetMany(bareClient, route, requests, concurrency);
        await bareApp.StopAsync();
        Console.WriteLine($"HTTP {route} ({body.Length / 1024.0:0.0} KiB), {requests} requests at {concurrency} concurrent:");
        Console.WriteLine($"  through the local host and the worker: {hostRps,8:0} requests/s, p50 {hostP50,6:0.0} ms, p99 {hostP99,6:0.0} ms");
        Console.WriteLine($"  bare ASP.NET Core server, same bytes:  {bareRps,8:0} requests/s, p50 {bareP50,6:0.0} ms, p99 {bareP99,6:0.0} ms");

        // Queues: StartRun on runs that do not exist (one table read, then done) against a bare loop that
        // receives, does the same read and deletes, with the same batch size.
        var queue = new QueueClient(azurite.ConnectionString, "kpi-runs", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateIfNotExistsAsync();
        var hostQueue = await DrainAsync(queue, messages, "host-", async () =>
        {
            while ((await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount > 0) await Task.Delay(20);
        });
        var bareQueue = new QueueClient(azurite.ConnectionString, "bench-bare-runs", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await bareQueue.CreateIfNotExistsAsync();
        var runs = new TableClient(azurite.ConnectionString, "Runs");
        var bareRate = await DrainAsync(bareQueue, messages, "bare-", async () =>
        {
            var left = messages;
            while (left > 0)
            {
                var batch = (await bareQueue.ReceiveMessagesAsync(16, TimeSpan.FromMinutes(1))).Value;
                await Task.WhenAll(batch.Select(async m =>
                {
                    await runs.GetEntityIfExistsAsync<TableEntity>("run", m.MessageId);
                    await bareQueue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                }));
                left -= batch.Length;
            }
        });
        Console.WriteLine($"queue invocations ({messages} messages, StartRun on an unknown run: one table read each):");
        Console.WriteLine($"  local host queue trigger and worker: {hostQueue,8:0} messages/s");
        Console.WriteLine($"  bare receive/read/delete loop:       {bareRate,8:0} messages/s");
        Console.WriteLine($"peak working set host+worker {app.PeakWorkingSet / 1048576.0:0} MiB (worker {app.WorkerPeakWorkingSet / 1048576.0:0} MiB)");
        Console.WriteLine($"ratio queue host/bare: {hostQueue / bareRate:0.00} (aim: none set; reported)");
        Console.WriteLine($"ratio http host/bare: {hostRps / bareRps:0.00} (aim: none set; reported), cold start {coldStart.TotalSeconds:0.0} s");
        return 0;
    }

    private static async Task<(double Rps, double P50, double P99)> GetMany(HttpClient client, string route, int count, int concurrency)
    {
        var latencies = new double[count];
        var next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var start = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync(route);
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }));
        var elapsed = watch.Elapsed;
        Array.Sort(latencies);
        return (count / elapsed.TotalSeconds, latencies[count / 2], latencies[(int)(count * 0.99)]);
    }

    /// <summary>Enqueues the messages, then times <paramref name="drain"/> until all are processed.</summary>
    private static async Task<double> DrainAsync(QueueClient queue, int count, string prefix, Func<Task> drain)
    {
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (i, ct) => await queue.SendMessageAsync($"{{\"runId\":\"{prefix}{i}\"}}", ct));
        var watch = Stopwatch.StartNew();
        await drain();
        return count / watch.Elapsed.TotalSeconds;
    }
}
