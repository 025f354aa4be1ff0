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

    public readonly struct Scope(TimeSpan? outer) : IDisposable
    {
        public void Dispose() => Limit.Value = outer;
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
