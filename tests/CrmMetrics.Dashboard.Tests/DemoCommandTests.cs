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
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "CrmMetrics.Demo.dll"), "--urls", $"http://127.0.0.1:{Processes.FreePort()}" }) info.ArgumentList.Add(a);
        // Storage is named (nothing needs to answer there): the worker refuses its settings before it uses it.
        info.Environment["AzureWebJobsStorage"] = "UseDevelopmentStorage=true";
        info.Environment["CrmMetrics__TimeZone"] = "Mars/Olympus";
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
}
