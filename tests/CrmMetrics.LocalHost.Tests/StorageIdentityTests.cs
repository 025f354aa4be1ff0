using System.Net;
using System.Text;
using CrmMetrics.Testing;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>
/// Identity-based storage (<c>AzureWebJobsStorage__…</c> with <c>__credential=managedidentity</c>) on a
/// machine whose identity gives no token: the triggers wait and retry, as for storage that does not answer.
/// </summary>
public sealed class StorageIdentityTests
{
    [Fact]
    public async Task A_managed_identity_that_gives_no_token_is_retried_with_back_off_and_stops_no_trigger()
    {
        // Found by probing: on a machine without an identity, the first credential failure stopped the queue and
        // timer triggers for good ("crit: Host[0] A trigger stopped", MSAL stack traces) while the worker's own
        // initializer kept retrying. Here the identity endpoint answers, and refuses every token.
        using var identity = new RefusingIdentityEndpoint();
        var nowhere = $"https://127.0.0.1:{Processes.FreePort()}/";
        using var host = HostProcess.Start(["--urls", "http://127.0.0.1:0", "--app", TestHost.AppFolder], new Dictionary<string, string>
        {
            ["AzureWebJobsStorage__queueServiceUri"] = nowhere,
            ["AzureWebJobsStorage__blobServiceUri"] = nowhere,
            ["AzureWebJobsStorage__credential"] = "managedidentity",
            // Where ManagedIdentityCredential asks for tokens on App Service; here, the refusing endpoint.
            ["IDENTITY_ENDPOINT"] = identity.Address,
            ["IDENTITY_HEADER"] = "probe",
            ["WorkQueue"] = "work-identity",
            ["TickSchedule"] = "0 0 0 1 1 *",
        });
        string[] waiting = ["creating the queues of Work", "creating the queues of Bytes", "creating the listener lock of Tick", "creating the listener lock of OnStartup"];
        await Eventually.WaitAsync(() => Task.FromResult(host.HasExited || host.Output.Any(l => l.Contains("A trigger stopped"))
                                                         || waiting.All(w => host.Output.Any(l => l.Contains(w)))),
            TimeSpan.FromMinutes(3), "every trigger to meet the refused token");

        Assert.False(host.HasExited, host.Tail());
        Assert.DoesNotContain(host.Output, l => l.Contains("A trigger stopped") || l.Contains("crit:"));
        foreach (var w in waiting)
        {
            // One line per episode, saying what is wrong, without a stack trace.
            var line = Assert.Single(host.Output, l => l.Contains(w));
            Assert.Contains("No token for storage", line);
            Assert.DoesNotContain("   at ", line);
        }
        // Still retried after the failure was logged: the identity is asked again (back-off starts at 1 s).
        var asked = identity.Requests;
        await Eventually.WaitAsync(() => Task.FromResult(identity.Requests > asked), TimeSpan.FromMinutes(2), "another token request");
        Assert.All(waiting, w => Assert.Single(host.Output, l => l.Contains(w)));
    }

    [Fact]
    public void Credential_failures_count_as_storage_failures_and_are_described_in_one_line()
    {
        var unavailable = new Azure.Identity.CredentialUnavailableException("ManagedIdentityCredential authentication unavailable. No response received from the managed identity endpoint.\nmore");
        var failed = new Azure.Identity.AuthenticationFailedException("ManagedIdentityCredential authentication failed: no identity\nmore");
        Assert.True(Storage.StorageRetry.IsStorageFailure(unavailable, CancellationToken.None));
        Assert.True(Storage.StorageRetry.IsStorageFailure(failed, CancellationToken.None));
        Assert.Equal("No token for storage (ManagedIdentityCredential authentication failed: no identity): check the storage connection's identity (__credential, __clientId) and this machine's managed identity",
            Storage.StorageRetry.Describe(failed));
        Assert.StartsWith("Storage refused this host's credentials (403 AuthorizationPermissionMismatch)",
            Storage.StorageRetry.Describe(new Azure.RequestFailedException(403, "This request is not authorized.\nRequestId: 1", "AuthorizationPermissionMismatch", null)));
        Assert.Equal("Storage did not answer (Connection refused)", Storage.StorageRetry.Describe(new HttpRequestException("Connection refused\nmore")));
    }

    /// <summary>A managed identity endpoint (App Service's protocol) that refuses every token at once, counting the requests.</summary>
    private sealed class RefusingIdentityEndpoint : IDisposable
    {
        private readonly HttpListener _listener = new();
        private int _requests;

        public RefusingIdentityEndpoint()
        {
            var port = Processes.FreePort();
            Address = $"http://127.0.0.1:{port}/token";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public string Address { get; }

        public int Requests => Volatile.Read(ref _requests);

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
                Interlocked.Increment(ref _requests);
                var body = Encoding.UTF8.GetBytes("""{"error":"invalid_request","error_description":"No managed identity is assigned to this machine."}""");
                context.Response.StatusCode = 400;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }

        public void Dispose() => _listener.Close();
    }
}
