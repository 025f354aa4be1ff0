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

    /// <param name="trigger">
    /// The id of the queue message that triggered the invocation, if any. The runtime delivers a
    /// message again only after the earlier attempt lost its lease, so a claim that attempt left
    /// behind is taken over at once instead of waiting for it to go stale.
    /// </param>
    public async Task WriteAsync(FunctionDefinition function, InvocationResponse response, string? trigger, CancellationToken ct)
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
                    await SendToBrokerQueueAsync(entity, messages, trigger, ct);
                    break;
                default:
                    logger.LogWarning("Output binding type {Type} of {Function} is not supported locally; its value is dropped", binding.Type, function.Name);
                    break;
            }
        }
    }

    private async Task SendToBrokerQueueAsync(string entity, List<string> messages, string? trigger, CancellationToken ct)
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
            var claim = await ClaimAsync(entity, messageId, trigger, ct);
            // An attempt that died may have enqueued the message without recording it: look before resending.
            if (claim == Claim.TakenOver && await IsQueuedAsync(queue, messageId, ct))
            {
                await MarkSentAsync(entity, messageId);
                claim = Claim.AlreadySent;
            }
            if (claim == Claim.AlreadySent)
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
            await MarkSentAsync(entity, messageId);
        }
    }

    private async Task MarkSentAsync(string entity, string messageId) =>
        await _sent.UpsertEntityAsync(new TableEntity(StorageKeys.Encode(entity), StorageKeys.Encode(messageId)) { ["State"] = "sent", ["At"] = DateTimeOffset.UtcNow },
            TableUpdateMode.Replace, CancellationToken.None);

    /// <summary>
    /// Whether a message with this CloudEvent id waits among the first 32 of the queue (all a peek
    /// shows). One further back, or already consumed, is not seen: then it is sent again, with the
    /// same id, which is the at-least-once a broker without duplicate detection gives.
    /// </summary>
    private static async Task<bool> IsQueuedAsync(Azure.Storage.Queues.QueueClient queue, string messageId, CancellationToken ct)
    {
        var peeked = await queue.PeekMessagesAsync(32, ct);
        return peeked.Value.Any(m => MessageIdOf(m.Body.ToString()) == messageId);
    }

    private enum Claim { Claimed, AlreadySent, TakenOver }

    /// <summary>
    /// Claims a message id before sending, so concurrent or repeated sends of one id deliver once.
    /// Says when it was sent already; throws (so the invocation is retried) while another sender
    /// holds a fresh claim; takes over a claim whose sender died (or that this trigger left).
    /// </summary>
    private async Task<Claim> ClaimAsync(string entity, string messageId, string? trigger, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(entity);
        var rk = StorageKeys.Encode(messageId);
        var claim = new TableEntity(pk, rk) { ["State"] = "claimed", ["At"] = DateTimeOffset.UtcNow };
        if (trigger is not null) claim["Trigger"] = trigger;
        try
        {
            await _sent.AddEntityAsync(claim, ct);
            return Claim.Claimed;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            var row = (await _sent.GetEntityAsync<TableEntity>(pk, rk, cancellationToken: ct)).Value;
            if (row.GetString("State") == "sent") return Claim.AlreadySent;
            var ours = trigger is not null && row.GetString("Trigger") == trigger;
            if (!ours && row.GetDateTimeOffset("At") is { } at && DateTimeOffset.UtcNow - at < StaleClaim)
                throw new InvalidOperationException($"Message {messageId} to {entity} is being sent by another invocation; retrying later.");
            row["At"] = DateTimeOffset.UtcNow;
            if (trigger is not null) row["Trigger"] = trigger;
            await _sent.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);
            return Claim.TakenOver;
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
