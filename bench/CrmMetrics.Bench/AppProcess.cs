using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CrmMetrics.Bench;

/// <summary>
/// The function app in processes of its own, as the README runs it (the local host and its worker),
/// so their memory is measured apart from the load generator.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private long _peakBytes;
    private long _workerPeakBytes;
    private int _workerPid;
    private readonly CancellationTokenSource _sampling = new();
    private readonly Task _sampler;

    private AppProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        _sampler = SampleAsync(_sampling.Token);
    }

    public Uri BaseAddress { get; }

    /// <summary>Peak resident set of the host and the worker together (their VmHWM), in bytes.</summary>
    public long PeakWorkingSet => Math.Max(_peakBytes, ReadStatus(_process.Id, "VmHWM")) + WorkerPeakWorkingSet;

    /// <summary>Peak resident set of the worker process alone.</summary>
    public long WorkerPeakWorkingSet => Math.Max(_workerPeakBytes, _workerPid == 0 ? 0 : ReadStatus(_workerPid, "VmHWM"));

    public long WorkingSet => ReadStatus(_process.Id, "VmRSS") + (_workerPid == 0 ? 0 : ReadStatus(_workerPid, "VmRSS"));

    /// <summary>The worker's process id, from the host's status route.</summary>
    public int WorkerProcessId => _workerPid;

    public static async Task<AppProcess> StartAsync(IReadOnlyDictionary<string, string> environment, Action<string>? log = null, params string[] hostArguments)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        var host = CrmMetrics.LocalHost.HostCommand.HostDirectory() ?? throw new InvalidOperationException("The local host was built without its folder.");
        info.ArgumentList.Add(Path.Combine(host, "CrmMetrics.LocalHost.dll"));
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach (var argument in hostArguments) info.ArgumentList.Add(argument);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        info.Environment["DOTNET_gcServer"] = "0";
        // Benchmarks measure throughput: no per-key limits unless a benchmark sets its own.
        foreach (var limit in new[] { "CrmMetrics__RateLimits__IngestPerSecond", "CrmMetrics__RateLimits__ReadsPerSecond" })
            if (!environment.ContainsKey(limit)) info.Environment[limit] = "0";
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null && log is not null) log(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("app: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var app = new AppProcess(process, new Uri($"http://127.0.0.1:{port}"));
        using var client = new HttpClient { BaseAddress = app.BaseAddress };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try
            {
                if ((await client.GetAsync("/api/health")).IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            if (process.HasExited) throw new InvalidOperationException("The app exited during start-up.");
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The app did not become healthy.");
            await Task.Delay(200);
        }
        using var status = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/admin/host/status"));
        app._workerPid = status.RootElement.GetProperty("workerProcessId").GetInt32();
        return app;
    }

    private async Task SampleAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                _peakBytes = Math.Max(_peakBytes, ReadStatus(_process.Id, "VmRSS"));
                if (_workerPid != 0) _workerPeakBytes = Math.Max(_workerPeakBytes, ReadStatus(_workerPid, "VmRSS"));
                await Task.Delay(100, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static long ReadStatus(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Kills the host and its worker at once, as a crash would.</summary>
    public void Kill()
    {
        _workerPeakBytes = WorkerPeakWorkingSet;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    public async ValueTask DisposeAsync()
    {
        await _sampling.CancelAsync();
        await _sampler;
        _workerPeakBytes = WorkerPeakWorkingSet;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
