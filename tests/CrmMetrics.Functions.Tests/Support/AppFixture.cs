using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CrmMetrics.LocalHost;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Alerts;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Snapshots;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Support;

/// <summary>
/// The real function app as Azure runs it: the isolated worker (its own process) under the local
/// Functions host, on a free loopback port, against its own Azurite. Tests reach it over HTTP and
/// queues as clients do, and read storage through the same stores the app uses. Subclasses add settings.
/// </summary>
public class AppFixture : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite = new();
    private LocalFunctionsHost? _host;
    private ServiceProvider? _stores;

    public HttpClient Client { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public LocalFunctionsHost Host => _host!;
    public LogCapture Logs { get; } = new();

    /// <summary>The stores over the app's storage, to look at what the app wrote.</summary>
    public IServiceProvider Services => _stores!;
    public StorageAccount Storage => Services.GetRequiredService<StorageAccount>();
    public string StorageConnectionString => _azurite.ConnectionString;

    protected virtual IEnumerable<KeyValuePair<string, string?>> Settings() => [];

    /// <summary>A local host serving this repository's app on a free port, on <paramref name="storage"/>, with <see cref="AppSettings"/>.</summary>
    public static LocalHostOptions HostOptions(string storage, IEnumerable<KeyValuePair<string, string?>> extra) => new()
    {
        AppDirectory = FunctionApp.Folder, Urls = ["http://127.0.0.1:0"], Settings = AppSettings(storage, extra), AzuriteDataFolder = null,
    };

    /// <summary>Starts a host as <see cref="HostOptions"/> describes and waits, up to two minutes, until its worker is ready.</summary>
    public static async Task<LocalFunctionsHost> StartHostAsync(string storage, IEnumerable<KeyValuePair<string, string?>> extra, LogCapture? logs = null)
    {
        var host = await LocalFunctionsHost.StartAsync(HostOptions(storage, extra), logs ?? new LogCapture());
        try
        {
            await host.Ready.WaitAsync(TimeSpan.FromMinutes(2));
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>The app's settings for a host against <paramref name="storage"/>: test keys, timers quiet unless a test sets them.</summary>
    public static Dictionary<string, string?> AppSettings(string storage, IEnumerable<KeyValuePair<string, string?>> extra)
    {
        var settings = new Dictionary<string, string?>(TestKeys.Settings())
        {
            ["AzureWebJobsStorage"] = storage,
            // Timers fire only when a test asks for them, so runs and versions are the tests' own.
            ["KpiSchedule"] = "0 0 0 1 1 *",
            ["AlertDigestSchedule"] = "0 0 0 1 1 *",
            // Tests drive the app harder than one client should; the limits have tests of their own.
            ["CrmMetrics:RateLimits:IngestPerSecond"] = "0",
            ["CrmMetrics:RateLimits:ReadsPerSecond"] = "0",
        };
        foreach (var (k, v) in extra) settings[k] = v;
        return settings;
    }

    public async Task InitializeAsync()
    {
        await _azurite.InitializeAsync();
        _host = await LocalFunctionsHost.StartAsync(HostOptions(_azurite.ConnectionString, Settings()), Logs);
        try
        {
            await _host.Ready.WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"The app did not start ({e.Message}):\n{Logs.Tail()}");
        }
        BaseAddress = _host.BaseAddress;
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        _stores = StoreServices(_azurite.ConnectionString);
        // The app creates its tables, queues and containers in the background once it runs; a test that goes
        // to storage directly may come first (a fresh-clone CI run did), so they are made sure of here, as the app makes them.
        await Storage.InitializeAsync(CancellationToken.None);
        await AfterStartAsync();
    }

    /// <summary>The app's stores over a storage account, built the way the app builds them.</summary>
    public static ServiceProvider StoreServices(string connectionString)
    {
        var services = new ServiceCollection();
        services.AddSingleton(StorageAccount.FromConnectionString(connectionString));
        services.AddSingleton<FactStore>();
        services.AddSingleton<DirtyDayStore>();
        services.AddSingleton<RejectedEventStore>();
        services.AddSingleton<RunStore>();
        services.AddSingleton<SnapshotStore>();
        services.AddSingleton<AlertLedger>();
        services.AddSingleton<StalePeriodStore>();
        return services.BuildServiceProvider();
    }

    /// <summary>The first 32 messages on <c>executive-alerts</c>, the local stand-in for the alerts topic, as the app sent them.</summary>
    public async Task<List<JsonElement>> QueueAsync() =>
        (await Storage.RawQueues.GetQueueClient("executive-alerts").PeekMessagesAsync(32)).Value.Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement.Clone()).ToList();

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
        if (_host is not null) await _host.DisposeAsync();
        if (_stores is not null) await _stores.DisposeAsync();
        await _azurite.DisposeAsync();
    }
}

/// <summary>The function app under test: this repository's app, built in the tests' configuration.</summary>
public static class FunctionApp
{
    public static string Folder => HostCommand.DefaultApp() ?? throw new InvalidOperationException("The local host was built without a default function app.");

    /// <summary>The HTTP functions the app declares in its functions.metadata: name, route, methods.</summary>
    public static IReadOnlyList<(string Name, string Route, IReadOnlyList<string> Methods)> HttpFunctions()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "functions.metadata")));
        return doc.RootElement.EnumerateArray()
            .SelectMany(f => f.GetProperty("bindings").EnumerateArray().Where(b => b.GetProperty("type").GetString() == "httpTrigger")
                .Select(b => (f.GetProperty("name").GetString()!, b.GetProperty("route").GetString()!,
                    (IReadOnlyList<string>)b.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).ToList())))
            .ToList();
    }
}
