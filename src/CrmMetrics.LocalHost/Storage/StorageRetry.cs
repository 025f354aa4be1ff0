using Azure;
using Azure.Identity;

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
    /// SDK's retries exhausted, a network time-out) or refusing the host's credentials, rather than
    /// <paramref name="stopping"/> being cancelled. A credential that gives no token counts too: found by
    /// probing, on a machine without a managed identity it stopped the triggers for good, while the worker's
    /// initializer retried; an identity or role assigned later, or an identity endpoint that comes back, is
    /// then taken up without a restart.
    /// </summary>
    public static bool IsStorageFailure(Exception e, CancellationToken stopping) =>
        e is RequestFailedException or HttpRequestException or TimeoutException or AggregateException
        || IsCredentialRefusal(e)
        || e is OperationCanceledException && !stopping.IsCancellationRequested;

    /// <summary>
    /// Whether storage refused the host's credentials (a wrong account key, an identity without a role) or
    /// the identity gave no token: a setting or an assignment to fix rather than storage being away.
    /// </summary>
    public static bool IsCredentialRefusal(Exception e) =>
        e is RequestFailedException { Status: 401 or 403 } or AuthenticationFailedException or CredentialUnavailableException;

    /// <summary>
    /// The failure as a log line's reason, in one line: an identity's message goes on with MSAL's own
    /// exceptions and their stack traces.
    /// </summary>
    public static string Describe(Exception e) => e switch
    {
        AuthenticationFailedException or CredentialUnavailableException =>
            $"No token for storage ({FirstLine(e)}): check the storage connection's identity (__credential, __clientId) and this machine's managed identity",
        RequestFailedException { Status: 401 or 403 } r =>
            $"Storage refused this host's credentials ({r.Status} {r.ErrorCode}): check the account key, or the identity's role on the account",
        _ => $"Storage did not answer ({FirstLine(e)})",
    };

    private static string FirstLine(Exception e) => e.Message.Split('\n')[0].Trim();

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
                if (!failing) logger.LogWarning("{Failure}; {What} is retried with back-off until it does", Describe(e), what);
                failing = true;
                await Task.Delay(delay, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }
}
