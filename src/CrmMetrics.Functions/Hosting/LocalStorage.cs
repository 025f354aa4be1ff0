using CrmMetrics.Storage.Local;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// When no storage is configured locally, starts Azurite from the repository's node_modules (keeping
/// its data under <c>.azurite/</c>, or <c>CrmMetrics:LocalDataFolder</c>) and points
/// <c>AzureWebJobsStorage</c> at it; Azurite stops with the app.
/// </summary>
public static class LocalStorage
{
    public static async Task<AzuriteServer?> EnsureAsync(WebApplicationBuilder builder, RunMode mode)
    {
        if (mode == RunMode.FunctionsHost || StorageConnection.IsConfigured(builder.Configuration)) return null;
        var folder = builder.Configuration["CrmMetrics:LocalDataFolder"]
                     ?? Path.Combine(FindRepositoryRoot() ?? Directory.GetCurrentDirectory(), ".azurite");
        Console.WriteLine($"No AzureWebJobsStorage is configured: starting Azurite with its data in {folder} ...");
        var azurite = await AzuriteServer.StartAsync(folder, Console.WriteLine);
        Console.WriteLine($"Azurite is listening (blob {azurite.BlobPort}, queue {azurite.QueuePort}, table {azurite.TablePort}).");
        builder.Configuration.AddInMemoryCollection([new KeyValuePair<string, string?>(StorageConnection.Setting, azurite.ConnectionString)]);
        return azurite;
    }

    public static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "CrmMetrics.sln"))) return dir.FullName;
            }
        }
        return null;
    }
}
