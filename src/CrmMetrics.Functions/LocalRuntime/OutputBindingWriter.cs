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
/// base64 messages on their Storage queue (what the queue trigger reads); <c>serviceBus</c> outputs
/// go, as plain JSON bodies, to an Azurite queue named like the topic or queue, with the broker's
/// duplicate detection emulated (the message id is the CloudEvent id), so a retried invocation does
/// not deliver a message twice.
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
        // The message body is the CloudEvent itself, as a Service Bus message body would be: not base64.
        var queue = account.RawQueues.GetQueueClient(entity);
        await queue.CreateIfNotExistsAsync(cancellationToken: ct);
        foreach (var message in messages)
        {
            var messageId = MessageIdOf(message);
            if (messageId is null)
            {
                await queue.SendMessageAsync(message, ct);
                continue;
            }
            if (!await ClaimAsync(entity, messageId, ct))
            {
                logger.LogInformation("Message {MessageId} was already delivered to {Entity}; dropped as a duplicate", messageId, entity);
                continue;
            }
            try
            {
                await queue.SendMessageAsync(message, ct);
            }
            catch
            {
                await _sent.DeleteEntityAsync(StorageKeys.Encode(entity), StorageKeys.Encode(messageId), ETag.All, CancellationToken.None);
                throw;
            }
            await _sent.UpsertEntityAsync(new TableEntity(StorageKeys.Encode(entity), StorageKeys.Encode(messageId)) { ["State"] = "sent", ["At"] = DateTimeOffset.UtcNow },
                TableUpdateMode.Replace, CancellationToken.None);
        }
    }

    /// <summary>
    /// Claims a message id before sending, so concurrent or repeated sends of one id deliver once.
    /// Returns false when it was sent already; throws (so the invocation is retried) while another
    /// sender holds a fresh claim; takes over a claim whose sender died.
    /// </summary>
    private async Task<bool> ClaimAsync(string entity, string messageId, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(entity);
        var rk = StorageKeys.Encode(messageId);
        try
        {
            await _sent.AddEntityAsync(new TableEntity(pk, rk) { ["State"] = "claimed", ["At"] = DateTimeOffset.UtcNow }, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            var row = (await _sent.GetEntityAsync<TableEntity>(pk, rk, cancellationToken: ct)).Value;
            if (row.GetString("State") == "sent") return false;
            if (row.GetDateTimeOffset("At") is { } at && DateTimeOffset.UtcNow - at < StaleClaim)
                throw new InvalidOperationException($"Message {messageId} to {entity} is being sent by another invocation; retrying later.");
            row["At"] = DateTimeOffset.UtcNow;
            await _sent.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);
            return true;
        }
    }

    private static readonly TimeSpan StaleClaim = TimeSpan.FromMinutes(2);

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
