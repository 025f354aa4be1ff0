using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using CrmMetrics.LocalHost;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Support;

/// <summary>
/// The app as an operator starts it: the local host in its own process (the README's command, built)
/// serving this repository's function app, settings from environment variables, output captured,
/// so a test can kill the whole app (host and worker) at once.
/// </summary>
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
    public bool HasExited => _process.HasExited;

    public static ProcessStartInfo StartInfo(int port, IReadOnlyDictionary<string, string> environment, params string[] extra) => StartInfo(port, environment, false, extra);

    /// <param name="ownProcessGroup">
    /// Starts the host as the leader of a process group of its own (through setsid, which execs in place),
    /// so a signal to the group reaches the host and its worker as Ctrl+C in a terminal does.
    /// </param>
    public static ProcessStartInfo StartInfo(int port, IReadOnlyDictionary<string, string> environment, bool ownProcessGroup, params string[] extra)
    {
        var host = HostCommand.HostDirectory() ?? throw new InvalidOperationException("The local host was built without its folder.");
        var info = new ProcessStartInfo(ownProcessGroup ? "setsid" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (ownProcessGroup) info.ArgumentList.Add("dotnet");
        foreach (var a in new[] { Path.Combine(host, "CrmMetrics.LocalHost.dll"), "--urls", $"http://127.0.0.1:{port}", "--app", FunctionApp.Folder }.Concat(extra))
            info.ArgumentList.Add(a);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        return info;
    }

    /// <summary>Settings of an app on <paramref name="storage"/> with the tests' admin key and its timer quiet (runs start through the API).</summary>
    public static Dictionary<string, string> AdminEnvironment(string storage) => new()
    {
        ["AzureWebJobsStorage"] = storage,
        ["CrmMetrics__Keys__ops"] = "admin:" + TestKeys.Hash(TestKeys.Admin),
        ["KpiSchedule"] = "0 0 0 1 1 *",
    };

    /// <summary>Starts the app; with <paramref name="waitHealthy"/> returns once /api/health answers 200.</summary>
    public static Task<AppProcessHandle> StartAsync(IReadOnlyDictionary<string, string> environment, bool waitHealthy = true, params string[] extra) =>
        StartAsync(environment, waitHealthy, ownProcessGroup: false, extra);

    public static async Task<AppProcessHandle> StartAsync(IReadOnlyDictionary<string, string> environment, bool waitHealthy, bool ownProcessGroup, params string[] extra)
    {
        var port = Processes.FreePort();
        var process = System.Diagnostics.Process.Start(StartInfo(port, environment, ownProcessGroup, extra))!;
        var handle = new AppProcessHandle(process, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { handle.Output.Enqueue(e.Data); handle.Line?.Invoke(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { handle.Output.Enqueue(e.Data); handle.Line?.Invoke(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!waitHealthy) return handle;
        await Eventually.WaitAsync(async () =>
        {
            if (process.HasExited) throw new InvalidOperationException("The app exited: " + string.Join("\n", handle.Output.TakeLast(10)));
            try { return (await handle.Client.GetAsync("/api/health")).StatusCode == HttpStatusCode.OK; }
            catch (HttpRequestException) { return false; }
        }, TimeSpan.FromSeconds(90), "the app to become healthy");
        return handle;
    }

    /// <summary>Kills the app at once (host and worker), as a crash or a scale-in would.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(TimeSpan.FromSeconds(30));
    }

    /// <summary>Kills the host process alone (kill -9), leaving its worker behind as a crash of the host would.</summary>
    public void KillHostOnly()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: false);
        _process.WaitForExit(TimeSpan.FromSeconds(30));
    }

    /// <summary>Asks the app to stop as a platform does (SIGTERM) and waits for it to exit.</summary>
    public async Task TerminateAsync(TimeSpan wait)
    {
        if (_process.HasExited) return;
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        await _process.WaitForExitAsync().WaitAsync(wait);
    }

    /// <summary>Signals the host's whole process group (started with ownProcessGroup), as Ctrl+C in a terminal does, and waits for the host to exit.</summary>
    public async Task SignalGroupAsync(string signal, TimeSpan wait)
    {
        if (_process.HasExited) return;
        using (var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", "--", "-" + _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        await _process.WaitForExitAsync().WaitAsync(wait);
    }

    public int ExitCode => _process.ExitCode;

    public ValueTask DisposeAsync()
    {
        Kill();
        Client.Dispose();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
