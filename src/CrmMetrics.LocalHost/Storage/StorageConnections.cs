using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using CrmMetrics.LocalHost.App;

namespace CrmMetrics.LocalHost.Storage;

/// <summary>The queue and blob clients of one storage connection.</summary>
public sealed record StorageConnection(string Name, QueueServiceClient Queues, BlobServiceClient Blobs, string Description);

/// <summary>
/// Storage connections by setting name, read as the Functions host reads them: a connection string
/// in the setting itself, or an identity-based connection in its children (<c>__accountName</c>, or
/// <c>__queueServiceUri</c>/<c>__blobServiceUri</c>, with <c>__credential=managedidentity</c> and
/// <c>__clientId</c>). Queue clients do not decode: the trigger decodes as host.json says.
/// </summary>
public sealed class StorageConnections(AppSettings settings)
{
    public const string Default = "AzureWebJobsStorage";

    private readonly Dictionary<string, StorageConnection> _connections = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _lock = new();

    public bool IsConfigured(string name = Default) => settings.IsSet(name) || settings.IsSection(name);

    public StorageConnection Get(string? name)
    {
        name = string.IsNullOrEmpty(name) ? Default : name;
        lock (_lock)
        {
            if (!_connections.TryGetValue(name, out var connection)) _connections[name] = connection = Create(name);
            return connection;
        }
    }

    private StorageConnection Create(string name)
    {
        var options = (new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None }, new BlobClientOptions());
        foreach (var retry in new[] { options.Item1.Retry, options.Item2.Retry })
        {
            retry.Mode = RetryMode.Exponential;
            retry.MaxRetries = 3;
            retry.Delay = TimeSpan.FromMilliseconds(200);
            retry.MaxDelay = TimeSpan.FromSeconds(5);
            retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        }

        if (settings[name] is { Length: > 0 } connectionString)
        {
            try
            {
                return new StorageConnection(name, new QueueServiceClient(connectionString, options.Item1), new BlobServiceClient(connectionString, options.Item2),
                    $"{name} (connection string)");
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                // Not the SDK's message: it quotes the part it could not read, which may be a key.
                throw new AppFolderException($"The setting {name} is not a valid storage connection string (not repeated here, since it may hold a key; the SDK could not read it: {e.GetType().Name}).");
            }
        }

        var account = settings[name + "__accountName"];
        Uri Service(string property, string kind)
        {
            if (settings[$"{name}__{property}"] is { Length: > 0 } text)
            {
                return Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : throw new AppFolderException($"The setting {name}__{property} must be an absolute URI.");
            }
            return account is { Length: > 0 }
                ? new Uri($"https://{account}.{kind}.core.windows.net")
                : throw new AppFolderException($"The storage connection {name} is not set: give {name} a connection string, or {name}__accountName " +
                                               $"(or {name}__queueServiceUri and {name}__blobServiceUri) for an identity-based connection.");
        }
        var queueUri = Service("queueServiceUri", "queue");
        var blobUri = Service("blobServiceUri", "blob");
        var clientId = settings[name + "__clientId"];
        TokenCredential credential = string.Equals(settings[name + "__credential"], "managedidentity", StringComparison.OrdinalIgnoreCase)
            ? new ManagedIdentityCredential(clientId is { Length: > 0 } ? ManagedIdentityId.FromUserAssignedClientId(clientId) : ManagedIdentityId.SystemAssigned)
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId });
        return new StorageConnection(name, new QueueServiceClient(queueUri, credential, options.Item1), new BlobServiceClient(blobUri, credential, options.Item2),
            $"{name} ({queueUri.Host}, identity)");
    }
}
