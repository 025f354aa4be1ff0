using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Account;
using CrmMetrics.Testing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Support;

/// <summary>
/// The real app on a real Kestrel (free loopback port) against its own Azurite, in local mode with
/// the trigger runtime running. Subclasses add settings.
/// </summary>
public class AppFixture : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite = new();
    private CrmMetricsApp.Built? _built;

    public HttpClient Client { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public IServiceProvider Services => _built!.App.Services;
    public StorageAccount Storage => Services.GetRequiredService<StorageAccount>();
    public string StorageConnectionString => _azurite.ConnectionString;

    protected virtual IEnumerable<KeyValuePair<string, string?>> Settings() => [];

    public async Task InitializeAsync()
    {
        await _azurite.InitializeAsync();
        var settings = new Dictionary<string, string?>(TestKeys.Settings())
        {
            ["AzureWebJobsStorage"] = _azurite.ConnectionString,
            ["urls"] = "http://127.0.0.1:0",
            // Timers fire only when a test asks for them, so runs and versions are the tests' own.
            ["KpiSchedule"] = "0 0 0 1 1 *",
            ["AlertDigestSchedule"] = "0 0 0 1 1 *",
        };
        foreach (var (k, v) in Settings()) settings[k] = v;
        _built = await CrmMetricsApp.BuildAsync([], settings);
        await _built.App.StartAsync();
        var address = _built.App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        await AfterStartAsync();
    }

    /// <summary>Work a fixture does once the app is up (load data, run computations).</summary>
    protected virtual Task AfterStartAsync() => Task.CompletedTask;

    public HttpRequestMessage Request(HttpMethod method, string path, string? key, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (key is not null) request.Headers.Add("x-api-key", key);
        return request;
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key, HttpContent? content = null) =>
        await Client.SendAsync(Request(method, path, key, content));

    public Task<HttpResponseMessage> PostEventsAsync(object events, string key = TestKeys.Writer) =>
        SendAsync(HttpMethod.Post, "/api/events", key, JsonContent.Create(events));

    public Task<HttpResponseMessage> PostNdjsonAsync(string ndjson, string key = TestKeys.Writer) =>
        SendAsync(HttpMethod.Post, "/api/events", key, new StringContent(ndjson, new MediaTypeHeaderValue("application/x-ndjson")));

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_built is not null)
        {
            await _built.App.StopAsync();
            await _built.DisposeAsync();
        }
        await _azurite.DisposeAsync();
    }
}
