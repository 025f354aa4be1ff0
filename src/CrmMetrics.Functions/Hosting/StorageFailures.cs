namespace CrmMetrics.Functions.Hosting;

/// <summary>What a storage failure says about its cause.</summary>
public static class StorageFailures
{
    /// <summary>
    /// Whether storage refused this app's credentials (a wrong account key, an identity without a role):
    /// a setting to fix, which retrying does not, unlike storage that does not answer.
    /// </summary>
    public static bool IsCredentialRefusal(Exception e) =>
        e is Azure.RequestFailedException { Status: 401 or 403 } or Azure.Identity.AuthenticationFailedException or Azure.Identity.CredentialUnavailableException;

    /// <summary>The refusal as a log line's reason: its status and code, or the identity's message.</summary>
    public static string Describe(Exception e) =>
        e is Azure.RequestFailedException r ? $"{r.Status} {r.ErrorCode}" : e.Message.Split('\n')[0];
}
