using CrmMetrics.Storage.Account;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Creates the tables, queues and containers (idempotent). Storage that does not answer yet (an
/// account restarting, Azurite a second late) does not stop the worker: creation is retried in the
/// background with back-off, one log line per attempt window, while health says storage is unreachable
/// and requests that need storage answer 503.
/// </summary>
public sealed class StorageInitializer(StorageAccount account, CrmMetrics.Storage.Facts.PoisonedEventMessages poisonedEvents, ILogger<StorageInitializer> logger) : BackgroundService
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the tables, queues and containers exist.</summary>
    public Task Ready => _ready.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        var attempts = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                attempts++;
                await account.InitializeAsync(stoppingToken);
                _ready.TrySetResult();
                if (attempts > 1) logger.LogInformation("Storage answers again after {Attempts} attempts: {Account}", attempts, account.Description);
                else logger.LogInformation("Storage ready: {Account}", account.Description);
                await WarnOfPoisonedEventsAsync(stoppingToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // A refused credential is a setting to fix, not an outage to wait out: say so.
                if (StorageFailures.IsCredentialRefusal(e))
                    logger.LogError("Storage refused this app's credentials ({Reason}): check the account key or identity in AzureWebJobsStorage; retrying in {Delay} s",
                        StorageFailures.Describe(e), delay.TotalSeconds);
                else
                    logger.LogWarning("Storage did not answer (attempt {Attempt}: {Error}); retrying in {Delay} s", attempts, e.Message.Split('\n')[0], delay.TotalSeconds);
                try { await Task.Delay(delay, stoppingToken); } catch (OperationCanceledException) { return; }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
            }
        }
    }

    /// <summary>Event messages never ingested wait for an operator: said at every start until they are replayed.</summary>
    private async Task WarnOfPoisonedEventsAsync(CancellationToken ct)
    {
        try
        {
            if (await poisonedEvents.ApproximateCountAsync(ct) is var count and > 0)
                logger.LogWarning("{Count} event messages in {Queue} were not ingested after every attempt; list them with GET /api/events/poisoned and, once the cause is fixed, replay them with POST /api/events/poisoned/replay",
                    count, StorageNames.Queues.Poison(StorageNames.Queues.CrmEvents));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("The poisoned event messages could not be counted: {Error}", e.Message.Split('\n')[0]);
        }
    }
}
