using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using CrmMetrics.LocalHost.Bindings;
using CrmMetrics.LocalHost.Functions;
using CrmMetrics.LocalHost.Rpc;
using CrmMetrics.LocalHost.Rpc.Messages;
using CrmMetrics.LocalHost.Storage;

namespace CrmMetrics.LocalHost.Triggers.Timers;

/// <summary>What a timer trigger says about itself: the schedule's last and next occurrences.</summary>
public sealed record ScheduleStatus(DateTimeOffset? Last, DateTimeOffset? Next, DateTimeOffset LastUpdated);

/// <summary>
/// Drives a <c>timerTrigger</c> function as the Functions host does. One host at a time runs it:
/// the holder of the listener lock (a blob lease in <c>azure-webjobs-hosts</c>, renewed while held;
/// another host takes over when it lapses). Occurrences never overlap: as in the Functions host, the next
/// is computed when one fires (a time span's an interval after it fired) and waited for once its run ends,
/// or fired at once when it came due during the run. With <c>useMonitor</c> (the default; off for a schedule firing more than once a minute, as there) the last
/// and next occurrences are kept in a status blob, so an occurrence missed while no host ran is run at start with <c>IsPastDue</c>;
/// <c>runOnStartup</c> runs it once when the host starts. The function gets the host's
/// <c>TimerInfo</c> payload.
/// </summary>
public sealed class TimerTriggerScheduler(
    string functionName,
    TimerSchedule schedule,
    bool runOnStartup,
    bool useMonitor,
    BlobContainerClient hosts,
    string hostId,
    FunctionInvoker invoker,
    QueueOutputWriter outputs,
    TimeProvider clock,
    ILogger logger)
{
    public static readonly TimeSpan LockDuration = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan LockRetry = TimeSpan.FromSeconds(10);
    // As the Functions host's TimerListener: a timer waits 24 days at most at a time (.NET's take 49.7 days at most).
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(24);

    // As the Functions host: a schedule that fires more than once a minute keeps no status, whatever the function asks.
    private readonly bool _monitored = useMonitor && schedule.KeepsStatus;

    public string LockBlobName => $"locks/{hostId}/{functionName}.Listener";
    public string StatusBlobName => $"timers/{hostId}/{functionName}/status";

    public async Task RunAsync(CancellationToken stopping)
    {
        var lockBlob = hosts.GetBlobClient(LockBlobName);
        Task CreateLockAsync() => StorageRetry.UntilDoneAsync(async ct =>
        {
            await hosts.CreateIfNotExistsAsync(cancellationToken: ct);
            try { await lockBlob.UploadAsync(BinaryData.FromString(""), overwrite: false, ct); }
            catch (RequestFailedException e) when (e.Status is 409 or 412) { /* there already */ }
        }, $"creating the listener lock of {functionName}", logger, stopping);
        await CreateLockAsync();
        logger.LogInformation("{Function} runs on schedule '{Schedule}' ({Zone})", functionName, schedule.Text, schedule.Zone.Id);
        if (useMonitor && !_monitored)
            logger.LogInformation("{Function} keeps no schedule status, as Azure's host keeps none for a schedule that fires more than once a minute: nothing is past due after a stop", functionName);

        var startup = runOnStartup;
        var waiting = false;
        while (!stopping.IsCancellationRequested)
        {
            var lease = lockBlob.GetBlobLeaseClient();
            try
            {
                await lease.AcquireAsync(LockDuration, cancellationToken: stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // The lock blob is gone (storage was reset): made again, then taken.
                logger.LogWarning("{Function}: its listener lock blob is missing; creating it again", functionName);
                try { await CreateLockAsync(); } catch (OperationCanceledException) { break; }
                continue;
            }
            catch (Exception e) when (StorageRetry.IsStorageFailure(e, stopping))
            {
                if (!waiting) logger.LogInformation("{Function}: {Why}", functionName, WhyWaiting(e));
                waiting = true;
                try { await Task.Delay(LockRetry, stopping); } catch (OperationCanceledException) { break; }
                continue;
            }
            waiting = false;
            using var held = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            var renewing = RenewAsync(lease, held);
            try
            {
                await ScheduleAsync(startup, held.Token, stopping);
            }
            catch (OperationCanceledException) when (held.IsCancellationRequested)
            {
            }
            finally
            {
                await held.CancelAsync();
                await renewing;
                try { await lease.ReleaseAsync(cancellationToken: CancellationToken.None); }
                catch (Exception e) when (StorageRetry.IsStorageFailure(e, CancellationToken.None)) { /* lapsed already, or storage is away: it lapses */ }
            }
            startup = false;
        }
    }

    /// <summary>
    /// Why the listener lock was not taken, for the log: another host holds it (409), or storage failed, which a
    /// failure without a status is (found by probing: it read "(or storage did not answer: (null))").
    /// </summary>
    internal static string WhyWaiting(Exception e) => e is RequestFailedException { Status: 409 }
        ? "another host holds its listener lock; waiting to take over"
        : $"its listener lock could not be taken: {StorageRetry.Describe(e)}; trying again every {LockRetry.TotalSeconds:0} s";

    /// <summary>
    /// Runs occurrences while the lock is held: a past-due one first, then each as it comes. As in the Functions
    /// host, the status (kept in memory too when it is not saved) says when: its <c>Next</c>, computed when the last
    /// occurrence fired. A run that started finishes even if the lock is lost meanwhile (only stopping the host cancels it).
    /// </summary>
    private async Task ScheduleAsync(bool startup, CancellationToken held, CancellationToken stopping)
    {
        var status = _monitored ? await ReadStatusAsync(held) : null;
        var now = clock.GetUtcNow();
        if (status is { Next: { } recorded } && !schedule.Gave(recorded, status.Last, status.LastUpdated))
        {
            // As the Functions host does: a status whose Next the schedule would not give was saved under another
            // schedule (or zone); none of its occurrences is past due (found by an operator's probe: an occurrence
            // of the old schedule ran at once after a change).
            logger.LogInformation("{Function}: its schedule changed since its status was saved (next was {Recorded:O}); nothing is past due", functionName, recorded);
            status = schedule.Rescheduled(status, now);
            await SaveStatusAsync(status, held);
        }
        else if (status is not { Next: not null })
        {
            status = schedule.FirstStatus(now);
            await SaveStatusAsync(status, held);
        }

        if (status.Next is { } missed && missed < now)
        {
            logger.LogWarning("{Function}: the occurrence at {Time:O} was missed while no host ran it; running it now (past due)", functionName, missed);
            status = await RunOnceAsync(status, missed, pastDue: true, stopping);
        }
        else if (startup)
        {
            status = await RunOnceAsync(status, now, pastDue: false, stopping);
        }

        while (!held.IsCancellationRequested)
        {
            // As the Functions host's TimerListener: the timer is set for the status's Next, computed when the last
            // occurrence fired. One that came due while the last run ran fires at once; neither it nor one whose timer
            // fires late (a machine that slept through it) is past due: only the check at start makes a run past due.
            if (status.Next is not { } due)
            {
                // A schedule with no occurrence to come (0 0 0 30 2 *: Cronos gives none). Azure's NCRONTAB gives the end of
                // time, so its timer never fires and its listener keeps its lock; returning here let the lock go and took it
                // again at once, over and over, reading and writing the status each time.
                logger.LogWarning("{Function}: its schedule '{Schedule}' has no occurrence to come; it does not run", functionName, schedule.Text);
                await Task.Delay(Timeout.InfiniteTimeSpan, clock, held);
                return;
            }
            await WaitUntilAsync(due, held);
            status = await RunOnceAsync(status, due, pastDue: false, stopping);
        }
    }

    /// <summary>Waits until <paramref name="due"/> by the clock, in waits of <see cref="LongestWait"/> at most, as the Functions host does for an occurrence further away.</summary>
    private async Task WaitUntilAsync(DateTimeOffset due, CancellationToken ct)
    {
        for (var left = due - clock.GetUtcNow(); left > TimeSpan.Zero; left = due - clock.GetUtcNow())
            await Task.Delay(left < LongestWait ? left : LongestWait, clock, ct);
    }

    /// <summary>
    /// Invokes one occurrence and returns the status after it. As in the Functions host, the function gets the
    /// status as it stood before the invocation: <c>Next</c> is the occurrence being run (the missed one, when past
    /// due; on a start-up run, the one to come); the status saved afterwards moves on from the time it fired.
    /// </summary>
    private async Task<ScheduleStatus> RunOnceAsync(ScheduleStatus before, DateTimeOffset occurrence, bool pastDue, CancellationToken stopping)
    {
        await invoker.WaitForWorkerAsync(stopping);
        var firedAt = clock.GetUtcNow();
        var info = new
        {
            Schedule = new { AdjustForDST = true },
            ScheduleStatus = _monitored ? new { Last = before.Last ?? DateTimeOffset.MinValue, before.Next, before.LastUpdated } : null,
            IsPastDue = pastDue,
        };
        try
        {
            var worker = await invoker.WorkerAsync(stopping);
            var function = worker.Function(functionName);
            var result = await invoker.InvokeAsync(functionName, new ParameterBinding { Name = function.Trigger.Name, Data = TypedDataText.Json(info) },
                new Dictionary<string, TypedData>(), stopping, worker);
            await outputs.WriteAsync(function, result, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // As in the Functions host: a failed occurrence is logged; the schedule goes on.
            logger.LogError("{Function} failed for the occurrence at {Time:O}: {Error}", functionName, occurrence, e.Message);
        }
        var after = schedule.StatusAfter(occurrence, firedAt);
        await SaveStatusAsync(after, stopping);
        return after;
    }

    /// <summary>Saves the status when the timer keeps one (<c>useMonitor</c>); storage that fails is logged, and the schedule goes on from memory.</summary>
    private async Task SaveStatusAsync(ScheduleStatus status, CancellationToken ct)
    {
        if (!_monitored) return;
        try { await WriteStatusAsync(status, ct); }
        catch (Exception e) when (StorageRetry.IsStorageFailure(e, ct)) { logger.LogWarning("{Function}: its schedule status could not be saved: {Error}", functionName, e.Message.Split('\n')[0]); }
    }

    private async Task<ScheduleStatus?> ReadStatusAsync(CancellationToken ct)
    {
        try
        {
            var content = await hosts.GetBlobClient(StatusBlobName).DownloadContentAsync(ct);
            return JsonSerializer.Deserialize<ScheduleStatus>(content.Value.Content.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (JsonException)
        {
            logger.LogWarning("{Function}: its schedule status blob is unreadable; starting afresh", functionName);
            return null;
        }
        catch (Exception e) when (StorageRetry.IsStorageFailure(e, ct))
        {
            logger.LogWarning("{Function}: its schedule status could not be read ({Error}); past-due occurrences are not looked for this time", functionName, e.Message.Split('\n')[0]);
            return null;
        }
    }

    private Task WriteStatusAsync(ScheduleStatus status, CancellationToken ct) =>
        hosts.GetBlobClient(StatusBlobName).UploadAsync(BinaryData.FromString(JsonSerializer.Serialize(status)), overwrite: true, ct);

    /// <summary>
    /// Keeps the lock. A renewal that fails is tried again; only when the lease may have lapsed (no
    /// renewal for its whole duration) is the lock taken as lost, and scheduling stops until it is held again.
    /// </summary>
    private async Task RenewAsync(BlobLeaseClient lease, CancellationTokenSource held)
    {
        var renewed = clock.GetUtcNow();
        var failing = false;
        try
        {
            while (true)
            {
                await Task.Delay(LockDuration / 4, clock, held.Token);
                try
                {
                    await lease.RenewAsync(cancellationToken: held.Token);
                    renewed = clock.GetUtcNow();
                    failing = false;
                }
                catch (Exception e) when (StorageRetry.IsStorageFailure(e, held.Token))
                {
                    var lost = e is RequestFailedException { Status: 409 or 412 } || clock.GetUtcNow() - renewed >= LockDuration - LockDuration / 4;
                    if (lost)
                    {
                        logger.LogWarning("{Function}: its listener lock was lost ({Error}); it stops until it holds the lock again", functionName, e.Message.Split('\n')[0]);
                        await held.CancelAsync();
                        return;
                    }
                    if (!failing) logger.LogWarning("{Function}: renewing its listener lock failed ({Error}); retrying", functionName, e.Message.Split('\n')[0]);
                    failing = true;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
