using System.Net;
using System.Text.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.LocalHost;
using CrmMetrics.LocalHost.Storage;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Reliability;

/// <summary>
/// Started while its storage does not answer (an account restarting, Azurite a moment late), the app
/// starts anyway: health says storage is unreachable, storage is retried with back-off, and once it
/// answers the triggers start and the app becomes healthy without a restart.
/// </summary>
public class StorageOutageStartTests
{
    [Fact]
    public async Task Started_before_its_storage_it_answers_503_naming_storage_then_recovers_on_its_own()
    {
        var ports = AzuriteServer.FreePorts();
        var logs = new LogCapture();
        await using var host = await AppFixture.StartHostAsync(AzuriteServer.ConnectionStringFor(ports.Blob, ports.Queue, ports.Table), [], logs);
        using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromMinutes(1) };

        var health = await client.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.NotNull(health.Headers.RetryAfter);   // found by probing: the only 503 without one
        var body = JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("unreachable", body.GetProperty("storage").GetString());
        Assert.Contains("Storage is unreachable", body.GetProperty("detail").GetString());
        // A request that needs storage is a 503 to retry, not a 500.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/goals"))
        {
            request.Headers.Add("x-api-key", TestKeys.Reader);
            using var answer = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
            // Said for a read as a read needs it: when to retry, and nothing about resending events.
            Assert.NotNull(answer.Headers.RetryAfter);
            Assert.DoesNotContain("events", JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString());
        }

        await using var azurite = await AzuriteServer.StartAsync(dataFolder: null, ports: ports);
        await Eventually.WaitAsync(async () => (await client.GetAsync("/api/health")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(90), "the app to become healthy once storage answers");

        // The triggers run: a run goes through its queues.
        client.DefaultRequestHeaders.Add("x-api-key", TestKeys.Admin);
        var fixture = new AppClient(client);
        Assert.Equal(HttpStatusCode.Accepted, (await fixture.PostJsonAsync("/api/events", new[] { new { id = "o-1", type = "order", time = "2026-08-03T10:00:00Z", customerId = "C-1", data = new { amount = 12.5, currency = "EUR" } } })).StatusCode);
        var run = JsonDocument.Parse(await (await fixture.PostJsonAsync("/api/runs", new { grain = "month", period = "2026-08" })).Content.ReadAsStringAsync()).RootElement.GetProperty("runId").GetString();
        await Eventually.WaitAsync(async () => JsonDocument.Parse(await client.GetStringAsync($"/api/runs/{run}")).RootElement.GetProperty("state").GetString() == "succeeded",
            TimeSpan.FromMinutes(2), "the run to succeed after the outage");
        // One log line per attempt window, not one per request or poll.
        Assert.True(logs.Lines.Count(l => l.Contains("Storage did not answer")) < 40, logs.Tail());
    }

    private sealed class AppClient(HttpClient client)
    {
        public Task<HttpResponseMessage> PostJsonAsync(string path, object body) => client.PostAsync(path, System.Net.Http.Json.JsonContent.Create(body));
    }
}
