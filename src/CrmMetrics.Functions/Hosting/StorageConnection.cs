using Azure.Identity;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Builds the storage account from <c>AzureWebJobsStorage</c> exactly as the Functions host reads it:
/// a connection string, or an identity-based connection (<c>AzureWebJobsStorage__accountName</c> or
/// <c>__tableServiceUri</c>/<c>__queueServiceUri</c>/<c>__blobServiceUri</c>, with
/// <c>__credential=managedidentity</c> and optional <c>__clientId</c>).
/// </summary>
public static class StorageConnection
{
    public const string Setting = "AzureWebJobsStorage";

    public static bool IsConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[Setting]) || configuration.GetSection(Setting).GetChildren().Any();

    public static StorageAccount Create(IConfiguration configuration)
    {
        var connectionString = configuration[Setting];
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            try
            {
                return StorageAccount.FromConnectionString(connectionString);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                throw new SettingsException(Domain.Validation.ValidationErrors.Single(Setting, "is not a valid storage connection string: " + e.Message));
            }
        }

        var section = configuration.GetSection(Setting);
        var account = section["accountName"];
        Uri? Service(string name, string kind)
        {
            if (section[name] is { Length: > 0 } uri)
            {
                return Uri.TryCreate(uri, UriKind.Absolute, out var parsed) ? parsed
                    : throw new SettingsException(Domain.Validation.ValidationErrors.Single($"{Setting}:{name}", "must be an absolute URI"));
            }
            return account is { Length: > 0 } ? new Uri($"https://{account}.{kind}.core.windows.net") : null;
        }
        var table = Service("tableServiceUri", "table");
        var queue = Service("queueServiceUri", "queue");
        var blob = Service("blobServiceUri", "blob");
        if (table is null || queue is null || blob is null)
        {
            throw new SettingsException(Domain.Validation.ValidationErrors.Single(Setting,
                "needs a connection string, or accountName (or tableServiceUri, queueServiceUri and blobServiceUri) for an identity-based connection"));
        }

        var clientId = section["clientId"];
        Azure.Core.TokenCredential credential = section["credential"]?.Equals("managedidentity", StringComparison.OrdinalIgnoreCase) == true
            ? (clientId is { Length: > 0 } ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId)) : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned))
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId });
        return StorageAccount.FromIdentity(table, queue, blob, credential);
    }
}
