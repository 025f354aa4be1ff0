using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json.Nodes;

namespace CrmMetrics.Infra.Tests;

/// <summary>
/// The deployed package, built by the one command the README gives
/// (<c>dotnet publish src/CrmMetrics.Functions -c Release -r linux-x64</c>), laid out as a function app.
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
        foreach (var a in new[] { "publish", Path.Combine(root, "src", "CrmMetrics.Functions"), "-c", "Release", "-r", "linux-x64", "-o", Path.Combine(Work, "publish"),
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
    private static readonly HashSet<string> Bindings = ["httpTrigger", "http", "queueTrigger", "timerTrigger", "queue", "serviceBus"];

    private JsonNode Read(string entry)
    {
        using var stream = package.Zip.GetEntry(entry)!.Open();
        return JsonNode.Parse(stream)!;
    }

    [Fact]
    public void Host_json_points_at_an_executable_in_the_package()
    {
        var host = Read("host.json");
        var executable = host["customHandler"]!["description"]!["defaultExecutablePath"]!.GetValue<string>();
        var entry = package.Zip.GetEntry(executable);
        Assert.NotNull(entry);
        // Unix permissions live in the high 16 bits of the external attributes: the owner may execute it.
        Assert.True(((entry!.ExternalAttributes >> 16) & 0b001_000_000) != 0, "the handler is not executable");
        Assert.True(host["customHandler"]!["enableForwardingHttpRequest"]!.GetValue<bool>());
        Assert.NotNull(host["extensionBundle"]);
    }

    [Fact]
    public void Every_function_folder_has_a_valid_function_json_with_bindings_the_app_handles()
    {
        var functions = package.Zip.Entries.Where(e => e.FullName.EndsWith("/function.json", StringComparison.Ordinal)).ToList();
        Assert.True(functions.Count >= 20, $"only {functions.Count} functions");
        foreach (var function in functions)
        {
            Assert.Equal(2, function.FullName.Split('/').Length); // a folder directly under the root
            var bindings = Read(function.FullName)["bindings"]!.AsArray();
            Assert.Single(bindings, b => b!["direction"]!.GetValue<string>() == "in" && b["type"]!.GetValue<string>().EndsWith("Trigger", StringComparison.Ordinal));
            Assert.All(bindings, b => Assert.Contains(b!["type"]!.GetValue<string>(), Bindings));
        }
    }

    [Fact]
    public void The_package_holds_no_secrets_or_local_settings()
    {
        Assert.DoesNotContain(package.Zip.Entries, e => e.Name is "local.settings.json" or "appsettings.Development.json" || e.Name.EndsWith(".pfx", StringComparison.Ordinal));
        foreach (var entry in package.Zip.Entries.Where(e => e.Name.EndsWith(".json", StringComparison.Ordinal)))
        {
            using var reader = new StreamReader(entry.Open());
            var text = reader.ReadToEnd();
            Assert.DoesNotContain("AccountKey=", text);
            Assert.DoesNotContain("SharedAccessKey", text);
        }
    }
}
