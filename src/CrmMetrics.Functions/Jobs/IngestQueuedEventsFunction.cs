using System.Text;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Functions.Invocation;
using CrmMetrics.Storage.Facts;

namespace CrmMetrics.Functions.Jobs;

/// <summary>
/// The <c>crm-events</c> queue: one message holds a JSON array of events (or one event). It goes
/// through the same ingestion as HTTP. Invalid events are recorded with their reasons and the
/// message succeeds (retrying cannot fix them); a storage failure fails the invocation, so the
/// message is retried and reaches the poison queue only if the failure persists.
/// </summary>
public sealed class IngestQueuedEventsFunction(FactIngestion ingestion, RejectedEventStore rejectedEvents, ILogger<IngestQueuedEventsFunction> logger) : IFunctionHandler
{
    public const string FunctionName = "IngestQueuedEvents";
    public const string TriggerBinding = "message";

    public string Name => FunctionName;

    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        var response = new InvocationResponse();
        var messageId = request.MessageId ?? Guid.NewGuid().ToString("N");
        var text = request.TriggerText(TriggerBinding);
        if (string.IsNullOrWhiteSpace(text))
        {
            await RecordAsync(messageId, [new RejectedEvent("queue", messageId, 0, null, ValidationErrors.Single("message", "is empty").ToDictionary(), text)], cancellationToken);
            response.Log($"message {messageId} is empty; recorded as rejected");
            return response;
        }

        var body = Encoding.UTF8.GetBytes(text);
        EventBatch batch;
        try
        {
            batch = EventBatchReader.Read(body, ndjson: false);
        }
        catch (EventBatchException e)
        {
            await RecordAsync(messageId, [new RejectedEvent("queue", messageId, 0, null, ValidationErrors.Single("message", e.Message).ToDictionary(), text)], cancellationToken);
            response.Log($"message {messageId} is not events: {e.Message}; recorded as rejected");
            return response;
        }

        using (batch)
        {
            var result = await ingestion.IngestAsync(batch.Events, cancellationToken);
            if (result.Rejected.Count > 0)
            {
                await RecordAsync(messageId, result.Rejected.Select(r => new RejectedEvent("queue", messageId, r.Index, r.Id, r.Errors,
                    batch.Events[r.Index].ParseError is null ? batch.Events[r.Index].Element.GetRawText() : null)).ToList(), cancellationToken);
            }
            var summary = $"message {messageId}: {result.Accepted} accepted, {result.Duplicates} duplicates, {result.Rejected.Count} rejected";
            logger.LogInformation("{Summary}", summary);
            response.Log(summary);
            response.ReturnValue = System.Text.Json.Nodes.JsonValue.Create(summary);
        }
        return response;
    }

    private Task RecordAsync(string messageId, IReadOnlyList<RejectedEvent> rejected, CancellationToken ct)
    {
        logger.LogWarning("Queue message {MessageId}: {Count} events rejected and recorded", messageId, rejected.Count);
        return rejectedEvents.RecordAsync(rejected, ct);
    }
}
