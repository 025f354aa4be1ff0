using System.Diagnostics;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using CrmMetrics.LocalHost.App;
using CrmMetrics.LocalHost.Bindings;
using CrmMetrics.LocalHost.Functions;
using CrmMetrics.LocalHost.Rpc;
using CrmMetrics.LocalHost.Rpc.Messages;
using CrmMetrics.LocalHost.Storage;

namespace CrmMetrics.LocalHost.Triggers.Queues;

/// <summary>
/// Drives a <c>queueTrigger</c> function as the Functions host does, from host.json
/// <c>extensions.queues</c>: polls with back-off up to <c>maxPollingInterval</c> when the queue is
/// empty (and at once when this host wrote to it), receives <c>batchSize</c> messages and fetches
/// more when no more than <c>newBatchThreshold</c> are running, decodes base64, invokes with the
/// message and its metadata (<c>DequeueCount</c>, <c>Id</c>, <c>PopReceipt</c>, <c>InsertionTime</c>…),
/// deletes it on success, makes it visible again after <c>visibilityTimeout</c> on failure, and moves
/// it to <c>&lt;queue&gt;-poison</c> after <c>maxDequeueCount</c> attempts (a queue that is itself a poison
/// queue, or whose poison queue's name would be too long, has none, as in Azure: its messages are retried until they succeed). A message stays invisible
/// while its function runs (a renewed lease), so a crash of the whole host only delays it.
/// </summary>
public sealed class QueueTriggerListener(
    string functionName,
    QueueClient queue,
    QueueClient? poison,
    QueueOptions options,
    LocalHostOptions hostOptions,
    FunctionInvoker invoker,
    QueueOutputWriter outputs,
    QueueWakeups wakeups,
    ILogger logger)
{
    private static readonly TimeSpan MinPoll = TimeSpan.FromMilliseconds(100);
    private readonly Lock _lock = new();
    private CancellationTokenSource _wake = new();

    public string QueueName => queue.Name;

    public async Task RunAsync(CancellationToken stopping)
    {
        await StorageRetry.UntilDoneAsync(async ct =>
        {
            await queue.CreateIfNotExistsAsync(cancellationToken: ct);
            if (poison is not null) await poison.CreateIfNotExistsAsync(cancellationToken: ct);
        }, $"creating the queues of {functionName}", logger, stopping);
        wakeups.Register(queue.Name, Wake);
        if (poison is null) logger.LogInformation("{Function} listens on queue {Queue} (no poison queue: a failing message is retried until it succeeds)", functionName, queue.Name);
        else logger.LogInformation("{Function} listens on queue {Queue} ({Max} attempts, then {Poison})", functionName, queue.Name, options.MaxDequeueCount, poison.Name);

        var delay = MinPoll;
        var inFlight = new List<(Task Task, QueueMessage Message, CancellationTokenSource Cancel)>();
        // Invocations outlive the stop signal: they get the grace period to finish.
        using var invocations = new CancellationTokenSource();
        // So does a receive under way: once the service has dequeued, cancelling the read of its answer
        // would leave the messages invisible for a whole lease with no one running them. One grace
        // period from the stop signal covers both; a receive that outlasts it (storage not answering)
        // is given up.
        using var receiving = new CancellationTokenSource();
        var stopSignalled = 0L;
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var stopReceiving = stopping.Register(() =>
        {
            Interlocked.Exchange(ref stopSignalled, Stopwatch.GetTimestamp());
            receiving.CancelAfter(hostOptions.WorkerGracePeriod);
            stopped.TrySetResult();
        });
        var failing = false;
        while (!stopping.IsCancellationRequested)
        {
            QueueMessage[] messages;
            try
            {
                // No worker, no receiving: a message is not spent on attempts that cannot run.
                await invoker.WaitForWorkerAsync(stopping);
                messages = (await queue.ReceiveMessagesAsync(options.BatchSize, hostOptions.QueueMessageLease, receiving.Token)).Value;
                if (failing) logger.LogInformation("{Function}: queue {Queue} answers again", functionName, queue.Name);
                failing = false;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (StorageRetry.IsStorageFailure(e, stopping))
            {
                // One line per outage, not one per poll.
                if (!failing) logger.LogWarning("{Function}: receiving from queue {Queue} failed: {Failure}; retrying with back-off", functionName, queue.Name, StorageRetry.Describe(e));
                failing = true;
                messages = [];
            }

            if (messages.Length == 0)
            {
                await WaitAsync(delay, stopping);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxPollingInterval.Ticks));
                continue;
            }
            delay = MinPoll;
            // Received as the host stops: run them like those already running, within the grace period.
            if (stopping.IsCancellationRequested) logger.LogInformation("{Function}: {Count} messages received as the host stops run within the grace period", functionName, messages.Length);
            foreach (var m in messages)
            {
                var cancel = CancellationTokenSource.CreateLinkedTokenSource(invocations.Token);
                inFlight.Add((ProcessAsync(m, cancel.Token), m, cancel));
            }
            // Fetch the next batch once no more than newBatchThreshold messages are running. A stop ends the
            // wait at once (found by probing: under a backlog it lasted until enough invocations had finished,
            // 15–25 s past the grace period, and only then were the others' messages released).
            while (inFlight.Count > options.NewBatchThreshold && !stopping.IsCancellationRequested)
            {
                await Task.WhenAny(inFlight.Select(f => f.Task).Append(stopped.Task));
                // Each invocation's source is linked to the listener's: undisposed, its registration would stay
                // on that token for as long as the host runs, one per message ever processed.
                foreach (var done in inFlight.Where(f => f.Task.IsCompleted).ToList())
                {
                    done.Cancel.Dispose();
                    inFlight.Remove(done);
                }
            }
        }

        // Stopping: running invocations get the grace period; what is still running then is cancelled
        // and its message released at once for the next host.
        if (inFlight.Count > 0)
        {
            var all = Task.WhenAll(inFlight.Select(f => f.Task));
            var signalled = Interlocked.Read(ref stopSignalled);
            var left = hostOptions.WorkerGracePeriod - (signalled == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(signalled));
            if (await Task.WhenAny(all, Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero)) != all)
            {
                logger.LogWarning("{Function}: {Count} invocations did not finish within the grace period; their messages are released", functionName, inFlight.Count(f => !f.Task.IsCompleted));
                await invocations.CancelAsync();
                try { await all; } catch (OperationCanceledException) { }
            }
        }
        foreach (var f in inFlight) f.Cancel.Dispose();
    }

    private void Wake()
    {
        lock (_lock) _wake.Cancel();
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken stopping)
    {
        CancellationTokenSource wake;
        lock (_lock)
        {
            if (_wake.IsCancellationRequested)
            {
                _wake.Dispose();
                _wake = new CancellationTokenSource();
                return;
            }
            wake = _wake;
        }
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stopping, wake.Token);
        try { await Task.Delay(delay, either.Token); } catch (OperationCanceledException) { }
    }

    private async Task ProcessAsync(QueueMessage message, CancellationToken cancel)
    {
        await Task.Yield();
        if (poison is not null && message.DequeueCount > options.MaxDequeueCount)
        {
            // Its earlier deliveries ended unsettled (a host or worker killed while running it) and used up its attempts:
            // it goes to the poison queue without running again, as Azure's queue extension moves it before invoking
            // (found by a review against its source: here it ran a further time).
            try
            {
                logger.LogError("{Function}: message {Id} was delivered {Count} times without settling, more than maxDequeueCount {Max}; moving it to {Poison} without running it",
                    functionName, message.MessageId, message.DequeueCount, options.MaxDequeueCount, poison.Name);
                await poison.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
            }
            catch (Exception e)
            {
                logger.LogWarning("{Function}: moving message {Id} to {Poison} failed ({Message}); it will reappear when its lease ends", functionName, message.MessageId, poison.Name, e.Message.Split('\n')[0]);
            }
            return;
        }
        var receipt = message.PopReceipt;
        using var renewal = new CancellationTokenSource();
        var renewing = RenewAsync(message.MessageId, () => receipt, r => receipt = r, renewal.Token);
        var watch = Stopwatch.StartNew();
        Exception? failure = null;
        var cancelled = false;
        try
        {
            var body = Decode(message);
            var input = new ParameterBinding { Name = "", Data = TypedDataText.IsUtf8(body) ? TypedDataText.String(System.Text.Encoding.UTF8.GetString(body)) : TypedDataText.Bytes(body) };
            var metadata = new Dictionary<string, TypedData>
            {
                ["DequeueCount"] = TypedDataText.Json(message.DequeueCount),
                ["Id"] = TypedDataText.String(message.MessageId),
                ["PopReceipt"] = TypedDataText.String(message.PopReceipt),
                ["InsertionTime"] = TypedDataText.Json(message.InsertedOn),
                ["ExpirationTime"] = TypedDataText.Json(message.ExpiresOn),
                ["NextVisibleTime"] = TypedDataText.Json(message.NextVisibleOn),
                ["QueueTrigger"] = input.Data.DataCase == TypedData.DataOneofCase.String ? input.Data : TypedDataText.String(Convert.ToBase64String(body)),
            };
            var worker = await invoker.WorkerAsync(cancel);
            input.Name = worker.Function(functionName).Trigger.Name;
            var result = await invoker.InvokeAsync(functionName, input, metadata, cancel, worker);
            await outputs.WriteAsync(worker.Function(functionName), result, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            cancelled = true;
        }
        catch (Exception e)
        {
            failure = e;
        }
        await renewal.CancelAsync();
        await renewing;

        try
        {
            if (cancelled)
            {
                // Shutting down: the next host takes it over at once.
                await queue.UpdateMessageAsync(message.MessageId, receipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None);
            }
            else if (failure is null)
            {
                await queue.DeleteMessageAsync(message.MessageId, receipt, CancellationToken.None);
                logger.LogDebug("{Function} processed message {Id} in {Ms} ms", functionName, message.MessageId, watch.ElapsedMilliseconds);
            }
            else if (message.DequeueCount >= options.MaxDequeueCount && poison is not null)
            {
                logger.LogError("{Function} failed on message {Id} {Count} times ({Error}); moving it to {Poison}", functionName, message.MessageId, message.DequeueCount, failure.Message, poison.Name);
                await poison.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None);
                await queue.DeleteMessageAsync(message.MessageId, receipt, CancellationToken.None);
            }
            else
            {
                logger.LogWarning("{Function} failed on message {Id} (attempt {Count} of {Max}): {Error}; it becomes visible again in {Delay}",
                    functionName, message.MessageId, message.DequeueCount, poison is null ? "unlimited" : options.MaxDequeueCount.ToString(System.Globalization.CultureInfo.InvariantCulture), failure.Message, options.VisibilityTimeout);
                await queue.UpdateMessageAsync(message.MessageId, receipt, visibilityTimeout: options.VisibilityTimeout, cancellationToken: CancellationToken.None);
            }
        }
        catch (Exception e)
        {
            // Its lease runs out and it comes back: nothing is lost.
            logger.LogWarning("{Function}: settling message {Id} failed ({Message}); it will reappear when its lease ends", functionName, message.MessageId, e.Message.Split('\n')[0]);
        }
    }

    /// <summary>The message body as the function sees it: base64-decoded when host.json says so (a message that is not base64 is a failed attempt).</summary>
    private byte[] Decode(QueueMessage message)
    {
        if (!options.Base64Messages) return message.Body.ToArray();
        try
        {
            return Convert.FromBase64String(message.Body.ToString());
        }
        catch (FormatException)
        {
            throw new FormatException("The message is not base64-encoded, as host.json extensions.queues.messageEncoding requires.");
        }
    }

    /// <summary>
    /// Extends the message's invisibility while its function runs. Stopping interrupts only the wait
    /// between renewals, never a renewal under way, so the receipt the message is settled with is
    /// always the latest one.
    /// </summary>
    private async Task RenewAsync(string messageId, Func<string> receipt, Action<string> setReceipt, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(hostOptions.QueueMessageLease / 3, ct);
                var updated = await queue.UpdateMessageAsync(messageId, receipt(), visibilityTimeout: hostOptions.QueueMessageLease, cancellationToken: CancellationToken.None);
                setReceipt(updated.Value.PopReceipt);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            logger.LogWarning("{Function}: could not extend the lease of message {Id}: {Message}", functionName, messageId, e.Message.Split('\n')[0]);
        }
    }
}
