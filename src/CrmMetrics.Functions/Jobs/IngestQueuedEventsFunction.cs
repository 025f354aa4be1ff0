using System.Text;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Facts;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Jobs;

/// <summary>
/// The <c>crm-events</c> queue: one message holds a JSON array of events (or one event). It goes
/// through the same ingestion as HTTP. Invalid events are recorded with their reasons and the
/// message succeeds (retrying cannot fix them); a storage failure fails the invocation, so the
/// message is retried and reaches the poison queue only if the failure persists.
/// </summary>
public sealed class IngestQueuedEventsFunction(FactIngestion ingestion, RejectedEventStore rejectedEvents, ILogger<IngestQueuedEventsFunction> logger)
{
    [Function("IngestQueuedEvents")]
    // Bytes, not a string: text that is not UTF-8 then reaches validation as it was sent and is refused
    // field by field, as over HTTP, instead of having its bad bytes silently replaced by U+FFFD.
    public async Task RunAsync([QueueTrigger(StorageNames.Queues.CrmEvents)] byte[] message, string id, CancellationToken ct)
    {
        var messageId = string.IsNullOrEmpty(id) ? Guid.NewGuid().ToString("N") : id;
        message ??= [];
        // The text is decoded only to be kept with a rejection of the whole message, not for every message.
        if (message.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            await RecordAsync(messageId, [new RejectedEvent("queue", messageId, 0, null, ValidationErrors.Single("message", "is empty").ToDictionary(), Encoding.UTF8.GetString(message))], whole: true, ct);
            return;
        }

        EventBatch batch;
        try
        {
            batch = EventBatchReader.Read(message, ndjson: false, what: "message");
        }
        catch (EventBatchException e)
        {
            await RecordAsync(messageId, [new RejectedEvent("queue", messageId, 0, null, ValidationErrors.Single("message", e.Message).ToDictionary(), Encoding.UTF8.GetString(message))], whole: true, ct);
            return;
        }

        using (batch)
        {
            var result = await ingestion.IngestAsync(batch.Events, ct);
            if (result.Rejected.Count > 0)
            {
                await RecordAsync(messageId, result.Rejected.Select(r => new RejectedEvent("queue", messageId, r.Index, r.Id, r.Errors, batch.Events[r.Index].RawText)).ToList(), whole: false, ct);
            }
            logger.LogInformation("Queue message {MessageId}: {Accepted} accepted, {Duplicates} duplicates, {Rejected} rejected",
                messageId, result.Accepted, result.Duplicates, result.Rejected.Count);
        }
    }

    /// <summary>Records the rejections (<paramref name="whole"/>: one, of the whole message: empty, or not events at all).</summary>
    private async Task RecordAsync(string messageId, IReadOnlyList<RejectedEvent> rejected, bool whole, CancellationToken ct)
    {
        // Said once they are recorded: a failed write retries the message, and must not have claimed otherwise.
        await rejectedEvents.RecordAsync(rejected, ct);
        if (whole)
            logger.LogWarning("Queue message {MessageId} was rejected as a whole ({Reason}); recorded in the {Table} table", messageId, rejected[0].Errors["message"].FirstOrDefault(), StorageNames.Tables.RejectedEvents);
        else
            logger.LogWarning("Queue message {MessageId}: {Count} {Events} rejected; recorded in the {Table} table with their reasons", messageId, rejected.Count, rejected.Count == 1 ? "event" : "events", StorageNames.Tables.RejectedEvents);
    }
}
