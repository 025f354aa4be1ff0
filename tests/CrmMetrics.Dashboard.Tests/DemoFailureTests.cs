using CrmMetrics.Testing;

namespace CrmMetrics.Dashboard.Tests;

/// <summary>The process's console: tests that redirect it run on their own, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessConsoleCollection
{
    public const string Name = "process console";
}

/// <summary>The demo's own steps when one fails, read from what it writes to the console.</summary>
[Collection(ProcessConsoleCollection.Name)]
public class DemoFailureTests
{
    [Fact]
    public async Task A_demo_that_fails_says_the_app_still_serves_with_its_keys_and_how_to_stop()
    {
        // Found by probing: after "The demo failed" the app went on serving without a word, and its admin key was never printed.
        var calendar = CrmMetrics.Domain.Periods.PeriodCalendar.TryCreate(null, null, out var gregorian, out _) ? gregorian! : throw new InvalidOperationException();
        var address = $"http://127.0.0.1:{Processes.FreePort()}"; // nothing listens: the first seed file fails
        var job = new CrmMetrics.Demo.DemoJob(address, "admin-key-1", new CrmMetrics.Demo.DemoComputation(calendar, TimeProvider.System), $"{address}/dashboard", "reader-key-1");
        var (succeeded, text) = await RunCapturingConsoleAsync(job);

        Assert.False(succeeded);
        Assert.Contains("The demo failed:", text);
        Assert.Contains($"The app is still running at {address}", text);
        Assert.Contains("Admin API key for this session: admin-key-1", text);
        Assert.Contains("Reader API key for this session: reader-key-1", text);
        Assert.Contains("Press Ctrl+C to stop (the demo then exits with code 1).", text);
    }

    [Fact]
    public async Task A_request_that_times_out_is_a_failure_said_not_a_crash()
    {
        // Found by probing: with storage unreachable under load a request ran past the client's timeout, and the
        // demo died of the unhandled TaskCanceledException instead of saying so and serving on.
        var calendar = CrmMetrics.Domain.Periods.PeriodCalendar.TryCreate(null, null, out var gregorian, out _) ? gregorian! : throw new InvalidOperationException();
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start(); // accepts connections, never answers
        var address = $"http://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}";
        var job = new CrmMetrics.Demo.DemoJob(address, "admin-key-1", new CrmMetrics.Demo.DemoComputation(calendar, TimeProvider.System), $"{address}/dashboard", "reader-key-1",
            requestTimeout: TimeSpan.FromMilliseconds(200));
        var (succeeded, text) = await RunCapturingConsoleAsync(job);
        Assert.False(succeeded);
        Assert.Contains("The demo failed:", text);
        Assert.Contains("Press Ctrl+C to stop", text);
    }

    /// <summary>Runs the demo's steps with the console redirected; returns whether they succeeded and what they wrote.</summary>
    private static async Task<(bool Succeeded, string Output)> RunCapturingConsoleAsync(CrmMetrics.Demo.DemoJob job)
    {
        var console = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            return (await job.RunAsync(CancellationToken.None), output.ToString());
        }
        finally
        {
            Console.SetOut(console);
        }
    }
}
