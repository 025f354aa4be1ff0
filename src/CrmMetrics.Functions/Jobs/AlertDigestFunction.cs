using CrmMetrics.Functions.Alerts;
using CrmMetrics.Storage.Alerts;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Jobs;

/// <summary><c>AlertDigest</c> (timer, <c>%AlertDigestSchedule%</c>, daily): the digest message, sent like an alert.</summary>
public sealed class AlertDigestFunction(DigestService digests, IAlertSender sender, AlertLedger ledger, ILogger<AlertDigestFunction> logger)
{
    /// <summary>Waits before the second and third attempt of a send: a timer invocation is not retried, its next firing may be a day away.</summary>
    public static readonly TimeSpan[] SendRetryDelays = [TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60)];

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
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await sender.SendAsync([digest.CloudEvent], digest.Delivery, ct);
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException && attempt < SendRetryDelays.Length)
            {
                logger.LogWarning("The digest ({Delivery}) could not be sent ({Error}); trying again in {Delay}", digest.Delivery, e.Message, SendRetryDelays[attempt]);
                await Task.Delay(SendRetryDelays[attempt], ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError("The digest ({Delivery}) could not be sent after {Attempts} attempts: {Error}. A later firing of AlertDigestSchedule the same day sends it again",
                    digest.Delivery, attempt + 1, e.Message);
                throw;
            }
        }
        await ledger.MarkDeliveredAsync(digest.Delivery, ct);
        logger.LogInformation("Digest sent");
    }
}
