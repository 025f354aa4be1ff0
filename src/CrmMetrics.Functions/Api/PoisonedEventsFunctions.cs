using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Facts;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Api;

/// <summary>
/// <c>GET /api/events/poisoned</c> and <c>POST /api/events/poisoned/replay</c> (admin): the event
/// messages of <c>crm-events</c> that the host gave up on (see <see cref="PoisonedEventMessages"/>),
/// listed, and sent back to be ingested once what failed them is fixed. Without these, such a message
/// sat in <c>crm-events-poison</c> with nothing to tell of it or take it up (found by probing).
/// </summary>
public sealed class PoisonedEventsFunctions(PoisonedEventMessages poisoned, CrmMetricsSettings settings, ILogger<PoisonedEventsFunctions> logger)
{
    /// <summary>The most messages one replay moves; the answer says how many are left.</summary>
    public const int MaxReplay = 1000;

    public sealed record PoisonedMessage(string MessageId, DateTimeOffset? InsertedOn, long DequeueCount, int Bytes, string Preview);
    public sealed record PoisonedResponse(string Queue, int ApproximateCount, IReadOnlyList<PoisonedMessage> Messages, string Replay);
    public sealed record ReplayResponse(int Replayed, int Unreadable, int ApproximateRemaining, string Queue, string Detail);

    private static string Queue => StorageNames.Queues.Poison(StorageNames.Queues.CrmEvents);

    [Function("PoisonedEvents")]
    [ApiOperation("GET", "GetPoisonedEvents", Access.Admin,
        Summary = "Event messages of crm-events that were not ingested after every attempt (storage failing throughout, or a fault of the app): the queue's approximate length and its first 32 messages.",
        Response = typeof(PoisonedResponse))]
    public async Task<IResult> ListAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/events/poisoned")] HttpRequest request, CancellationToken ct)
    {
        var listing = await poisoned.ListAsync(ct);
        return TypedResults.Ok(new PoisonedResponse(Queue, listing.ApproximateCount,
            listing.First.Select(m => new PoisonedMessage(m.MessageId, m.InsertedOn, m.DequeueCount, m.Bytes, m.Preview)).ToList(),
            listing.ApproximateCount == 0 ? "Nothing to replay." : "POST /api/events/poisoned/replay sends them back to crm-events to be ingested; events already ingested count as duplicates."));
    }

    [Function("ReplayPoisonedEvents")]
    [ApiOperation("POST", "ReplayPoisonedEvents", Access.Admin, Query = ["max"], Body = RequestBody.None,
        Summary = "Send up to max (1-1000, default 1000) poisoned event messages back to crm-events to be ingested; each is sent before it is removed, and its events count once. A 503 when storage fails part-way says how many were replayed (replayed).",
        Response = typeof(ReplayResponse), Problems = [400, 503])]
    public async Task<IResult> ReplayAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/events/poisoned/replay")] HttpRequest request, CancellationToken ct)
    {
        var q = new QueryParameters(request, new ValidationErrors(), settings.Calendar);
        var max = q.Int("max", MaxReplay, 1, MaxReplay);
        if (!q.Errors.IsEmpty) return Problems.Validation(q.Errors);
        PoisonedEventMessages.Replay replay;
        int remaining;
        try
        {
            replay = await poisoned.ReplayAsync(max, ct);
        }
        catch (PoisonedEventMessages.ReplayInterruptedException stopped) when (HttpPipeline.StatusFor(stopped.InnerException!) == 503)
        {
            return Interrupted(request, stopped.Done, stopped.InnerException!);
        }
        catch (PoisonedEventMessages.ReplayInterruptedException stopped)
        {
            // Not storage away (a fault of the app's own): answered as any request's failure, the count kept in the log.
            logger.LogError("Replaying poisoned event messages failed after {Count} were sent back to {Target}", stopped.Done.Moved, StorageNames.Queues.CrmEvents);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(stopped.InnerException!);
            throw;
        }
        try
        {
            remaining = await poisoned.ApproximateCountAsync(ct);
        }
        catch (Exception e) when (HttpPipeline.StatusFor(e) == 503 && !(e is OperationCanceledException && ct.IsCancellationRequested))
        {
            return Interrupted(request, replay, e);
        }
        if (replay.Moved + replay.Unreadable > 0)
            logger.LogInformation("Replayed {Count} poisoned event messages from {Queue} into {Target}, kept {Unreadable} that are not base64; about {Remaining} left",
                replay.Moved, Queue, StorageNames.Queues.CrmEvents, replay.Unreadable, remaining);
        var detail = replay.Unreadable == 0 ? $"{replay.Moved} sent back to {StorageNames.Queues.CrmEvents}."
            : $"{replay.Moved} sent back to {StorageNames.Queues.CrmEvents}; {replay.Unreadable} kept: not base64 (the queue's encoding), so the trigger can never read them. Send their events again, encoded, and delete them from {Queue}.";
        return TypedResults.Ok(new ReplayResponse(replay.Moved, replay.Unreadable, remaining, Queue, detail));
    }

    /// <summary>
    /// Storage failed part-way: a 503 to retry, as for any storage failure, that says how many messages
    /// were already moved (a bare one said nothing was half-written, though some were). Nothing is lost:
    /// each message is deleted only after it was sent, and one sent but not deleted is sent again by the
    /// retry, its events counting once.
    /// </summary>
    private IResult Interrupted(HttpRequest request, PoisonedEventMessages.Replay done, Exception cause)
    {
        logger.LogWarning("Replaying poisoned event messages stopped after {Count} were sent back to {Target}; answered 503, storage unavailable: {Error}",
            done.Moved, StorageNames.Queues.CrmEvents, cause.Message.Split('\n')[0]);
        request.HttpContext.Response.Headers.RetryAfter = HttpPipeline.RetryAfterSeconds;
        var detail = $"{HttpPipeline.StorageSilence(cause)} after {done.Moved} poisoned event messages were sent back to {StorageNames.Queues.CrmEvents} "
            + $"(each removed from {Queue} once sent); retry the request to replay the rest (a message sent but not yet removed is sent again, and its events count once; "
            + "one taken but not moved is back at once, or within 2 minutes if storage could not be told).";
        return Problems.Unavailable(detail, new Dictionary<string, object?> { ["replayed"] = done.Moved, ["unreadable"] = done.Unreadable });
    }
}
