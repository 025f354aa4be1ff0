using Azure.Data.Tables;
using CrmMetrics.Testing;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>The Azurite a host starts for itself, when no storage is configured.</summary>
public sealed class HostAzuriteTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task An_azurite_that_dies_under_the_host_is_started_again_on_its_ports_with_its_saved_data()
    {
        var folder = Directory.CreateTempSubdirectory("lh-own-azurite-");
        try
        {
            // No AzureWebJobsStorage: the host starts an Azurite of its own on this folder.
            await using var host = await TestHost.StartAsync(new TestQueues(azurite.ConnectionString),
                new Dictionary<string, string?> { ["AzureWebJobsStorage"] = null }, o => new LocalHostOptions
                {
                    AppDirectory = o.AppDirectory, Urls = o.Urls, Settings = o.Settings, WorkerGracePeriod = o.WorkerGracePeriod, AzuriteDataFolder = folder.FullName,
                });
            var connection = host.Host.AzuriteConnectionString!;
            var tables = new TableServiceClient(connection);
            await tables.CreateTableIfNotExistsAsync("kept");
            var first = host.Host.AzuriteProcessId!.Value;
            // Azurite saves to disk every few seconds: wait until the table is on disk before the crash.
            await Eventually.WaitAsync(() => Task.FromResult(Directory.GetFiles(folder.FullName, "__azurite_db_table__*.json").Any(f => ReadShared(f).Contains("kept"))),
                TestHost.Deadline, "the table to be saved");

            System.Diagnostics.Process.GetProcessById(first).Kill();
            await Eventually.WaitAsync(() => Task.FromResult(host.Logs.Contains("Azurite is listening again")), TestHost.Deadline, "Azurite to be started again");
            Assert.True(host.Logs.Contains($"Azurite (process {first}) exited"), host.Logs.Tail());
            Assert.NotEqual(first, host.Host.AzuriteProcessId);
            Assert.Equal(connection, host.Host.AzuriteConnectionString);
            Assert.Contains(tables.Query(t => t.Name == "kept"), t => t.Name == "kept");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static string ReadShared(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return new StreamReader(stream).ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }
}
