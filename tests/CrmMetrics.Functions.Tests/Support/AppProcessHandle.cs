using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Support;

/// <summary>The app in its own process (the built CrmMetrics.Functions.dll), with its output captured, so a test can kill it.</summary>
public sealed class AppProcessHandle : IAsyncDisposable
{
    private readonly System.Diagnostics.Process _process;

    private AppProcessHandle(System.Diagnostics.Process process, int port)
    {
        _process = process;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
    }

    public HttpClient Client { get; }
    public ConcurrentQueue<string> Output { get; } = new();
    public event Action<string>? Line;

    public static async Task<AppProcessHandle> StartAsync(IReadOnlyDictionary<string, string> environment)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CrmMetrics.Functions.dll"));
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach (var (k, v) in environment) info.Environment[k] = v;
        var process = System.Diagnostics.Process.Start(info)!;
        var handle = new AppProcessHandle(process, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { handle.Output.Enqueue(e.Data); handle.Line?.Invoke(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) handle.Output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await Eventually.WaitAsync(async () =>
        {
            if (process.HasExited) throw new InvalidOperationException("The app exited: " + string.Join("\n", handle.Output.TakeLast(10)));
            try { return (await handle.Client.GetAsync("/api/health")).StatusCode == HttpStatusCode.OK; }
            catch (HttpRequestException) { return false; }
        }, TimeSpan.FromSeconds(60), "the app to become healthy");
        return handle;
    }

    /// <summary>Kills the process at once, as a crash or a scale-in would.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(TimeSpan.FromSeconds(30));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        Client.Dispose();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
