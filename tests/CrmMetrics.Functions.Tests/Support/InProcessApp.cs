using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Account;
using CrmMetrics.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CrmMetrics.Functions.Tests.Support;

/// <summary>
/// The app's services in the test's own process, as the worker registers them, over a real Azurite
/// (Gregorian calendar, UTC unless <c>zone</c> names another), with storage initialised, its log lines kept in <c>logs</c> when given: for tests
/// that call the map step's parts directly.
/// </summary>
public static class InProcessApp
{
    public static Task<ServiceProvider> StartAsync(AzuriteFixture azurite, LogCapture? logs = null, string zone = "UTC") =>
        StartAsync(azurite.ConnectionString, logs, zone);

    /// <summary>The same over the storage of <paramref name="connectionString"/>, such as an <see cref="AppFixture"/>'s, beside the app it runs.</summary>
    public static async Task<ServiceProvider> StartAsync(string connectionString, LogCapture? logs = null, string zone = "UTC")
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connectionString,
            ["CrmMetrics:Calendar"] = "gregorian",
            ["CrmMetrics:TimeZone"] = zone,
        }).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging(b => { if (logs is not null) b.AddProvider(logs); })
            .AddCrmMetrics(configuration)
            .BuildServiceProvider();
        await services.GetRequiredService<StorageAccount>().InitializeAsync(default);
        return services;
    }
}
