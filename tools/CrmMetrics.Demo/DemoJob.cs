using System.Net.Http.Headers;
using System.Text.Json;

namespace CrmMetrics.Demo;

/// <summary>
/// The demo's steps once the app is up: load the sample dataset from <c>seeds/</c> through the
/// public ingestion API, define goals and plans, compute the indicators, print a summary, and tell
/// the user what to open next (the dashboard first).
/// </summary>
/// <param name="requestTimeout">How long one request may take (default five minutes: a month's computation on a slow machine).</param>
public sealed class DemoJob(string address, string key, DemoComputation computation, string? dashboard = null, string? readerKey = null, TimeSpan? requestTimeout = null)
{
    /// <summary>Runs the demo's steps; false when one failed (the app keeps serving, and says so).</summary>
    public async Task<bool> RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            await LoadAndComputeAsync(stoppingToken);
            PrintNext(address);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // A request past its timeout ends in a TaskCanceledException that carries a TimeoutException (found by
        // probing: with storage unreachable under load, the demo died of it instead of saying so).
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or TimeoutException or JsonException or IOException
                                      or TaskCanceledException { InnerException: TimeoutException })
        {
            Console.WriteLine($"The demo failed: {e.Message}");
            // The app still serves what it holds: say where, with the keys, and how to stop.
            Console.WriteLine();
            Console.WriteLine($"The app is still running at {address}, with the data it holds (the sample may be loaded or computed only in part).");
            PrintKeys(linksAbove: false);
            Console.WriteLine("Press Ctrl+C to stop (the demo then exits with code 1).");
            return false;
        }
        return true;
    }

    /// <summary>
    /// Loads the seeds, defines the goals and plans and computes every month of the data, failing on
    /// the first error. The dashboard's tests prepare their app with it too.
    /// </summary>
    public async Task LoadAndComputeAsync(CancellationToken ct)
    {
        using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = requestTimeout ?? TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Add("x-api-key", key);
        var times = await LoadSeedsAsync(client, ct);
        await DefineAsync(client, "derived-indicators.json", "id", "/api/indicators/", ct);
        await DefineAsync(client, "goals.json", "goalId", "/api/goals/", ct);
        await DefineAsync(client, "incentive-plans.json", "planId", "/api/incentive-plans/", ct);
        await computation.RunAsync(client, times, ct);
    }

    /// <summary>
    /// Posts every seed file; returns the times of the facts loaded, so the computation knows the
    /// months. The acquisitions that carry customers' history back before the CRM's activity begins
    /// (the sample's first year holds nothing else) are left out: months with no activity at all
    /// would only show every monthly goal missed and every survey missing.
    /// </summary>
    private static async Task<IReadOnlyList<DateTimeOffset>> LoadSeedsAsync(HttpClient client, CancellationToken ct)
    {
        var times = new List<DateTimeOffset>();
        var acquisitions = new List<DateTimeOffset>();
        var folder = Path.Combine(RepositoryRoot(), "seeds");
        var files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.ndjson").Order(StringComparer.Ordinal).ToList() : [];
        if (files.Count == 0)
        {
            Console.WriteLine($"No seed files (*.ndjson) in {folder}; nothing to load.");
            return times;
        }
        Console.WriteLine();
        Console.WriteLine($"Loading the sample dataset from {folder} through POST /api/events ...");
        int accepted = 0, duplicates = 0, rejected = 0;
        var reasons = new RejectionReasons();
        foreach (var file in files)
        {
            var text = await File.ReadAllTextAsync(file, ct);
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using var e = JsonDocument.Parse(line);
                if (!e.RootElement.TryGetProperty("time", out var t) || !t.TryGetDateTimeOffset(out var time)) continue;
                var acquisition = e.RootElement.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "customer.acquired";
                (acquisition ? acquisitions : times).Add(time);
            }
            using var content = new StringContent(text, new MediaTypeHeaderValue("application/x-ndjson"));
            using var response = await client.PostAsync("/api/events", content, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{Path.GetFileName(file)}: {(int)response.StatusCode} {body}");
            using var json = JsonDocument.Parse(body);
            var a = json.RootElement.GetProperty("accepted").GetInt32();
            var d = json.RootElement.GetProperty("duplicates").GetInt32();
            var r = json.RootElement.GetProperty("rejected").GetArrayLength();
            reasons.Add(json.RootElement);
            (accepted, duplicates, rejected) = (accepted + a, duplicates + d, rejected + r);
            Console.WriteLine($"  {Path.GetFileName(file),-20} {a,6} accepted {d,5} duplicates {r,4} rejected");
        }
        Console.WriteLine($"  {"total",-20} {accepted,6} accepted {duplicates,5} duplicates {rejected,4} rejected");
        foreach (var line in reasons.Lines()) Console.WriteLine($"  {line}");
        if (times.Count == 0) return acquisitions;
        var start = times.Min();
        return [.. times, .. acquisitions.Where(t => t >= start)];
    }

    /// <summary>PUTs each definition of a seed file (goals, plans) through the API, as an administrator would.</summary>
    private static async Task DefineAsync(HttpClient client, string file, string idMember, string route, CancellationToken ct)
    {
        var path = Path.Combine(RepositoryRoot(), "seeds", file);
        if (!File.Exists(path)) return;
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(path, ct));
        var ids = new List<string>();
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            var id = item.GetProperty(idMember).GetString()!;
            using var content = new StringContent(item.GetRawText(), System.Text.Encoding.UTF8, "application/json");
            using var response = await client.PutAsync(route + id, content, ct);
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{file} {id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            ids.Add(id);
        }
        Console.WriteLine($"Defined from {file} through PUT {route}{{id}}: {string.Join(", ", ids)}");
    }

    /// <summary>The repository the demo runs from (where seeds/ is), found above the working or the program's folder.</summary>
    private static string RepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "CrmMetrics.sln"))) return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }

    private void PrintNext(string address)
    {
        Console.WriteLine();
        Console.WriteLine("The app is running. Open next (the demo keys below live only as long as this process):");
        if (dashboard is not null) Console.WriteLine($"  {dashboard}   (the executive scorecard, in a browser)");
        Console.WriteLine($"  {address}/api/health");
        foreach (var line in computation.Links(address, readerKey ?? key, key)) Console.WriteLine("  " + line);
        PrintKeys();
        Console.WriteLine("Press Ctrl+C to stop.");
    }

    private void PrintKeys(bool linksAbove = true)
    {
        if (readerKey is not null) Console.WriteLine($"  Reader API key for this session: {readerKey}  (reads only{(linksAbove ? ": the links above use it" : "")})");
        Console.WriteLine($"  Admin API key for this session: {key}  (reads, ingestion and admin routes; header x-api-key, or ?code=)");
    }
}
