using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Samples;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Process;

/// <summary>The app killed while it finalises and raises alerts, then started again: each alert is delivered exactly once.</summary>
public class AlertCrashTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Killed_during_finalisation_and_restarted_it_delivers_each_alert_once()
    {
        var environment = AppProcessHandle.AdminEnvironment(azurite.ConnectionString);
        var events = SyntheticCrm.Generate(new SyntheticCrmOptions { From = new DateOnly(2026, 6, 1), To = new DateOnly(2026, 8, 31), Customers = 120, Seed = 41 }).ToList();
        var months = new[] { "2026-06", "2026-07", "2026-08" };
        var reference = new ReferenceIndicators(events);
        var csat = months.Select(m => reference.Month(2026, int.Parse(m[5..]))[("cx.csat", "org")]!.Value).ToList();
        var runIds = new List<string>();

        await using var first = await AppProcessHandle.StartAsync(environment, true, "--queue-lease", "00:00:10");
        var alertLogged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        first.Line += line => { if (line.Contains("Alert crm-", StringComparison.Ordinal)) alertLogged.TrySetResult(); };
        async Task<JsonElement> Send(AppProcessHandle app, HttpMethod method, string path, object? body = null)
        {
            var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.Add("x-api-key", TestKeys.Admin);
            var response = await app.Client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {text}");
            return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        }
        foreach (var chunk in events.Chunk(2000))
            await Send(first, HttpMethod.Post, "/api/events", new JsonArray(chunk.Select(e => (JsonNode)e.DeepClone()).ToArray()));
        await Send(first, HttpMethod.Put, "/api/alert-rules/csat", new { kind = "threshold", indicator = "cx.csat", below = csat.Max() + 1 });
        foreach (var month in months) runIds.Add((await Send(first, HttpMethod.Post, "/api/runs", new { grain = "month", period = month })).GetProperty("runId").GetString()!);

        // Crash as soon as an alert has been claimed in the ledger, before the runtime delivers it.
        try
        {
            await alertLogged.Task.WaitAsync(TimeSpan.FromMinutes(4));
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException("No alert was raised; the app said:\n" + string.Join("\n", first.Output.TakeLast(30)));
        }
        first.Kill();

        await using var second = await AppProcessHandle.StartAsync(environment, true, "--queue-lease", "00:00:10");
        foreach (var runId in runIds)
        {
            try
            {
                await Eventually.WaitAsync(async () => (await Send(second, HttpMethod.Get, $"/api/runs/{runId}")).GetProperty("state").GetString() == "succeeded",
                    TimeSpan.FromMinutes(3), $"run {runId} to succeed after the restart");
            }
            catch (TimeoutException e)
            {
                throw new Xunit.Sdk.XunitException($"{e.Message}\nrun: {await Send(second, HttpMethod.Get, $"/api/runs/{runId}")}\nthe app said:\n" + string.Join("\n", second.Output.TakeLast(40)));
            }
        }
        var messages = (await new Azure.Storage.Queues.QueueClient(azurite.ConnectionString, "executive-alerts").PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Select(e => (Id: e.GetProperty("id").GetString(), Period: e.GetProperty("data").GetProperty("period").GetString())).ToList();
        // One alert per month, none lost, none twice: a restarted attempt finds what its dead one enqueued.
        if (!months.SequenceEqual(messages.Select(m => m.Period).Order()))
            throw new Xunit.Sdk.XunitException($"Alerts for {string.Join(", ", messages.Select(m => m.Period).Order())}, expected {string.Join(", ", months)}.\n" +
                                               "the first app said:\n" + string.Join("\n", first.Output.Where(l => l.Contains("Alert", StringComparison.Ordinal) || l.Contains("Finalis", StringComparison.Ordinal)).TakeLast(30)) +
                                               "\nthe second app said:\n" + string.Join("\n", second.Output.TakeLast(60)));
        Assert.All(messages.GroupBy(m => m.Period), g => Assert.Single(g.Select(m => m.Id).Distinct()));
    }
}
