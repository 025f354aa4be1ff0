using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CrmMetrics.Testing;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>What the worker is given: local.settings.json Values, the environment, overrides; and storage when none is configured.</summary>
public sealed class SettingsAndStorageTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Local_settings_values_reach_the_worker_and_overrides_win_over_them()
    {
        var folder = Directory.CreateTempSubdirectory("lh-settings-");
        try
        {
            var path = Path.Combine(folder.FullName, "local.settings.json");
            await File.WriteAllTextAsync(path, """{ "IsEncrypted": false, "Values": { "FromFile": "file value", "Both": "from the file" } }""");
            var queues = new TestQueues(azurite.ConnectionString);
            await using var host = await TestHost.StartAsync(queues, new Dictionary<string, string?> { ["Both"] = "from the override", ["Nested__Name"] = "nested" },
                o => new LocalHostOptions { AppDirectory = o.AppDirectory, Urls = o.Urls, Settings = o.Settings, AzuriteDataFolder = null, LocalSettingsPath = path });
            async Task<string?> Setting(string name) => (await host.Client.GetFromJsonAsync<JsonElement>($"/lh/settings/{name}")).GetProperty("value").GetString();
            Assert.Equal("file value", await Setting("FromFile"));
            Assert.Equal("from the override", await Setting("Both"));
            Assert.Equal("nested", await Setting("Nested__Name"));
            Assert.Equal(TestHost.AppFolder, await Setting("FUNCTIONS_APPLICATION_DIRECTORY"));
            Assert.Equal("dotnet-isolated", await Setting("FUNCTIONS_WORKER_RUNTIME"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Without_a_storage_setting_the_host_starts_an_azurite_of_its_own_and_gives_it_to_the_worker()
    {
        var logs = new LogCapture();
        var options = new LocalHostOptions
        {
            AppDirectory = TestHost.AppFolder, Urls = ["http://127.0.0.1:0"], AzuriteDataFolder = null,
            Settings = new Dictionary<string, string?> { ["AzureWebJobsStorage"] = null, ["TickSchedule"] = "0 0 0 1 1 *", ["WorkQueue"] = "w" },
        };
        await using var host = await LocalFunctionsHost.StartAsync(options, logs);
        await host.Ready.WaitAsync(TestHost.Deadline);
        Assert.NotNull(host.AzuriteConnectionString);
        var value = (await new HttpClient { BaseAddress = host.BaseAddress }.GetFromJsonAsync<JsonElement>("/lh/settings/AzureWebJobsStorage")).GetProperty("value").GetString();
        Assert.Equal(host.AzuriteConnectionString, value);
    }

    [Fact]
    public async Task A_folder_that_is_not_an_isolated_app_is_refused_with_what_is_missing()
    {
        var folder = Directory.CreateTempSubdirectory("lh-empty-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "host.json"), """{ "version": "2.0" }""");
            var error = await Assert.ThrowsAsync<App.AppFolderException>(() => LocalFunctionsHost.StartAsync(new LocalHostOptions
            {
                AppDirectory = folder.FullName, Settings = new Dictionary<string, string?> { ["AzureWebJobsStorage"] = azurite.ConnectionString },
            }));
            Assert.Contains("worker.config.json", error.Message);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
