using CrmMetrics.Functions.Alerts;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Jobs;

/// <summary><c>AlertDigest</c> (timer, <c>%AlertDigestSchedule%</c>, daily): the digest message, sent like an alert.</summary>
public sealed class AlertDigestFunction(DigestService digests, IAlertSender sender, ILogger<AlertDigestFunction> logger)
{
    [Function("AlertDigest")]
    public async Task RunAsync([TimerTrigger("%AlertDigestSchedule%")] TimerInfo timer, CancellationToken ct)
    {
        // One digest per day: its id is the day, so a second firing the same day is suppressed by the ledger.
        var delivery = "digest-invocation-" + Guid.NewGuid().ToString("N");
        var message = await digests.BuildAsync(delivery, ct);
        if (message is not null) await sender.SendAsync([message], delivery, ct);
        if (message is null) logger.LogInformation("Today's digest was sent already");
        else logger.LogInformation("Digest sent");
    }
}
