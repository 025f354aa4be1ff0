using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Process;

/// <summary>The app as an operator starts it: its own process, settings from environment variables (<c>__</c> for <c>:</c>).</summary>
public class AppProcessTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static ProcessStartInfo Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CrmMetrics.Functions.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }

    [Fact]
    public async Task Started_with_urls_and_environment_settings_it_serves_the_contract()
    {
        var port = FreePort();
        var info = Start("--urls", $"http://127.0.0.1:{port}");
        info.Environment["AzureWebJobsStorage"] = azurite.ConnectionString;
        info.Environment["CrmMetrics__Keys__crm"] = "writer:" + TestKeys.Hash("process-writer");
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await Eventually.WaitAsync(async () =>
            {
                try { return (await client.GetAsync("/api/health")).StatusCode == HttpStatusCode.OK; }
                catch (HttpRequestException) { return false; }
            }, TimeSpan.FromSeconds(60), "the app to answer /api/health");

            var events = JsonContent.Create(new[] { new { id = "p-1", type = "customer.acquired", time = "2026-08-01T10:00:00Z", customerId = "C-1" } });
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/api/events", events)).StatusCode);
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = events };
            request.Headers.Add("x-api-key", "process-writer");
            Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(request)).StatusCode);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        Assert.Contains(output, l => l.Contains("Local trigger runtime started"));
    }

    [Fact]
    public async Task A_bad_setting_stops_the_app_with_a_message_naming_it()
    {
        var info = Start("--urls", $"http://127.0.0.1:{FreePort()}");
        info.Environment["AzureWebJobsStorage"] = azurite.ConnectionString;
        info.Environment["CrmMetrics__Calendar"] = "lunar";
        info.Environment["CrmMetrics__Keys__bad"] = "superuser:abc";
        using var process = System.Diagnostics.Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, process.ExitCode);
        var text = await stderr;
        Assert.Contains("CrmMetrics:Calendar", text);
        Assert.Contains("CrmMetrics:Keys:bad", text);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
