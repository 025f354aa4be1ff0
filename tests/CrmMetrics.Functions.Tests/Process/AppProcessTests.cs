using System.Net;
using System.Net.Http.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Process;

/// <summary>The app as an operator starts it: the local host's process with the real worker, settings from environment variables (<c>__</c> for <c>:</c>).</summary>
public class AppProcessTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Started_with_urls_and_environment_settings_it_serves_the_contract()
    {
        await using var app = await AppProcessHandle.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CrmMetrics__Keys__crm"] = "writer:" + TestKeys.Hash("process-writer"),
        });
        var events = JsonContent.Create(new[] { new { id = "p-1", type = "customer.acquired", time = "2026-08-01T10:00:00Z", customerId = "C-1" } });
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.PostAsync("/api/events", events)).StatusCode);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = events };
        request.Headers.Add("x-api-key", "process-writer");
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.SendAsync(request)).StatusCode);
        Assert.Contains(app.Output, l => l.Contains("IngestEvents: [POST]"));
        Assert.Contains(app.Output, l => l.Contains("AggregateDay: queueTrigger (kpi-days)"));
    }

    [Fact]
    public async Task A_bad_setting_keeps_the_worker_from_starting_with_a_message_naming_it_and_the_host_answers_503()
    {
        await using var app = await AppProcessHandle.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CrmMetrics__Calendar"] = "lunar",
            ["CrmMetrics__Keys__bad"] = "superuser:abc",
        }, waitHealthy: false);
        await Eventually.WaitAsync(() => Task.FromResult(app.Output.Any(l => l.Contains("exited with code 2"))), TimeSpan.FromSeconds(60), "the worker to stop on its settings");
        Assert.Contains(app.Output, l => l.Contains("CrmMetrics:Calendar"));
        Assert.Contains(app.Output, l => l.Contains("CrmMetrics:Keys:bad"));
        var response = await app.Client.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(app.HasExited);
    }
}
