using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Samples;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Reliability;

/// <summary>
/// SIGTERM in the middle of a run (a scale-in, a deployment): the app stops within its grace period,
/// handing unfinished messages back; started again, the run completes with the snapshots an
/// uninterrupted run gives (checked against the independent reference).
/// </summary>
public class GracefulShutdownTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Stopped_with_sigterm_mid_run_and_started_again_the_run_completes_with_the_right_snapshots()
    {
        var environment = AppProcessHandle.AdminEnvironment(azurite.ConnectionString);
        var events = SyntheticCrm.Generate(new SyntheticCrmOptions { From = new DateOnly(2026, 7, 1), To = new DateOnly(2026, 7, 31), Customers = 150, Seed = 77 }).ToList();

        var first = await AppProcessHandle.StartAsync(environment);
        first.Client.DefaultRequestHeaders.Add("x-api-key", TestKeys.Admin);
        foreach (var chunk in events.Chunk(2000))
            (await first.Client.PostAsJsonAsync("/api/events", new JsonArray(chunk.Select(e => (JsonNode)e.DeepClone()).ToArray()))).EnsureSuccessStatusCode();
        var runId = (await (await first.Client.PostAsJsonAsync("/api/runs", new { grain = "month", period = "2026-07" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString();
        // Mid-run: some days aggregated, not all.
        await Eventually.WaitAsync(async () => (await first.Client.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}")).GetProperty("daysAggregated").GetInt32() > 0,
            TimeSpan.FromMinutes(2), "the run to be under way");
        await first.TerminateAsync(TimeSpan.FromSeconds(60));
        Assert.Contains(first.Output, l => l.Contains("Stopping"));
        await first.DisposeAsync();

        await using var second = await AppProcessHandle.StartAsync(environment);
        second.Client.DefaultRequestHeaders.Add("x-api-key", TestKeys.Admin);
        await Eventually.WaitAsync(async () => (await second.Client.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}")).GetProperty("state").GetString() == "succeeded",
            TimeSpan.FromMinutes(3), $"run {runId} to succeed after the restart");

        var rows = (await second.Client.GetFromJsonAsync<JsonElement>("/api/snapshots?grain=month&period=2026-07&scope=org&pageSize=1000")).GetProperty("items").EnumerateArray()
            .ToDictionary(r => r.GetProperty("indicator").GetString()!, ApiDriver.Value);
        var expected = new ReferenceIndicators(events).Month(2026, 7).Where(kv => kv.Key.Item2 == "org").ToList();
        Assert.NotEmpty(expected);
        foreach (var ((indicator, _), value) in expected)
        {
            var tolerance = indicator.Contains("resolution-hours") ? 0.01 : 1e-9;
            Assert.True(rows.TryGetValue(indicator, out var actual), $"{indicator} missing");
            Assert.True(value is null == actual is null && (value is null || Math.Abs(value.Value - actual!.Value) <= tolerance * Math.Max(1, Math.Abs(value.Value))),
                $"{indicator}: expected {value}, got {actual}");
        }
    }
}

/// <summary>
/// Ctrl+C in a terminal and a service manager's stop signal the host and its worker at once. An Azurite
/// of its own: its facts share ids with the other class's generated facts.
/// </summary>
public class ProcessGroupSignalTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task A_signal_to_the_whole_process_group_mid_run_stops_the_app_once_without_restarting_its_worker(string signal)
    {
        // Ctrl+C in a terminal (SIGINT) and a service manager's stop (SIGTERM) reach the host and its worker at once.
        var environment = AppProcessHandle.AdminEnvironment(azurite.ConnectionString);
        // Facts of its own per signal: the other case's would all be duplicates here, which mark no day, and the run would have nothing to do.
        var events = SyntheticCrm.Generate(new SyntheticCrmOptions { From = new DateOnly(2026, 5, 1), To = new DateOnly(2026, 5, 31), Customers = 150, Seed = 78, IdPrefix = $"{signal}-" }).ToList();
        await using var app = await AppProcessHandle.StartAsync(environment, waitHealthy: true, ownProcessGroup: true);
        app.Client.DefaultRequestHeaders.Add("x-api-key", TestKeys.Admin);
        foreach (var chunk in events.Chunk(2000))
            (await app.Client.PostAsJsonAsync("/api/events", new JsonArray(chunk.Select(e => (JsonNode)e.DeepClone()).ToArray()))).EnsureSuccessStatusCode();
        var runId = (await (await app.Client.PostAsJsonAsync("/api/runs", new { grain = "month", period = "2026-05" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString();
        await Eventually.WaitAsync(async () => (await app.Client.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}")).GetProperty("daysAggregated").GetInt32() > 0,
            TimeSpan.FromMinutes(2), "the run to be under way");

        await app.SignalGroupAsync(signal, TimeSpan.FromSeconds(60));
        var output = string.Join("\n", app.Output);
        Assert.Contains("Stopping", output);
        Assert.DoesNotContain("restarting it", output);
        Assert.DoesNotContain("Starting a new worker", output);
        Assert.DoesNotContain("stream broke", output);
    }
}
