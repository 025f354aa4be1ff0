using Azure.Core;
using Azure.Core.Pipeline;

namespace CrmMetrics.Storage.Account;

/// <summary>
/// How long one storage request may go unanswered in the current flow (an HTTP request sets it for
/// its invocation; queue and timer work keeps the clients' own timeout and retries). A storage request
/// that gets no answer within it is not tried again: it fails with a <see cref="StorageAnswerTimeoutException"/>,
/// so a caller hears at once that storage is not answering. Without it, storage that accepted connections
/// and never answered held a request for five tries of the clients' 60 s before its 503 (found by
/// probing), past the 230 s after which Azure's front end gives up on a request anyway. Failures that do
/// answer (a refused connection, a 503 from storage) are retried as before.
/// </summary>
public static class StorageAnswerLimit
{
    private static readonly AsyncLocal<TimeSpan?> Limit = new();

    /// <summary>The limit in force in this flow, if any.</summary>
    public static TimeSpan? Current => Limit.Value;

    /// <summary>Sets the limit for this flow (and the tasks it starts) until the result is disposed.</summary>
    public static Scope Within(TimeSpan limit)
    {
        if (limit <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(limit), limit, "must be positive");
        var outer = Limit.Value;
        Limit.Value = limit;
        return new Scope(outer);
    }

    /// <summary>
    /// No limit in this flow until the result is disposed: for writes that must be done once an HTTP
    /// request has committed (the periods a stored definition changes, marked stale), which keep the
    /// storage clients' full tries.
    /// </summary>
    public static Scope Lifted()
    {
        var outer = Limit.Value;
        Limit.Value = null;
        return new Scope(outer);
    }

    public readonly struct Scope(TimeSpan? outer) : IDisposable
    {
        public void Dispose() => Limit.Value = outer;
    }

    /// <summary>
    /// Starts work that callers of every kind share (one storage call for many callers) without this flow's
    /// limit: the work keeps the clients' full tries whoever started it, and each HTTP caller bounds its own
    /// wait (<see cref="WaitShared{T}"/>).
    /// </summary>
    public static Task<T> StartShared<T>(Func<Task<T>> work)
    {
        using (ExecutionContext.SuppressFlow()) return Task.Run(work);
    }

    /// <summary><see cref="StartShared{T}"/> for work with no result.</summary>
    public static Task StartShared(Func<Task> work)
    {
        using (ExecutionContext.SuppressFlow()) return Task.Run(work);
    }

    /// <summary>Waits for shared work, no longer than this flow's limit when it has one.</summary>
    public static async Task<T> WaitShared<T>(Task<T> shared, CancellationToken ct)
    {
        if (Current is not { } limit) return await shared.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await shared.WaitAsync(limit, ct).ConfigureAwait(false);
        }
        catch (TimeoutException e) when (!shared.IsCompleted)
        {
            throw new StorageAnswerTimeoutException(limit, e);
        }
    }

    /// <summary>Every storage client's pipeline step that applies the limit to each try (<see cref="HttpPipelinePosition.PerRetry"/>).</summary>
    public static HttpPipelinePolicy Policy { get; } = new AnswerLimitPolicy();

    private sealed class AnswerLimitPolicy : HttpPipelinePolicy
    {
        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (Current is not { } limit)
            {
                await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
                return;
            }
            message.NetworkTimeout = limit;
            try
            {
                await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!message.CancellationToken.IsCancellationRequested)
            {
                throw new StorageAnswerTimeoutException(limit, e);
            }
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (Current is not { } limit)
            {
                ProcessNext(message, pipeline);
                return;
            }
            message.NetworkTimeout = limit;
            try
            {
                ProcessNext(message, pipeline);
            }
            catch (OperationCanceledException e) when (!message.CancellationToken.IsCancellationRequested)
            {
                throw new StorageAnswerTimeoutException(limit, e);
            }
        }
    }
}

/// <summary>A storage request got no answer within <see cref="StorageAnswerLimit"/>; it was not tried again.</summary>
public sealed class StorageAnswerTimeoutException(TimeSpan limit, Exception inner)
    : TimeoutException($"Storage did not answer within {limit.TotalSeconds:0.###} s.", inner)
{
    public TimeSpan Limit { get; } = limit;
}
