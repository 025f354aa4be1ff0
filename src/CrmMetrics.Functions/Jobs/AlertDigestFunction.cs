using CrmMetrics.Functions.Alerts;
using CrmMetrics.Storage.Alerts;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Jobs;

/// <summary><c>AlertDigest</c> (timer, <c>%AlertDigestSchedule%</c>, daily): the digest message, sent like an alert.</summary>
public sealed class AlertDigestFunction(DigestService digests, IAlertSender sender, AlertLedger ledger, ILogger<AlertDigestFunction> logger)
{
    [Function("AlertDigest")]
    public async Task RunAsync([TimerTrigger("%AlertDigestSchedule%")] TimerInfo timer, CancellationToken ct)
    {
        // One digest per day: its id and its delivery are the day's. A firing after a failed send
        // sends it again; one after a completed send is quiet.
        var digest = await digests.BuildAsync(ct);
        if (digest.CloudEvent is null)
        {
            logger.LogInformation("Today's digest was sent already");
            return;
        }
        await sender.SendAsync([digest.CloudEvent], digest.Delivery, ct);
        await ledger.MarkDeliveredAsync(digest.Delivery, ct);
        logger.LogInformation("Digest sent");
    }
}
