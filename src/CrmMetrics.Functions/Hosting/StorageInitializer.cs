using CrmMetrics.Storage.Account;

namespace CrmMetrics.Functions.Hosting;

/// <summary>Creates the tables, queues and containers before anything else starts (idempotent).</summary>
public sealed class StorageInitializer(StorageAccount account, ILogger<StorageInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await account.InitializeAsync(cancellationToken);
        logger.LogInformation("Storage ready: {Account}", account.Description);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
