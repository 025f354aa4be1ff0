using Azure.Data.Tables;
using Azure.Storage.Queues;
using CrmMetrics.LocalHost.Storage;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>The Azurite the host starts when no storage is configured keeps what it acknowledged.</summary>
public sealed class AzuriteServerTests
{
    [Fact]
    public async Task What_a_persisted_azurite_acknowledged_just_before_it_stopped_is_there_when_it_starts_again()
    {
        // Azurite saves its tables and queues to disk every 5 seconds: a kill right after a write loses it.
        var folder = Directory.CreateTempSubdirectory("lh-azurite-");
        try
        {
            var ports = AzuriteServer.FreePorts();
            var first = await AzuriteServer.StartAsync(folder.FullName, ports: ports);
            var table = new TableClient(first.ConnectionString, "Kept");
            await table.CreateIfNotExistsAsync();
            var queue = new QueueClient(first.ConnectionString, "kept");
            await queue.CreateIfNotExistsAsync();
            await table.AddEntityAsync(new TableEntity("p", "written-last") { ["Value"] = 42 });
            await queue.SendMessageAsync("sent last");
            await first.DisposeAsync();

            await using var second = await AzuriteServer.StartAsync(folder.FullName, ports: ports);
            var entity = await new TableClient(second.ConnectionString, "Kept").GetEntityIfExistsAsync<TableEntity>("p", "written-last");
            Assert.True(entity.HasValue, "the entity written just before the stop was lost");
            Assert.Equal(42, entity.Value!.GetInt32("Value"));
            var message = (await new QueueClient(second.ConnectionString, "kept").ReceiveMessageAsync()).Value;
            Assert.Equal("sent last", message?.Body.ToString());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
