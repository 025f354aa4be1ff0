using System.Collections.Concurrent;
using System.Diagnostics;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>
/// The built host started as an operator starts it (<c>dotnet CrmMetrics.LocalHost.dll …</c>), with an
/// environment of the test's own (nothing of the test process's storage settings), its output kept line by line.
/// Disposing kills it, with its worker, if it still runs.
/// </summary>
public sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentQueue<string> _errors = new();

    private HostProcess(Process process) => _process = process;

    /// <summary>What it wrote to standard output (its log) so far.</summary>
    public IReadOnlyCollection<string> Output => _output;

    /// <summary>What it wrote to standard error so far.</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Tail(int count = 40) => string.Join(Environment.NewLine, _output.Concat(_errors).TakeLast(count));

    public static HostProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(HostCommand.HostDirectory()!, "CrmMetrics.LocalHost.dll"));
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("AzureWebJobsStorage", StringComparison.OrdinalIgnoreCase)).ToList()) info.Environment.Remove(name);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        var host = new HostProcess(new Process { StartInfo = info });
        host._process.OutputDataReceived += (_, e) => { if (e.Data is not null) host._output.Enqueue(e.Data); };
        host._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) host._errors.Enqueue(e.Data); };
        host._process.Start();
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits for it to exit on its own, all its output read, within <paramref name="deadline"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        await _process.WaitForExitAsync().WaitAsync(deadline);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }
        _process.Dispose();
    }
}
