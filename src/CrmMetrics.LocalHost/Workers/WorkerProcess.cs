using System.Diagnostics;
using CrmMetrics.LocalHost.App;
using CrmMetrics.LocalHost.Hosting;

namespace CrmMetrics.LocalHost.Workers;

/// <summary>
/// One worker process, started as the Functions host starts a .NET isolated worker: the app's
/// executable (or <c>dotnet &lt;worker&gt;.dll</c>) with the host's endpoint and the worker's ids on
/// the command line, and the app settings in its environment. Its output goes to the log; the last
/// lines are kept to explain an early exit.
/// </summary>
public sealed class WorkerProcess : IDisposable
{
    /// <summary>The largest gRPC message the worker accepts; it must be passed (0 breaks the worker).</summary>
    public const int MaxMessageLength = int.MaxValue;

    // Settings that would make the worker's own Kestrel listen where the host listens.
    private static readonly string[] HostOnlySettings = ["ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_URLS", "urls"];

    private readonly Process _process;
    // Enough for a settings refusal to be kept whole, one line per bad setting under its heading (found by probing:
    // with 20 bad settings the heading fell out of 20 lines, and the demo no longer knew the worker had refused them).
    private readonly LastLines _lastLines = new(capacity: 200);
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(Process process) => _process = process;

    public int Id { get; private set; }

    /// <summary>Completes with the exit code when the process ends.</summary>
    public Task<int> Exited => _exited.Task;

    public string LastLines => _lastLines.ToString();

    public static WorkerProcess Start(FunctionAppFolder app, AppSettings settings, Uri hostEndpoint, string workerId, string requestId, ILogger output)
    {
        var info = new ProcessStartInfo(app.Executable)
        {
            WorkingDirectory = app.Path,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (app.Executable == "dotnet") info.ArgumentList.Add(app.WorkerPath);
        foreach (var argument in app.Arguments) info.ArgumentList.Add(argument);
        foreach (var argument in new[]
                 {
                     "--functions-uri", hostEndpoint.ToString(),
                     "--functions-worker-id", workerId,
                     "--functions-request-id", requestId,
                     "--functions-grpc-max-message-length", MaxMessageLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 })
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in settings.AsEnvironment()) info.Environment[name] = value;
        foreach (var name in HostOnlySettings) info.Environment.Remove(name);
        info.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        info.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = app.Path;
        info.Environment["FUNCTIONS_WORKER_DIRECTORY"] = app.Path;
        info.Environment["AzureWebJobsScriptRoot"] = app.Path;
        info.Environment["FUNCTIONS_EXTENSION_VERSION"] = "~4";
        // Ctrl+C reaches the whole process group: the worker leaves it to this host, which drains and then stops it.
        info.Environment["CRMMETRICS_HOST_OWNS_SIGNALS"] = "1";

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => worker.Line(e.Data, output, LogLevel.Information);
        process.ErrorDataReceived += (_, e) => worker.Line(e.Data, output, LogLevel.Warning);
        process.Exited += async (_, _) => worker._exited.TrySetResult(await ExitCodeOnceReadAsync(process));
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new WorkerStartException($"The worker could not be started ({app.Executable}): {e.Message}");
        }
        worker.Id = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    private void Line(string? line, ILogger output, LogLevel level)
    {
        if (line is null) return;
        _lastLines.Add(line);
        output.Log(level, "{Line}", line);
    }

    /// <summary>Ends the process at once (a crash, as far as the host is concerned).</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }
    }

    /// <summary>How long an exited worker's output may take to be read to its end.</summary>
    private static readonly TimeSpan OutputDrain = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The exit code, once the output the worker wrote before it exited has been read (for at most
    /// <see cref="OutputDrain"/>: a process it started may hold its pipes open). The exit event comes before the
    /// last lines are read, so "the worker exited" could be reported with the reason it printed missing: under
    /// load, a 503 that named no bad setting (found by a full test run beside two builds).
    /// </summary>
    private static async Task<int> ExitCodeOnceReadAsync(Process process)
    {
        using var drain = new CancellationTokenSource(OutputDrain);
        try
        {
            await process.WaitForExitAsync(drain.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
            // Reported without the rest of its output, as before.
        }
        return SafeExitCode(process);
    }

    private static int SafeExitCode(Process process)
    {
        try { return process.ExitCode; }
        catch (InvalidOperationException) { return -1; }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}

/// <summary>A worker that could not be started or did not complete its handshake.</summary>
public sealed class WorkerStartException(string message) : Exception(message);
