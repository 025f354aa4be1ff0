using System.Diagnostics;
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
        var (code, output, errors) = await RunHostAsync(["--urls", address, "--app", TestHost.AppFolder],
            new Dictionary<string, string> { ["AzureWebJobsStorage"] = AzuriteServer.ConnectionStringFor(Processes.FreePort(), Processes.FreePort(), Processes.FreePort()) });

        Assert.True(code == 2, $"exit code {code}\n{errors}\n{output}");
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains(address, line);
        Assert.Contains("--urls", line);
        Assert.DoesNotContain("Unhandled exception", output + errors);
        Assert.DoesNotContain("   at ", output + errors); // no stack trace, in the log either
    }

    /// <summary>Runs the built host with <paramref name="arguments"/> until it exits on its own (within the test deadline).</summary>
    private static async Task<(int Code, string Output, string Errors)> RunHostAsync(string[] arguments, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(HostCommand.HostDirectory()!, "CrmMetrics.LocalHost.dll"));
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        using var host = Process.Start(info)!;
        var output = host.StandardOutput.ReadToEndAsync();
        var errors = host.StandardError.ReadToEndAsync();
        try
        {
            await host.WaitForExitAsync().WaitAsync(TestHost.Deadline);
        }
        finally
        {
            if (!host.HasExited) host.Kill(entireProcessTree: true);
        }
        return (host.ExitCode, await output, await errors);
    }
}
