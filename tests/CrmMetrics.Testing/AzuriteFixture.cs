using Xunit;
using CrmMetrics.Storage.Account;
using CrmMetrics.LocalHost.Storage;

namespace CrmMetrics.Testing;

/// <summary>A real Azurite on free ports with in-memory persistence, for one test class or collection.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteServer? _server;

    public string ConnectionString => _server?.ConnectionString ?? throw new InvalidOperationException("Azurite has not started");

    public AzuriteServer Server => _server ?? throw new InvalidOperationException("Azurite has not started");

    public async Task InitializeAsync()
    {
        _server = await AzuriteServer.StartAsync(dataFolder: null);
    }

    /// <summary>A storage account with every table, queue and container created.</summary>
    public async Task<StorageAccount> AccountAsync()
    {
        var account = StorageAccount.FromConnectionString(ConnectionString);
        await account.InitializeAsync(CancellationToken.None);
        return account;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
