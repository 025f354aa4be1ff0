using Azure;
using Azure.Data.Tables;
using Azure.Messaging.ServiceBus;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Functions.Alerts;

/// <summary>Sends alert CloudEvents to executives' channel.</summary>
public interface IAlertSender
{
    /// <param name="delivery">The delivery sending them (the trigger message), so a retry of it can take over what it claimed.</param>
    Task SendAsync(IReadOnlyList<string> cloudEvents, string delivery, CancellationToken ct);
}

/// <summary>
/// Alerts to the <c>executive-alerts</c> Service Bus topic through one long-lived sender, in batches
/// (<c>TryAddMessage</c>); the topic's duplicate detection drops a retried delivery's resends by message id.
/// </summary>
public sealed class ServiceBusAlertSender(ServiceBusSender sender, ILogger<ServiceBusAlertSender> logger) : IAlertSender
{
    public async Task SendAsync(IReadOnlyList<string> cloudEvents, string delivery, CancellationToken ct)
    {
        var pending = new Queue<ServiceBusMessage>(cloudEvents.Select(AlertMessages.ToServiceBusMessage));
        while (pending.Count > 0)
        {
            using var batch = await sender.CreateMessageBatchAsync(ct);
            while (pending.Count > 0 && batch.TryAddMessage(pending.Peek())) pending.Dequeue();
            if (batch.Count == 0) throw new InvalidOperationException($"Alert {pending.Peek().MessageId} is larger than a Service Bus message may be.");
            await sender.SendMessagesAsync(batch, ct);
            logger.LogInformation("{Count} alerts sent to {Topic}", batch.Count, sender.EntityPath);
        }
    }
}

/// <summary>
/// Without Service Bus (locally): alerts go to the Azurite queue <c>executive-alerts</c>, one plain
/// JSON CloudEvent per message, as a broker body would be. The broker's duplicate detection is
/// emulated: each message id is claimed in a table before it is sent, so concurrent or repeated
/// sends of one alert deliver it once. A sender that meets another's fresh claim waits for it to be
/// sent (then drops its own copy); a claim left by a delivery that died is taken over by that
/// delivery's retry at once, and by any other sender once it is <c>staleClaim</c> old (two minutes),
/// after looking whether the dead attempt had enqueued the message already.
/// </summary>
public sealed class QueueAlertSender(StorageAccount account, ILogger<QueueAlertSender> logger, TimeSpan? staleClaim = null) : IAlertSender
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private readonly TimeSpan _staleClaim = staleClaim ?? TimeSpan.FromMinutes(2);
    private readonly TableClient _sent = account.Table(StorageNames.Tables.SentMessages);
    private int _created;

    public async Task SendAsync(IReadOnlyList<string> cloudEvents, string delivery, CancellationToken ct)
    {
        if (cloudEvents.Count == 0) return;
        var queue = account.RawQueues.GetQueueClient(AlertMessages.Topic);
        if (Interlocked.Exchange(ref _created, 1) == 0) await queue.CreateIfNotExistsAsync(cancellationToken: ct);
        foreach (var message in cloudEvents)
        {
            var messageId = AlertMessages.IdOf(message);
            if (messageId is null)
            {
                await queue.SendMessageAsync(message, ct);
                continue;
            }
            var claim = await ClaimAsync(messageId, delivery, ct);
            // An attempt that died may have enqueued the message without recording it: look before resending.
            if (claim == Claim.TakenOver && await IsQueuedAsync(queue, messageId, ct))
            {
                await MarkSentAsync(messageId);
                claim = Claim.AlreadySent;
            }
            if (claim == Claim.AlreadySent)
            {
                logger.LogInformation("Alert {MessageId} was already delivered to {Queue}; dropped as a duplicate", messageId, AlertMessages.Topic);
                continue;
            }
            try
            {
                await queue.SendMessageAsync(message, ct);
            }
            catch
            {
                await _sent.DeleteEntityAsync(StorageKeys.Encode(AlertMessages.Topic), StorageKeys.Encode(messageId), ETag.All, CancellationToken.None);
                throw;
            }
            await MarkSentAsync(messageId);
        }
    }

    private async Task MarkSentAsync(string messageId) =>
        await _sent.UpsertEntityAsync(new TableEntity(StorageKeys.Encode(AlertMessages.Topic), StorageKeys.Encode(messageId)) { ["State"] = "sent", ["At"] = DateTimeOffset.UtcNow },
            TableUpdateMode.Replace, CancellationToken.None);

    /// <summary>
    /// Whether a message with this CloudEvent id waits among the first 32 of the queue (all a peek
    /// shows). One further back, or already consumed, is not seen: then it is sent again, with the
    /// same id, which is the at-least-once a broker without duplicate detection gives.
    /// </summary>
    private static async Task<bool> IsQueuedAsync(Azure.Storage.Queues.QueueClient queue, string messageId, CancellationToken ct)
    {
        var peeked = await queue.PeekMessagesAsync(32, ct);
        return peeked.Value.Any(m => AlertMessages.IdOf(m.Body.ToString()) == messageId);
    }

    private enum Claim { Claimed, AlreadySent, TakenOver }

    /// <summary>
    /// Claims a message id before sending. Says when it was sent already; waits while another sender
    /// holds a fresh claim (a send takes milliseconds, so it is normally sent a moment later); takes
    /// over a claim whose sender died (or that this delivery left).
    /// </summary>
    private async Task<Claim> ClaimAsync(string messageId, string delivery, CancellationToken ct)
    {
        var pk = StorageKeys.Encode(AlertMessages.Topic);
        var rk = StorageKeys.Encode(messageId);
        var waiting = false;
        while (true)
        {
            try
            {
                await _sent.AddEntityAsync(new TableEntity(pk, rk) { ["State"] = "claimed", ["At"] = DateTimeOffset.UtcNow, ["Trigger"] = delivery }, ct);
                return Claim.Claimed;
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
            }
            var found = await _sent.GetEntityIfExistsAsync<TableEntity>(pk, rk, cancellationToken: ct);
            // Released by a send that failed: claim it again.
            if (!found.HasValue) continue;
            var row = found.Value!;
            if (row.GetString("State") == "sent") return Claim.AlreadySent;
            var ours = row.GetString("Trigger") == delivery;
            if (!ours && row.GetDateTimeOffset("At") is { } at && DateTimeOffset.UtcNow - at < _staleClaim)
            {
                if (!waiting) logger.LogInformation("Alert {MessageId} is being sent by another invocation ({Trigger}); waiting for it", messageId, row.GetString("Trigger"));
                waiting = true;
                await Task.Delay(PollInterval, ct);
                continue;
            }
            row["At"] = DateTimeOffset.UtcNow;
            row["Trigger"] = delivery;
            try
            {
                await _sent.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);
                return Claim.TakenOver;
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                // Sent or taken over meanwhile: look again.
            }
        }
    }
}
