using Azure;

namespace CrmMetrics.LocalHost.Storage;

/// <summary>
/// Runs a storage call until it succeeds, with back-off (1 s doubling to 30 s), for the steps a
/// trigger cannot start without (creating its queue or lock container): storage that is not up yet,
/// or restarting, delays the trigger instead of stopping it. One log line per outage, one when it answers.
/// </summary>
public static class StorageRetry
{
    /// <summary>
    /// Whether <paramref name="e"/> is storage failing to answer (an error status, no connection, the
    /// SDK's retries exhausted, a network time-out) rather than <paramref name="stopping"/> being cancelled.
    /// </summary>
    public static bool IsStorageFailure(Exception e, CancellationToken stopping) =>
        e is RequestFailedException or HttpRequestException or TimeoutException or AggregateException
        || e is OperationCanceledException && !stopping.IsCancellationRequested;

    public static async Task UntilDoneAsync(Func<CancellationToken, Task> call, string what, ILogger logger, CancellationToken ct)
    {
        var delay = TimeSpan.FromSeconds(1);
        var failing = false;
        while (true)
        {
            try
            {
                await call(ct);
                if (failing) logger.LogInformation("Storage answers again: {What} done", what);
                return;
            }
            catch (Exception e) when (IsStorageFailure(e, ct))
            {
                if (!failing) logger.LogWarning("Storage did not answer ({Error}); {What} is retried with back-off until it does", e.Message.Split('\n')[0], what);
                failing = true;
                await Task.Delay(delay, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }
}
