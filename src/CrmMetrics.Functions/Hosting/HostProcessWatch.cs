namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Stops the worker when the Functions host that started it is gone (killed without a chance to
/// send WorkerTerminate): the worker would otherwise live on, serving no one. Linux only, where a
/// process whose parent dies is handed to another parent.
/// </summary>
public sealed class HostProcessWatch(IHostApplicationLifetime lifetime, ILogger<HostProcessWatch> logger) : BackgroundService
{
    private const string Stat = "/proc/self/stat";

    public static bool IsSupported => File.Exists(Stat);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var host = ParentId();
        if (host is null or <= 1) return;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (ParentId() == host) continue;
            logger.LogWarning("The Functions host (process {Host}) that started this worker is gone; the worker stops", host);
            lifetime.StopApplication();
            return;
        }
    }

    /// <summary>The parent process id: the fourth field of /proc/self/stat, after the parenthesised command name.</summary>
    private static int? ParentId()
    {
        try
        {
            var stat = File.ReadAllText(Stat);
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.TryParse(fields[1], out var ppid) ? ppid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
