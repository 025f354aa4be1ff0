using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CrmMetrics.Functions.Tests.Invocation;

/// <summary>The app as the Functions host sees it: FUNCTIONS_CUSTOMHANDLER_PORT set, invocations POSTed to /{FunctionName}.</summary>
public class CustomHandlerProtocolTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite = new();
    private CrmMetricsApp.Built? _app;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        await _azurite.InitializeAsync();
        var port = FreePort();
        var settings = new Dictionary<string, string?>(TestKeys.Settings())
        {
            ["AzureWebJobsStorage"] = _azurite.ConnectionString,
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(),
        };
        _app = await CrmMetricsApp.BuildAsync([], settings);
        await _app.App.StartAsync();
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        if (_app is not null)
        {
            await _app.App.StopAsync();
            await _app.DisposeAsync();
        }
        await _azurite.DisposeAsync();
    }

    [Fact]
    public void Under_the_host_the_app_leaves_triggers_to_the_host()
    {
        Assert.Equal(RunMode.FunctionsHost, _app!.Mode);
        Assert.DoesNotContain(_app.App.Services.GetServices<IHostedService>(), s => s.GetType().Name == "LocalTriggerRuntime");
    }

    [Fact]
    public async Task A_queue_invocation_with_a_json_encoded_string_is_ingested_and_answered_with_outputs_logs_and_return_value()
    {
        var events = JsonSerializer.Serialize(new[]
        {
            new { id = "inv-1", type = "order", time = "2026-08-01T10:00:00Z", customerId = "C-1", data = new { amount = 5, currency = "EUR" } },
        });
        // The host JSON-encodes the message text a second time when the message is itself JSON.
        var payload = new
        {
            Data = new Dictionary<string, object> { ["message"] = JsonSerializer.Serialize(events) },
            Metadata = new Dictionary<string, object> { ["DequeueCount"] = 1, ["Id"] = "m-1", ["sys"] = new { MethodName = "IngestQueuedEvents" } },
        };
        var response = await _client.PostAsJsonAsync("/IngestQueuedEvents", payload);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(body.TryGetProperty("Outputs", out _));
        Assert.Contains("1 accepted", body.GetProperty("ReturnValue").GetString());
        Assert.NotEmpty(body.GetProperty("Logs").EnumerateArray());
        var fact = await _app!.App.Services.GetRequiredService<FactStore>().GetAsync("inv-1", DateTimeOffset.Parse("2026-08-01T10:00:00Z"), default);
        Assert.Equal(5m, fact!.Amount);
    }

    [Fact]
    public async Task Http_functions_are_served_directly_as_forwarded_requests()
    {
        var health = await _client.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var ingest = new HttpRequestMessage(HttpMethod.Post, "/api/events")
        {
            Content = JsonContent.Create(new[] { new { id = "fw-1", type = "customer.acquired", time = "2026-08-01T10:00:00Z", customerId = "C-1" } }),
        };
        ingest.Headers.Add("x-api-key", TestKeys.Writer);
        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(ingest)).StatusCode);
    }

    [Fact]
    public async Task A_payload_that_is_not_an_invocation_is_a_non_2xx_answer()
    {
        var response = await _client.PostAsync("/IngestQueuedEvents", new StringContent("not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
