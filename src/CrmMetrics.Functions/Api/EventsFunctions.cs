using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Ingestion;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Api;

/// <summary><c>POST /api/events</c>: ingest a JSON array or NDJSON of CRM facts.</summary>
public sealed class EventsFunctions(FactIngestion ingestion, IHostApplicationLifetime lifetime)
{
    public sealed record IngestResponse(int Accepted, int Duplicates, IReadOnlyList<RejectedItem> Rejected);

    [Function("IngestEvents")]
    [ApiOperation("POST", "IngestEvents", Access.Writer, Summary = "Ingest CRM facts (JSON array or NDJSON, at most 5,000 events and 4 MiB; the body may be compressed: Content-Encoding gzip, deflate or br).",
        Response = typeof(IngestResponse), Status = 202, Problems = [400, 413, 415], Body = RequestBody.Events)]
    public async Task<IResult> IngestAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/events")] HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > EventBatchReader.MaxBytes)
            return Problems.PayloadTooLarge($"The body is {request.ContentLength} bytes; at most {EventBatchReader.MaxBytes} bytes (4 MiB) are accepted.");
        var mediaType = RequestBodies.MediaType(request);
        // Not application/json-seq: its records are not newline-delimited, and nothing here reads them.
        if (mediaType is not (null or "" or "application/json" or "application/x-ndjson" or "application/jsonl" or "text/plain"))
            return Problems.UnsupportedMediaType($"Content type '{mediaType}' is not accepted; send application/json (an array of events) or application/x-ndjson.");
        if (RequestBodies.CharsetProblem(request) is { } charset) return charset;

        var body = await RequestBodies.ReadAsync(request, EventBatchReader.MaxBytes, ct);
        if (body.Problem is not null) return body.Problem;

        EventBatch batch;
        try
        {
            batch = EventBatchReader.Read(body.Bytes, ndjson: mediaType is "application/x-ndjson" or "application/jsonl");
        }
        catch (EventBatchException e)
        {
            return e.Status == 413 ? Problems.PayloadTooLarge(e.Message) : Problems.Validation("body", e.Message);
        }
        using (batch)
        {
            // Not cancelled when the client goes away: a write cut off after claiming its ids made the
            // client's resend wait out the claims' 30 s grace (found by probing: a CRM that timed out and
            // resent at once waited 49 s). Only the app's own stop cancels it.
            var result = await ingestion.IngestAsync(batch.Events, lifetime.ApplicationStopping);
            return TypedResults.Json(new IngestResponse(result.Accepted, result.Duplicates, result.Rejected), statusCode: StatusCodes.Status202Accepted);
        }
    }
}
