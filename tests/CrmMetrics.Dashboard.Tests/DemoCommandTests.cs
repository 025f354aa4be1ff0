using System.Diagnostics;
using CrmMetrics.Testing;

namespace CrmMetrics.Dashboard.Tests;

/// <summary>The main command as an operator meets it when a setting or an argument is wrong.</summary>
public class DemoCommandTests
{
    /// <summary>Runs the demo with these arguments until it exits (a minute at most); its exit code and all it wrote.</summary>
    private static async Task<(int ExitCode, string Text)> RunDemoAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CrmMetrics.Demo.dll"));
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        using var demo = Process.Start(info)!;
        var output = demo.StandardOutput.ReadToEndAsync();
        var errors = demo.StandardError.ReadToEndAsync();
        try
        {
            await demo.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!demo.HasExited) demo.Kill(entireProcessTree: true);
        }
        return (demo.ExitCode, await output + await errors);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7071", "http://127.0.0.1:7071")]
    [InlineData("http://0.0.0.0:7071;http://localhost:8080/", "http://localhost:8080")]
    [InlineData("http://+:7071", null)]
    [InlineData("http://127.0.0.1:0", null)]
    public void Alert_links_name_the_first_served_address_a_reader_can_reach(string urls, string? expected) =>
        // Found by an independent check: the demo's alert links were relative ("/api/snapshots?…").
        Assert.Equal(expected, CrmMetrics.Demo.DemoCommand.PublicAddress(urls.Split(';')));

    [Fact]
    public void A_public_base_address_the_host_would_read_anyway_is_kept()
    {
        // Found by a review: the demo replaced one given in local.settings.json or the environment. Its own is a
        // default: the host reads it only where those and --setting say nothing.
        var app = CrmMetrics.LocalHost.App.FunctionAppFolder.Open(CrmMetrics.LocalHost.HostCommand.Parse([]).AppDirectory);
        var defaults = CrmMetrics.Demo.DemoCommand.DefaultSettings(["http://127.0.0.1:7071"]);
        var dir = Directory.CreateTempSubdirectory("demo-settings");
        try
        {
            var given = Path.Combine(dir.FullName, "given.json");
            File.WriteAllText(given, """{ "Values": { "CrmMetrics:PublicBaseUrl": "https://tunnel.example" } }""");
            var none = Path.Combine(dir.FullName, "none.json");
            File.WriteAllText(none, """{ "Values": {} }""");
            string? Read(string localSettings, IReadOnlyDictionary<string, string?>? overrides = null) =>
                CrmMetrics.LocalHost.App.AppSettings.Load(app, overrides, localSettings, defaults)["CrmMetrics__PublicBaseUrl"];
            Assert.Equal("https://tunnel.example", Read(given));
            Assert.Equal("https://x.example", Read(none, new Dictionary<string, string?> { ["CrmMetrics__PublicBaseUrl"] = "https://x.example" }));
            if (Environment.GetEnvironmentVariable("CrmMetrics__PublicBaseUrl") is null)
                Assert.Equal("http://127.0.0.1:7071", Read(none));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_setting_the_worker_refuses_ends_the_demo_at_once_with_the_settings_message()
    {
        // It used to wait two minutes for a worker that refuses the same settings at every restart.
        // The setting comes as an argument: --setting reaches the worker as the environment would.
        // Storage is named (nothing needs to answer there): the worker refuses its settings before it uses it.
        var (exitCode, text) = await RunDemoAsync(
            ["--urls", $"http://127.0.0.1:{Processes.FreePort()}", "--setting", "CrmMetrics__TimeZone=Mars/Olympus"],
            new Dictionary<string, string> { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" });
        Assert.Equal(2, exitCode);
        Assert.Contains("The app cannot start: CrmMetrics cannot start because of its settings", text);
        Assert.Contains("CrmMetrics:TimeZone", text);
        Assert.DoesNotContain("did not get ready", text);
    }

    [Fact]
    public async Task Many_settings_the_worker_refuses_end_the_demo_at_once_naming_every_one()
    {
        // Found by probing: with 20 bad settings the refusal's first line fell out of the worker's last lines the
        // host keeps, and the demo waited two minutes for a worker that would never start.
        var bad = Enumerable.Range(1, 25).SelectMany(i => new[] { "--setting", $"CrmMetrics__Keys__k{i}=reader:nothex" });
        var (exitCode, text) = await RunDemoAsync(["--urls", $"http://127.0.0.1:{Processes.FreePort()}", .. bad],
            new Dictionary<string, string> { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" });
        Assert.Equal(2, exitCode);
        Assert.Contains("The app cannot start: CrmMetrics cannot start because of its settings", text);
        Assert.All(Enumerable.Range(1, 25), i => Assert.Contains($"CrmMetrics:Keys:k{i}:", text));
    }

    [Fact]
    public async Task An_address_in_use_ends_the_demo_with_a_message_saying_what_to_do()
    {
        // Found running the main command while another clone's demo held port 7071: it crashed with exit code 134.
        using var other = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        other.Start();
        var port = ((System.Net.IPEndPoint)other.LocalEndpoint).Port;
        var (exitCode, text) = await RunDemoAsync(["--urls", $"http://127.0.0.1:{port}"],
            new Dictionary<string, string> { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" });
        Assert.Equal(2, exitCode);
        Assert.Contains($"The demo cannot start the app: Failed to bind to address http://127.0.0.1:{port}: address already in use.", text);
        Assert.Contains("serve this one elsewhere with --urls", text);
    }

    [Theory]
    [InlineData(2, "--port", "Unknown argument '--port'.")]  // found by probing: any argument but --urls was ignored without a word
    [InlineData(2, "--urls", "--urls needs a value.")]
    [InlineData(0, "--help", "--setting NAME=VALUE")]
    public async Task Arguments_it_does_not_know_are_refused_with_its_usage_before_anything_starts(int expectedExitCode, string argument, string expected)
    {
        var (exitCode, text) = await RunDemoAsync([argument]);
        Assert.Equal(expectedExitCode, exitCode);
        Assert.Contains(expected, text);
        Assert.Contains("Usage: dotnet run --project tools/CrmMetrics.Demo", text);
        Assert.DoesNotContain("Starting CrmMetrics", text);
    }
}
