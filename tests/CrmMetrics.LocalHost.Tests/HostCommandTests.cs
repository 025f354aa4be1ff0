using System.Net;
using System.Net.Sockets;
using CrmMetrics.LocalHost.Storage;
using CrmMetrics.Testing;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>The host as an operator starts it: <c>dotnet CrmMetrics.LocalHost.dll …</c>, its exit code and what it prints.</summary>
public sealed class HostCommandTests
{
    [Fact]
    public async Task An_address_already_in_use_is_one_line_naming_it_and_exit_code_2()
    {
        // Found by probing: the host crashed with an unhandled IOException, ~30 lines of stack trace and exit code 134.
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var address = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";
        // Storage is configured (nothing listens there) so that the host starts no Azurite: it fails before it uses storage.
        using var host = HostProcess.Start(["--urls", address, "--app", TestHost.AppFolder],
            new Dictionary<string, string> { ["AzureWebJobsStorage"] = AzuriteServer.ConnectionStringFor(Processes.FreePort(), Processes.FreePort(), Processes.FreePort()) });
        var code = await host.WaitForExitAsync(TestHost.Deadline);

        Assert.True(code == 2, $"exit code {code}\n{host.Tail()}");
        var line = Assert.Single(host.Errors, l => l.Trim().Length > 0);
        Assert.Contains(address, line);
        Assert.Contains("--urls", line);
        Assert.DoesNotContain(host.Output.Concat(host.Errors), l => l.Contains("Unhandled exception"));
        Assert.DoesNotContain(host.Output.Concat(host.Errors), l => l.Contains("   at ")); // no stack trace, in the log either
    }
}
