using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json.Nodes;

namespace CrmMetrics.Infra.Tests;

/// <summary>
/// The deployed package, built by the one command the README gives
/// (<c>dotnet publish src/CrmMetrics.Functions -c Release</c>): the standard isolated-worker publish output, zipped.
/// </summary>
public sealed class PackageFixture : IDisposable
{
    public PackageFixture()
    {
        Work = Path.Combine(Path.GetTempPath(), "crm-package-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Work);
        ZipPath = Path.Combine(Work, "crm-metrics-functions.zip");
        var root = InfraFixture.FindRepoRoot();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = root };
        foreach (var a in new[] { "publish", Path.Combine(root, "src", "CrmMetrics.Functions"), "-c", "Release", "-o", Path.Combine(Work, "publish"),
                     $"-p:FunctionAppZip={ZipPath}", "-nologo" })
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"dotnet publish failed:\n{output.Result}\n{errors.Result}");
        Zip = ZipFile.OpenRead(ZipPath);
    }

    public string Work { get; }
    public string ZipPath { get; }
    public ZipArchive Zip { get; }

    public void Dispose()
    {
        Zip.Dispose();
        try { Directory.Delete(Work, recursive: true); } catch (IOException) { }
    }
}

public class PackageTests(PackageFixture package) : IClassFixture<PackageFixture>
{
    private JsonNode Read(string entry)
    {
        using var stream = (package.Zip.GetEntry(entry) ?? throw new Xunit.Sdk.XunitException($"the package has no {entry}")).Open();
        return JsonNode.Parse(stream)!;
    }

    [Fact]
    public void It_is_a_standard_isolated_app_whose_worker_config_names_an_assembly_in_the_package()
    {
        var worker = Read("worker.config.json")["description"]!;
        Assert.Equal("dotnet-isolated", (string?)worker["language"]);
        Assert.Equal("dotnet", (string?)worker["defaultExecutablePath"]);
        Assert.NotNull(package.Zip.GetEntry((string)worker["defaultWorkerPath"]!));
        Assert.NotNull(package.Zip.GetEntry("extensions.json"));
        var host = Read("host.json");
        Assert.Null(host["customHandler"]);
        Assert.Null(host["extensionBundle"]); // isolated apps bring their extensions (extensions.json)
        Assert.Equal("", (string?)host["extensions"]!["http"]!["routePrefix"]);
    }

    [Fact]
    public void The_worker_runs_with_blocking_gen2_collections_for_throughput()
    {
        var worker = (string)Read("worker.config.json")["description"]!["defaultWorkerPath"]!;
        var runtimeConfig = Read(Path.ChangeExtension(worker, ".runtimeconfig.json"));
        // Background GC caps a workstation gen0 at ~6 MB; the SDK's per-action allocations then cost
        // ingestion a fifth to a quarter of its CPU in collections (README, "Benchmarks").
        Assert.False((bool?)runtimeConfig["runtimeOptions"]!["configProperties"]!["System.GC.Concurrent"]);
    }

    [Fact]
    public void Functions_metadata_lists_every_function_with_todays_triggers_and_there_is_no_function_json()
    {
        var functions = Read("functions.metadata").AsArray().ToDictionary(f => (string)f!["name"]!, f => f!["bindings"]!.AsArray());
        Assert.Equal(38, functions.Count);
        string Trigger(string name) => functions[name].Single(b => ((string)b!["type"]!).EndsWith("Trigger", StringComparison.Ordinal)) is var b
            ? $"{b!["type"]} {(string?)b["route"] ?? (string?)b["queueName"] ?? (string?)b["schedule"]}" : "";
        Assert.Equal("queueTrigger crm-events", Trigger("IngestQueuedEvents"));
        Assert.Equal("queueTrigger kpi-runs", Trigger("StartRun"));
        Assert.Equal("queueTrigger kpi-days", Trigger("AggregateDay"));
        Assert.Equal("queueTrigger kpi-periods", Trigger("FinalizePeriod"));
        Assert.Equal("queueTrigger kpi-done", Trigger("CompletePeriod"));
        Assert.Equal("timerTrigger %KpiSchedule%", Trigger("KpiSchedule"));
        Assert.Equal("timerTrigger %AlertDigestSchedule%", Trigger("AlertDigest"));
        Assert.Equal("httpTrigger api/events", Trigger("IngestEvents"));
        Assert.Equal("httpTrigger api/events/poisoned/replay", Trigger("ReplayPoisonedEvents"));
        Assert.Equal("httpTrigger api/runs", Trigger("RunList"));
        Assert.Equal("httpTrigger odata/{*path}", Trigger("OData"));
        Assert.Equal("httpTrigger dashboard/assets/{*path}", Trigger("DashboardAsset"));
        Assert.All(functions.Values, bindings => Assert.Single(bindings, b => (string?)b!["direction"] == "In" && ((string)b["type"]!).EndsWith("Trigger", StringComparison.Ordinal)));
        // Run steps hand on through queue output bindings.
        Assert.Contains(functions["FinalizePeriod"], b => (string?)b!["type"] == "queue" && (string?)b["queueName"] == "kpi-done");
        Assert.DoesNotContain(package.Zip.Entries, e => e.Name == "function.json");
    }

    [Fact]
    public void The_package_serves_the_dashboard_itself_with_the_chart_library_and_font_from_npm()
    {
        // No CDN at run time: the page, its scripts and what the build copied from Dashboard/node_modules travel in the package.
        foreach (var entry in new[]
                 {
                     "Dashboard/wwwroot/index.html", "Dashboard/wwwroot/js/main.js", "Dashboard/wwwroot/css/dashboard.css",
                     "Dashboard/wwwroot/vendor/chart.umd.min.js", "Dashboard/wwwroot/vendor/vazirmatn-arabic-400.woff2",
                 })
        {
            Assert.True(package.Zip.GetEntry(entry) is { Length: > 0 }, $"the package has no {entry}");
        }
        Assert.DoesNotContain(package.Zip.Entries, e => e.FullName.Contains("node_modules", StringComparison.Ordinal));
    }

    [Fact]
    public void The_package_holds_no_secrets_or_local_settings()
    {
        Assert.DoesNotContain(package.Zip.Entries, e => e.Name is "local.settings.json" or "appsettings.Development.json" || e.Name.EndsWith(".pfx", StringComparison.Ordinal));
        foreach (var entry in package.Zip.Entries.Where(e => e.Name.EndsWith(".json", StringComparison.Ordinal) || e.Name == "functions.metadata"))
        {
            using var reader = new StreamReader(entry.Open());
            var text = reader.ReadToEnd();
            Assert.DoesNotContain("AccountKey=", text);
            Assert.DoesNotContain("SharedAccessKey", text);
        }
    }
}
