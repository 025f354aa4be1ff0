using System.Text.Json;
using Azure.Storage.Queues;

namespace CrmMetrics.LocalHost.TestApp;

/// <summary>Writes what a function saw to the queue the setting <c>RecordQueue</c> names, one JSON message per record, for the tests to read.</summary>
public static class Record
{
    private static readonly Lazy<QueueClient> Client = new(() =>
    {
        var queue = Environment.GetEnvironmentVariable("RecordQueue") ?? "lh-seen";
        var client = new QueueClient(Environment.GetEnvironmentVariable("AzureWebJobsStorage"), queue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        client.CreateIfNotExists();
        return client;
    });

    public static Task WriteAsync(object record) => Client.Value.SendMessageAsync(JsonSerializer.Serialize(record));
}
