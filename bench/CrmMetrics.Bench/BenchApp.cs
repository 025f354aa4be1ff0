using System.Text.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Storage.Account;
using CrmMetrics.LocalHost.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CrmMetrics.Bench;

/// <summary>The app's services in this process (no HTTP, no triggers) over its own Azurite, for engine benchmarks.</summary>
public sealed class BenchApp : IAsyncDisposable
{
    private BenchApp(AzuriteServer azurite, ServiceProvider services)
    {
        Azurite = azurite;
        Services = services;
    }

    public AzuriteServer Azurite { get; }
    public ServiceProvider Services { get; }
    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public static async Task<BenchApp> StartAsync()
    {
        var azurite = await AzuriteServer.StartAsync(dataFolder: null);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CrmMetrics:Grains"] = "month",
        }).Build();
        // The function app's own registrations, as its worker makes them.
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .AddCrmMetrics(configuration)
            .BuildServiceProvider();
        await services.GetRequiredService<StorageAccount>().InitializeAsync(default);
        return new BenchApp(azurite, services);
    }

    /// <summary>Validates events into facts, as ingestion would.</summary>
    public List<Fact> Facts(IEnumerable<JsonObject> events)
    {
        var validator = Get<FactValidator>();
        var facts = new List<Fact>();
        foreach (var e in events)
        {
            using var doc = JsonDocument.Parse(e.ToJsonString());
            if (validator.TryValidate(doc.RootElement, out var fact, out _)) facts.Add(fact!);
        }
        return facts;
    }

    /// <summary>Stores facts through the ingestion path (dedupe, dirty days, customer and case state), in requests of 5,000.</summary>
    public async Task IngestAsync(IReadOnlyList<Fact> facts)
    {
        var ingestion = Get<FactIngestion>();
        await Parallel.ForEachAsync(facts.Chunk(5000), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (chunk, ct) => await ingestion.StoreAsync(chunk, ct));
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}
