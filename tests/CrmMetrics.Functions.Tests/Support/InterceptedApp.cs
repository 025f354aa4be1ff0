using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Facts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Support;

/// <summary>The process was killed: no storage request after this point is sent.</summary>
public sealed class ProcessKilledException() : Exception("the process was killed here");

/// <summary>
/// Sits in front of every storage request of one app instance: runs a hook before a request is sent
/// (to interleave another instance's step there, or to kill the process before it), and one after it
/// was answered (to kill the process right after it). Nothing of storage is mocked: requests go to Azurite.
/// </summary>
public sealed class Interceptor : HttpPipelinePolicy
{
    public Func<HttpMessage, ValueTask>? Before { get; set; }
    public Action<HttpMessage>? After { get; set; }
    public volatile bool Killed;

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (Killed) throw new ProcessKilledException();
        if (Before is { } before) await before(message);
        if (Killed) throw new ProcessKilledException();
        await ProcessNextAsync(message, pipeline);
        After?.Invoke(message);
    }

    /// <summary>Whether the request's path holds <paramref name="pathPart"/> (a container, or a table as <c>/Name(</c>).</summary>
    public static bool Is(HttpMessage m, string pathPart) => m.Request.Uri.Path.Contains(pathPart, StringComparison.Ordinal);
}

/// <summary>
/// The app's services in this process, as <see cref="InProcessApp"/> starts them, but every storage
/// client through an <see cref="Interceptor"/>, and the fact store's owner grace set when given (a
/// claim left by a killed instance is then taken over without waiting the 30 s a live write may take).
/// </summary>
public static class InterceptedApp
{
    public static async Task<ServiceProvider> StartAsync(string connectionString, Interceptor interceptor, TimeSpan? ownerGrace = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connectionString,
            ["CrmMetrics:Calendar"] = "gregorian",
            ["CrmMetrics:TimeZone"] = "UTC",
        }).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddCrmMetrics(configuration);
        services.AddSingleton(_ => new StorageAccount(
            new TableServiceClient(connectionString, With(new TableClientOptions(), interceptor)),
            new QueueServiceClient(connectionString, With(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }, interceptor)),
            new QueueServiceClient(connectionString, With(new QueueClientOptions(), interceptor)),
            new BlobServiceClient(connectionString, With(new BlobClientOptions(), interceptor)),
            "intercepted Azurite"));
        if (ownerGrace is { } grace) services.AddSingleton(s => new FactStore(s.GetRequiredService<StorageAccount>(), grace));
        var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<StorageAccount>().InitializeAsync(default);
        return provider;
    }

    private static T With<T>(T options, Interceptor interceptor) where T : ClientOptions
    {
        StorageAccount.Configured(options);
        options.AddPolicy(interceptor, HttpPipelinePosition.PerCall);
        return options;
    }
}
