using System.Diagnostics;
using CrmMetrics.Testing;

namespace CrmMetrics.Dashboard.Tests;

/// <summary>The main command as an operator meets it when a setting is wrong.</summary>
public class DemoCommandTests
{
    [Fact]
    public async Task A_setting_the_worker_refuses_ends_the_demo_at_once_with_the_settings_message()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // The setting comes as an argument: --setting reaches the worker as the environment would.
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "CrmMetrics.Demo.dll"), "--urls", $"http://127.0.0.1:{Processes.FreePort()}", "--setting", "CrmMetrics__TimeZone=Mars/Olympus" })
            info.ArgumentList.Add(a);
        // Storage is named (nothing needs to answer there): the worker refuses its settings before it uses it.
        info.Environment["AzureWebJobsStorage"] = "UseDevelopmentStorage=true";
        using var demo = Process.Start(info)!;
        var output = demo.StandardOutput.ReadToEndAsync();
        var errors = demo.StandardError.ReadToEndAsync();
        try
        {
            // It used to wait two minutes for a worker that refuses the same settings at every restart.
            await demo.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!demo.HasExited) demo.Kill(entireProcessTree: true);
        }
        var text = await output + await errors;
        Assert.Equal(2, demo.ExitCode);
        Assert.Contains("The app cannot start: CrmMetrics cannot start because of its settings", text);
        Assert.Contains("CrmMetrics:TimeZone", text);
        Assert.DoesNotContain("did not get ready", text);
    }

    [Theory]
    [InlineData(2, "--port", "Unknown argument '--port'.")]  // found by probing: any argument but --urls was ignored without a word
    [InlineData(2, "--urls", "--urls needs a value.")]
    [InlineData(0, "--help", "--setting NAME=VALUE")]
    public async Task Arguments_it_does_not_know_are_refused_with_its_usage_before_anything_starts(int exitCode, string argument, string expected)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CrmMetrics.Demo.dll"));
        info.ArgumentList.Add(argument);
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
        var text = await output + await errors;
        Assert.Equal(exitCode, demo.ExitCode);
        Assert.Contains(expected, text);
        Assert.Contains("Usage: dotnet run --project tools/CrmMetrics.Demo", text);
        Assert.DoesNotContain("Starting CrmMetrics", text);
    }
}
