using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using CrmMetrics.Functions.Invocation;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Functions.LocalRuntime;

/// <summary>
/// Delivers a function's outputs the way the host's bindings would: <c>queue</c> outputs become
/// base64 messages on their Storage queue; <c>serviceBus</c> outputs go to an Azurite queue named
/// like the topic or queue, with the broker's duplicate detection emulated (the message id is the
/// CloudEvent id), so a retried invocation does not deliver a message twice.
/// </summary>
public sealed class OutputBindingWriter(StorageAccount account, IConfiguration configuration, ILogger<OutputBindingWriter> logger)
{
    private readonly TableClient _sent = account.Table(StorageNames.Tables.SentMessages);

    public async Task WriteAsync(FunctionDefinition function, InvocationResponse response, CancellationToken ct)
    {
        foreach (var binding in function.Outputs)
        {
            if (!response.Outputs.TryGetValue(binding.Name, out var value) || value is null) continue;
            var messages = value is JsonArray array ? array.Select(Text).ToList() : [Text(value)];
            switch (binding.Type)
            {
                case "queue":
                    var queueName = FunctionCatalog.Resolve(binding.Get("queueName") ?? throw new InvalidOperationException($"{function.Name}.{binding.Name} has no queueName"), configuration);
                    var queue = account.Queue(queueName);
                    foreach (var m in messages) await queue.SendMessageAsync(m, ct);
                    break;
                case "serviceBus":
                    var entity = FunctionCatalog.Resolve(binding.Get("topicName") ?? binding.Get("queueName") ?? throw new InvalidOperationException($"{function.Name}.{binding.Name} names no topic or queue"), configuration);
                    await SendToBrokerQueueAsync(entity, messages, ct);
                    break;
                default:
                    logger.LogWarning("Output binding type {Type} of {Function} is not supported locally; its value is dropped", binding.Type, function.Name);
                    break;
            }
        }
    }

    private async Task SendToBrokerQueueAsync(string entity, List<string> messages, CancellationToken ct)
    {
        var queue = account.Queue(entity);
        await queue.CreateIfNotExistsAsync(cancellationToken: ct);
        foreach (var message in messages)
        {
            var messageId = MessageIdOf(message);
            if (messageId is not null)
            {
                var seen = await _sent.GetEntityIfExistsAsync<TableEntity>(StorageKeys.Encode(entity), StorageKeys.Encode(messageId), ["PartitionKey"], ct);
                if (seen.HasValue)
                {
                    logger.LogInformation("Message {MessageId} was already delivered to {Entity}; dropped as a duplicate", messageId, entity);
                    continue;
                }
            }
            await queue.SendMessageAsync(message, ct);
            if (messageId is not null)
            {
                try
                {
                    await _sent.AddEntityAsync(new TableEntity(StorageKeys.Encode(entity), StorageKeys.Encode(messageId)) { ["SentAt"] = DateTimeOffset.UtcNow }, ct);
                }
                catch (RequestFailedException e) when (e.Status == 409)
                {
                    // Delivered concurrently by a retry; the record exists, which is all that matters.
                }
            }
        }
    }

    /// <summary>The CloudEvent id of a structured CloudEvents message, used as the broker message id.</summary>
    public static string? MessageIdOf(string message)
    {
        try
        {
            using var doc = JsonDocument.Parse(message);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                   && doc.RootElement.TryGetProperty("specversion", out _)
                   && doc.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Text(JsonNode? node) => node switch
    {
        null => "null",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };
}
