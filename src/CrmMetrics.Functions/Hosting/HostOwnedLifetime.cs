using System.Runtime.InteropServices;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// The worker's lifetime when the local Functions host that started it owns the stopping. Ctrl+C in a
/// terminal, and a service manager's stop, signal every process of the group: a worker that stopped
/// on its own signal would be gone before the host gave its running invocations their grace period,
/// and the host would see a worker that died and start another. Under the host the worker ignores
/// SIGINT, SIGTERM and SIGQUIT and stops when the host sends WorkerTerminate (or, if the host is
/// gone, through <see cref="HostProcessWatch"/>). Set by the host with <see cref="Variable"/>.
/// </summary>
public sealed class HostOwnedLifetime(ILogger<HostOwnedLifetime> logger) : IHostLifetime, IDisposable
{
    /// <summary>The environment variable the local host sets to "1" on the workers it starts.</summary>
    public const string Variable = "CRMMETRICS_HOST_OWNS_SIGNALS";

    private readonly List<PosixSignalRegistration> _registrations = [];

    public static bool Requested => Environment.GetEnvironmentVariable(Variable) == "1";

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                logger.LogInformation("{Signal} left to the Functions host: it stops this worker after its running invocations", context.Signal);
            }));
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
    }
}
