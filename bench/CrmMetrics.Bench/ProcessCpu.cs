using System.Globalization;

namespace CrmMetrics.Bench;

/// <summary>
/// CPU time a process has used (user + system, from /proc), so a phase's cost to the storage emulator
/// can be told apart from waiting on a machine that other work keeps busy.
/// </summary>
public sealed class ProcessCpu(int processId)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public int ProcessId => processId;

    /// <summary>The Azurite (node) process listening on this table port, if it can be found.</summary>
    public static ProcessCpu? Azurite(int tablePort) => Find(args =>
    {
        var i = Array.IndexOf(args, "--tablePort");
        return i >= 0 && i + 1 < args.Length && args[i + 1] == tablePort.ToString(CultureInfo.InvariantCulture) && args.Any(a => a.Contains("azurite", StringComparison.Ordinal));
    });

    /// <summary>The process serving HTTP on this port (started with <c>--urls http://127.0.0.1:port</c>), if it can be found.</summary>
    public static ProcessCpu? ServingPort(int port) =>
        Find(args => args.Any(a => a.EndsWith($":{port.ToString(CultureInfo.InvariantCulture)}", StringComparison.Ordinal) && a.StartsWith("http://", StringComparison.Ordinal)));

    /// <summary>The function worker a local host started (its child given <c>--functions-worker-id</c>), if it can be found.</summary>
    public static ProcessCpu? WorkerOf(int hostProcessId) => Find(args => args.Contains("--functions-worker-id"), hostProcessId);

    private static ProcessCpu? Find(Func<string[], bool> matches, int? parentId = null)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (!matches(File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0'))) continue;
                if (parentId is { } parent && ParentOf(pid) != parent) continue;
                return new ProcessCpu(pid);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return null;
    }

    private static int ParentOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // After the command: state is field 3, ppid field 4.
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
    }

    /// <summary>CPU seconds used so far.</summary>
    public double Seconds
    {
        get
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{processId}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // After the command: state is field 3, utime field 14, stime field 15 (1-based, from /proc/[pid]/stat).
                return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
            }
            catch (IOException)
            {
                return 0;
            }
        }
    }

    /// <summary>
    /// Waits until the processes together use less than a tenth of a core over a second (after a
    /// warm-up, the runtime recompiles hot code in the background for a while); gives up after the
    /// deadline. Returns how long it waited.
    /// </summary>
    public static async Task<TimeSpan> WaitUntilQuietAsync(IEnumerable<ProcessCpu?> processes, TimeSpan deadline)
    {
        var watched = processes.OfType<ProcessCpu>().ToList();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < deadline)
        {
            var before = watched.Sum(p => p.Seconds);
            await Task.Delay(TimeSpan.FromSeconds(1));
            if (watched.Sum(p => p.Seconds) - before < 0.1) break;
        }
        return watch.Elapsed;
    }
}
