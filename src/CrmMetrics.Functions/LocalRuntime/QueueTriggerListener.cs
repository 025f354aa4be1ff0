using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using CrmMetrics.Functions.Invocation;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Functions.LocalRuntime;

/// <summary>
/// Drives a <c>queueTrigger</c> function the way the Functions host does: polls with back-off when
/// idle, decodes base64 messages, invokes with the host's payload (the message as a JSON string,
/// dequeue count and ids in Metadata), deletes on success, makes a failed message visible again after
/// a growing delay, and moves it to <c>&lt;queue&gt;-poison</c> after maxDequeueCount attempts.
/// </summary>
public sealed class QueueTriggerListener(
    FunctionDefinition function,
    HostSettings host,
    StorageAccount account,
    FunctionDispatcher dispatcher,
    OutputBindingWriter outputs,
    IConfiguration configuration,
    ILogger logger)
{
    private static readonly TimeSpan MinPoll = TimeSpan.FromMilliseconds(100);

    // How long a received message stays invisible while processed (renewed at a third of it);
    // after a crash it reappears when this runs out. CrmMetrics:LocalRuntime:MessageLeaseSeconds overrides it.
    private readonly TimeSpan Lease = TimeSpan.FromSeconds(int.TryParse(configuration["CrmMetrics:LocalRuntime:MessageLeaseSeconds"], out var s) && s is >= 5 and <= 3600 ? s : 300);

    public async Task RunAsync(CancellationToken stopping)
    {
        var queueName = FunctionCatalog.Resolve(function.Trigger.Get("queueName") ?? throw new InvalidOperationException($"{function.Name} has no queueName"), configuration);
        var queue = account.RawQueues.GetQueueClient(queueName);
        var poison = account.Queue(StorageNames.Queues.Poison(queueName));
        await queue.CreateIfNotExistsAsync(cancellationToken: stopping);
        await poison.CreateIfNotExistsAsync(cancellationToken: stopping);
        logger.LogInformation("{Function} listens on queue {Queue} (max {Max} attempts, then {Poison})", function.Name, queueName, host.MaxDequeueCount, poison.Name);

        var delay = MinPoll;
        var inFlight = new List<Task>();
        while (!stopping.IsCancellationRequested)
        {
            QueueMessage[] messages;
            try
            {
                messages = (await queue.ReceiveMessagesAsync(host.BatchSize, Lease, stopping)).Value;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning("{Function}: receiving from {Queue} failed ({Message}); retrying", function.Name, queueName, e.Message);
                messages = [];
            }

            if (messages.Length == 0)
            {
                try { await Task.Delay(delay, stopping); } catch (OperationCanceledException) { break; }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, host.MaxPollingInterval.Ticks));
                continue;
            }
            delay = MinPoll;
            inFlight.AddRange(messages.Select(m => ProcessAsync(queue, poison, m, stopping)));
            // Like the host's newBatchThreshold: fetch more once half the batch is done.
            while (inFlight.Count > host.BatchSize / 2)
            {
                var done = await Task.WhenAny(inFlight);
                inFlight.Remove(done);
            }
        }
        await Task.WhenAll(inFlight);
    }

    private async Task ProcessAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stopping)
    {
        var popReceipt = message.PopReceipt;
        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var renewing = RenewAsync(queue, message.MessageId, () => popReceipt, r => popReceipt = r, renewal.Token);
        var watch = Stopwatch.StartNew();
        Exception? failure = null;
        string? text = null;
        try
        {
            text = Decode(message.Body.ToString());
            var request = BuildRequest(text, message);
            var response = await dispatcher.InvokeAsync(function.Name, request, stopping);
            await outputs.WriteAsync(function, response, message.MessageId, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutting down: leave the message; it becomes visible again when its lease ends.
            await renewal.CancelAsync();
            await renewing;
            return;
        }
        catch (Exception e)
        {
            failure = e;
        }
        await renewal.CancelAsync();
        await renewing;

        try
        {
            if (failure is null)
            {
                await queue.DeleteMessageAsync(message.MessageId, popReceipt, CancellationToken.None);
                logger.LogDebug("{Function} processed message {Id} in {Ms} ms", function.Name, message.MessageId, watch.ElapsedMilliseconds);
            }
            else if (message.DequeueCount >= host.MaxDequeueCount)
            {
                logger.LogError(failure, "{Function} failed on message {Id} {Count} times; moving it to {Poison}", function.Name, message.MessageId, message.DequeueCount, poison.Name);
                await poison.SendMessageAsync(text ?? message.Body.ToString(), CancellationToken.None);
                await queue.DeleteMessageAsync(message.MessageId, popReceipt, CancellationToken.None);
            }
            else
            {
                var backoff = Backoff(message.DequeueCount);
                logger.LogWarning("{Function} failed on message {Id} (attempt {Count} of {Max}): {Error}; retrying in {Delay}",
                    function.Name, message.MessageId, message.DequeueCount, host.MaxDequeueCount, failure.Message, backoff);
                await queue.UpdateMessageAsync(message.MessageId, popReceipt, visibilityTimeout: backoff, cancellationToken: CancellationToken.None);
            }
        }
        catch (Exception e)
        {
            // The lease runs out and the message comes back: nothing is lost.
            logger.LogWarning("{Function}: settling message {Id} failed ({Message}); it will reappear", function.Name, message.MessageId, e.Message);
        }
    }

    /// <summary>The host's payload for a queue trigger: the message text as a JSON string, its metadata beside it.</summary>
    private InvocationRequest BuildRequest(string text, QueueMessage message)
    {
        var data = new Dictionary<string, object?> { [function.Trigger.Name] = text };
        var metadata = new Dictionary<string, object?>
        {
            ["DequeueCount"] = message.DequeueCount,
            ["Id"] = message.MessageId,
            ["PopReceipt"] = message.PopReceipt,
            ["InsertionTime"] = message.InsertedOn,
            ["ExpirationTime"] = message.ExpiresOn,
            ["NextVisibleTime"] = message.NextVisibleOn,
            ["sys"] = new { MethodName = function.Name, UtcNow = DateTimeOffset.UtcNow, RandGuid = Guid.NewGuid() },
        };
        var json = JsonSerializer.Serialize(new { Data = data, Metadata = metadata });
        return JsonSerializer.Deserialize<InvocationRequest>(json, FunctionDispatcher.PayloadJson)!;
    }

    /// <summary>The host's queue trigger expects base64 (host.json messageEncoding default); a message that is not is a failed attempt.</summary>
    private static string Decode(string body)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(body));
        }
        catch (FormatException)
        {
            throw new InvalidOperationException("The message is not base64-encoded, as the queue trigger requires.");
        }
    }

    private TimeSpan Backoff(long dequeueCount)
    {
        var baseDelay = host.VisibilityTimeout > TimeSpan.Zero ? host.VisibilityTimeout : TimeSpan.FromSeconds(1);
        var factor = Math.Pow(2, Math.Min(dequeueCount - 1, 10));
        return TimeSpan.FromTicks((long)Math.Min(baseDelay.Ticks * factor, TimeSpan.FromMinutes(1).Ticks));
    }

    private async Task RenewAsync(QueueClient queue, string messageId, Func<string> receipt, Action<string> setReceipt, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Lease / 3, ct);
                var updated = await queue.UpdateMessageAsync(messageId, receipt(), visibilityTimeout: Lease, cancellationToken: ct);
                setReceipt(updated.Value.PopReceipt);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            logger.LogWarning("{Function}: could not extend the lease of message {Id}: {Message}", function.Name, messageId, e.Message);
        }
    }
}
