using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CrmMetrics.Samples;
using CrmMetrics.LocalHost.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CrmMetrics.Bench;

/// <summary>
/// wrk against the latest-snapshots route (a period's rows, with key check, cache and ETag) and, in
/// the same run, against a bare minimal-API endpoint returning the same JSON from memory.
/// </summary>
public static class ReadsBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var connections = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 64;
        var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
        if (!File.Exists("/usr/bin/wrk"))
        {
            Console.Error.WriteLine("wrk is not installed: apt-get install -y wrk");
            return 2;
        }
        BenchEnvironment.PrintMachine();

        await using var azurite = await AzuriteServer.StartAsync(dataFolder: null);
        const string key = "bench-admin";
        await using var app = await AppProcess.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CrmMetrics__Keys__bench"] = "admin:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))),
            ["Logging__LogLevel__Default"] = "Warning",
            ["KpiSchedule"] = "0 0 0 1 1 *",
        });
        using var client = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Add("x-api-key", key);
        var events = SyntheticCrm.Generate(new SyntheticCrmOptions { From = new DateOnly(2026, 9, 1), To = new DateOnly(2026, 9, 30), Customers = 1500, Seed = 3 }).ToList();
        foreach (var chunk in events.Chunk(4000))
            (await client.PostAsync("/api/events", new StringContent(string.Join("\n", chunk.Select(e => e.ToJsonString())), Encoding.UTF8, "application/x-ndjson"))).EnsureSuccessStatusCode();
        var run = await (await client.PostAsJsonAsync("/api/runs", new { grain = "month", period = "2026-09" })).Content.ReadFromJsonAsync<JsonElement>();
        var runId = run.GetProperty("runId").GetString();
        var watch = Stopwatch.StartNew();
        while ((await client.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}")).GetProperty("state").GetString() != "succeeded")
        {
            if (watch.Elapsed > TimeSpan.FromMinutes(5)) throw new TimeoutException("the run did not finish");
            await Task.Delay(250);
        }

        const string route = "/api/snapshots?period=2026-09";
        var body = await client.GetByteArrayAsync(route);
        Console.WriteLine($"route {route}: {body.Length / 1024.0:0.0} KiB of JSON per response");

        // The bare endpoint: the same bytes from memory, nothing else.
        var bare = WebApplication.CreateSlimBuilder();
        bare.Logging.ClearProviders();
        bare.WebHost.UseUrls("http://127.0.0.1:0");
        var bareApp = bare.Build();
        bareApp.MapGet("/bare", () => Results.Bytes(body, "application/json; charset=utf-8"));
        await bareApp.StartAsync();
        var bareUrl = bareApp.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/bare";

        var (appRps, appP99) = Wrk(app.BaseAddress + route.TrimStart('/'), key, connections, seconds);
        var (bareRps, bareP99) = Wrk(bareUrl, null, connections, seconds);
        await bareApp.StopAsync();
        Console.WriteLine($"latest snapshots (key, cache, ETag): {appRps,9:0} requests/s, p99 {appP99,7:0.0} ms at {connections} connections");
        Console.WriteLine($"bare minimal API, same JSON:         {bareRps,9:0} requests/s, p99 {bareP99,7:0.0} ms at {connections} connections");
        Console.WriteLine($"ratio app/bare: {appRps / bareRps:0.00} (aim >= 0.50), app p99 {(appP99 < 25 ? "under" : "over")} 25 ms");
        return 0;
    }

    private static (double Rps, double P99) Wrk(string url, string? key, int connections, int seconds)
    {
        var info = new ProcessStartInfo("/usr/bin/wrk") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-t2", $"-c{connections}", $"-d{seconds}s", "--latency" }) info.ArgumentList.Add(a);
        if (key is not null)
        {
            info.ArgumentList.Add("-H");
            info.ArgumentList.Add("x-api-key: " + key);
        }
        info.ArgumentList.Add(url);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var rps = double.Parse(output.Split('\n').First(l => l.StartsWith("Requests/sec:", StringComparison.Ordinal)).Split(':')[1].Trim(), CultureInfo.InvariantCulture);
        var p99Text = output.Split('\n').First(l => l.TrimStart().StartsWith("99%", StringComparison.Ordinal)).Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return (rps, Milliseconds(p99Text));
    }

    private static double Milliseconds(string wrkDuration)
    {
        var unit = wrkDuration.TrimStart("0123456789.".ToCharArray());
        var value = double.Parse(wrkDuration[..^unit.Length], CultureInfo.InvariantCulture);
        return unit switch { "us" => value / 1000, "ms" => value, "s" => value * 1000, _ => value };
    }
}
