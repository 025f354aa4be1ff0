using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace CrmMetrics.Storage.Account;

/// <summary>
/// The storage account behind <c>AzureWebJobsStorage</c>: one client per service, shared by all
/// repositories. Queue clients encode messages in base64, the encoding the Functions queue trigger
/// expects by default, so what the app writes the real trigger can read.
/// </summary>
public sealed class StorageAccount
{
    public StorageAccount(TableServiceClient tables, QueueServiceClient queues, QueueServiceClient rawQueues, BlobServiceClient blobs, string description)
    {
        Tables = tables;
        Queues = queues;
        RawQueues = rawQueues;
        Blobs = blobs;
        Description = description;
    }

    public TableServiceClient Tables { get; }
    public QueueServiceClient Queues { get; }

    /// <summary>Queues without decoding, for the local trigger runtime, which decodes like the Functions host does.</summary>
    public QueueServiceClient RawQueues { get; }
    public BlobServiceClient Blobs { get; }

    /// <summary>Where the account is, without secrets, for logs.</summary>
    public string Description { get; }

    public TableClient Table(string name) => Tables.GetTableClient(name);
    public QueueClient Queue(string name) => Queues.GetQueueClient(name);
    public BlobContainerClient Container(string name) => Blobs.GetBlobContainerClient(name);

    public static StorageAccount FromConnectionString(string connectionString)
    {
        var (tableOptions, queueOptions, rawQueueOptions, blobOptions) = Options();
        var description = DescribeConnectionString(connectionString);
        return new StorageAccount(
            new TableServiceClient(connectionString, tableOptions),
            new QueueServiceClient(connectionString, queueOptions),
            new QueueServiceClient(connectionString, rawQueueOptions),
            new BlobServiceClient(connectionString, blobOptions),
            description);
    }

    /// <summary>Identity-based connection (<c>AzureWebJobsStorage__accountName</c> or service URIs plus a token credential).</summary>
    public static StorageAccount FromIdentity(Uri tableUri, Uri queueUri, Uri blobUri, TokenCredential credential)
    {
        var (tableOptions, queueOptions, rawQueueOptions, blobOptions) = Options();
        return new StorageAccount(
            new TableServiceClient(tableUri, credential, tableOptions),
            new QueueServiceClient(queueUri, credential, queueOptions),
            new QueueServiceClient(queueUri, credential, rawQueueOptions),
            new BlobServiceClient(blobUri, credential, blobOptions),
            $"{blobUri.Host} (managed identity)");
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(StorageNames.Tables.All.Select(t => Tables.CreateTableIfNotExistsAsync(t, cancellationToken)));
        await Task.WhenAll(StorageNames.Queues.All
            .SelectMany(q => new[] { q, StorageNames.Queues.Poison(q) })
            .Append(StorageNames.Queues.ExecutiveAlerts)
            .Select(q => Queues.GetQueueClient(q).CreateIfNotExistsAsync(cancellationToken: cancellationToken)));
        await Task.WhenAll(StorageNames.Containers.All.Select(c => Blobs.GetBlobContainerClient(c).CreateIfNotExistsAsync(cancellationToken: cancellationToken)));
    }

    private static (TableClientOptions, QueueClientOptions, QueueClientOptions, BlobClientOptions) Options() =>
        (Configured(new TableClientOptions()), Configured(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }),
         Configured(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None }), Configured(new BlobClientOptions()));

    /// <summary>
    /// What every storage client of the app does on failure: retries, exponential, up to four, from 200 ms
    /// to 5 s apart, each try waiting up to 60 s for an answer, or as long as <see cref="StorageAnswerLimit"/>
    /// allows where one is set (an HTTP request).
    /// </summary>
    public static T Configured<T>(T options) where T : ClientOptions
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 4;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(5);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(60);
        options.AddPolicy(StorageAnswerLimit.Policy, Azure.Core.HttpPipelinePosition.PerRetry);
        return options;
    }

    /// <summary>Where a connection string points, without its secrets, for logs.</summary>
    public static string DescribeConnectionString(string connectionString)
    {
        if (connectionString.Contains("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase)) return "Azurite (development storage)";
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        if (parts.TryGetValue("TableEndpoint", out var table)) return table;
        if (parts.TryGetValue("BlobEndpoint", out var blob)) return blob;
        return parts.TryGetValue("AccountName", out var account) ? $"account {account}" : "storage account";
    }
}
