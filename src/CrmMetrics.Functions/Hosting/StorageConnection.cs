using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// <c>AzureWebJobsStorage</c> read exactly as the Functions host reads it: a connection string, or an
/// identity-based connection (<c>AzureWebJobsStorage__accountName</c>, or
/// <c>__tableServiceUri</c>/<c>__queueServiceUri</c>/<c>__blobServiceUri</c>, with
/// <c>__credential=managedidentity</c> and optional <c>__clientId</c>). It builds the service clients
/// that <c>AddAzureClients</c> registers.
/// </summary>
public sealed class StorageConnection
{
    public const string Setting = "AzureWebJobsStorage";

    private readonly string? _connectionString;
    private readonly Uri? _table, _queue, _blob;

    private StorageConnection(string? connectionString, Uri? table, Uri? queue, Uri? blob, TokenCredential? credential, string description)
    {
        _connectionString = connectionString;
        (_table, _queue, _blob) = (table, queue, blob);
        Credential = credential;
        Description = description;
    }

    /// <summary>The identity of an identity-based connection; null with a connection string.</summary>
    public TokenCredential? Credential { get; }

    /// <summary>Where the account is, without secrets, for logs.</summary>
    public string Description { get; }

    public TableServiceClient Tables(TableClientOptions options) =>
        _connectionString is not null ? new TableServiceClient(_connectionString, options) : new TableServiceClient(_table!, Credential!, options);

    public QueueServiceClient Queues(QueueClientOptions options) =>
        _connectionString is not null ? new QueueServiceClient(_connectionString, options) : new QueueServiceClient(_queue!, Credential!, options);

    public BlobServiceClient Blobs(BlobClientOptions options) =>
        _connectionString is not null ? new BlobServiceClient(_connectionString, options) : new BlobServiceClient(_blob!, Credential!, options);

    /// <summary>Why a connection string the SDK cannot read is refused, without repeating any of it.</summary>
    public const string ConnectionStringProblem =
        "is not a valid storage connection string (not repeated here, since it may hold a key): use 'DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net', 'UseDevelopmentStorage=true', or the accountName form";

    public static StorageConnection Read(IConfiguration configuration)
    {
        var connectionString = configuration[Setting];
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            try
            {
                // Parsed once here so a wrong string is a settings error naming the setting, not a failure on first use.
                _ = new TableServiceClient(connectionString);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                // Not the SDK's message: it quotes the part it could not read, which may be a key, and this
                // text reaches logs and, under the local host, the 503s of callers without a key (found by probing).
                throw new SettingsException(Domain.Validation.ValidationErrors.Single(Setting, ConnectionStringProblem));
            }
            return new StorageConnection(connectionString, null, null, null, null, Storage.Account.StorageAccount.DescribeConnectionString(connectionString));
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
        return new StorageConnection(null, table, queue, blob, Identity.Credential(section), $"{blob.Host} (managed identity)");
    }
}

/// <summary>The credential of an identity-based connection section (<c>credential=managedidentity</c>, <c>clientId</c>), as the Functions host reads it.</summary>
public static class Identity
{
    public static TokenCredential Credential(IConfigurationSection section)
    {
        var clientId = section["clientId"];
        var credential = section["credential"];
        // A value this app does not know (a typo) would silently fall back to DefaultAzureCredential. The value
        // is not quoted back: a secret pasted into the wrong setting would reach the log.
        // workloadidentity is taken by DefaultAzureCredential, which tries workload identity first.
        if (!string.IsNullOrWhiteSpace(credential) && credential.Trim().ToLowerInvariant() is not ("managedidentity" or "workloadidentity"))
            throw new SettingsException(Domain.Validation.ValidationErrors.Single($"{section.Path}:credential", "must be 'managedidentity', 'workloadidentity' or unset"));
        return credential?.Trim().Equals("managedidentity", StringComparison.OrdinalIgnoreCase) == true
            ? new ManagedIdentityCredential(clientId is { Length: > 0 } ? ManagedIdentityId.FromUserAssignedClientId(clientId) : ManagedIdentityId.SystemAssigned)
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId });
    }
}
