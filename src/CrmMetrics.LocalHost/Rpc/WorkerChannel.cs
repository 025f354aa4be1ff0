using System.Collections.Concurrent;
using System.Threading.Channels;
using CrmMetrics.LocalHost.Rpc.Messages;
using Grpc.Core;

namespace CrmMetrics.LocalHost.Rpc;

/// <summary>
/// The event stream of one worker process: messages to it go through one writer; answers are
/// matched to their requests by request id (handshake) or invocation id (invocations); logs go to
/// <see cref="Log"/>. When the stream ends (the worker exited or broke), every waiting request fails.
/// </summary>
public sealed class WorkerChannel
{
    private readonly Channel<StreamingMessage> _outgoing = Channel.CreateUnbounded<StreamingMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _requests = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<InvocationResponse>> _invocations = new();
    // Invocations this host cancelled that the worker has not answered yet (its answer comes after what it logs about them).
    private readonly ConcurrentDictionary<string, bool> _cancelled = new();
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Exception> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WorkerChannel(string workerId) => WorkerId = workerId;

    public string WorkerId { get; }

    /// <summary>Completes when the worker has opened its stream (<c>StartStream</c>).</summary>
    public Task Connected => _connected.Task;

    /// <summary>Completes, with the reason, when the stream is over.</summary>
    public Task<Exception> Closed => _closed.Task;

    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>Where the worker's <c>RpcLog</c> messages go.</summary>
    public Action<RpcLog>? Log { get; set; }

    /// <summary>Sends a request and waits for the answer carrying the same request id.</summary>
    public async Task<StreamingMessage> RequestAsync(StreamingMessage request, TimeSpan timeout, CancellationToken ct)
    {
        request.RequestId = Guid.NewGuid().ToString();
        var answer = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests[request.RequestId] = answer;
        try
        {
            Send(request);
            return await answer.Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            throw new WorkerUnavailableException($"The worker did not answer {request.ContentCase} within {timeout.TotalSeconds:0} s.");
        }
        finally
        {
            _requests.TryRemove(request.RequestId, out _);
        }
    }

    /// <summary>
    /// Sends an invocation and waits for its response. Cancelling sends <c>InvocationCancel</c> and
    /// stops waiting; the worker may still finish it, and its late answer is dropped.
    /// </summary>
    public async Task<InvocationResponse> InvokeAsync(InvocationRequest invocation, CancellationToken ct)
    {
        var answer = new TaskCompletionSource<InvocationResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_invocations.TryAdd(invocation.InvocationId, answer))
            throw new InvalidOperationException($"Invocation {invocation.InvocationId} is already running.");
        try
        {
            Send(new StreamingMessage { RequestId = Guid.NewGuid().ToString(), InvocationRequest = invocation });
            return await answer.Task.WaitAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested && !IsClosed)
        {
            _cancelled[invocation.InvocationId] = true;
            Send(new StreamingMessage { RequestId = Guid.NewGuid().ToString(), InvocationCancel = new InvocationCancel { InvocationId = invocation.InvocationId } });
            throw;
        }
        finally
        {
            _invocations.TryRemove(invocation.InvocationId, out _);
        }
    }

    /// <summary>Whether this host cancelled the invocation and the worker has not answered it since.</summary>
    public bool WasCancelled(string invocationId) => invocationId.Length > 0 && _cancelled.ContainsKey(invocationId);

    public void Send(StreamingMessage message)
    {
        if (IsClosed) throw new WorkerUnavailableException("The worker's stream is closed: " + _closed.Task.Result.Message);
        _outgoing.Writer.TryWrite(message);
    }

    /// <summary>Serves the stream until it ends: called by the gRPC service with the worker's first message already read.</summary>
    public async Task RunAsync(IAsyncStreamReader<StreamingMessage> incoming, IServerStreamWriter<StreamingMessage> outgoing, CancellationToken ct)
    {
        _connected.TrySetResult();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var writer = WriteAsync(outgoing, stop.Token);
        Exception reason = new WorkerUnavailableException("The worker closed its stream.");
        try
        {
            while (await incoming.MoveNext(stop.Token)) Dispatch(incoming.Current);
        }
        catch (Exception e) when (e is OperationCanceledException or Grpc.Core.RpcException or IOException or InvalidOperationException)
        {
            reason = new WorkerUnavailableException("The worker's stream broke: " + e.Message);
        }
        finally
        {
            Close(reason);
            await stop.CancelAsync();
            try { await writer; } catch (OperationCanceledException) { }
        }
    }

    /// <summary>Ends the channel (the stream broke, or the process exited); everything waiting fails with <paramref name="reason"/>.</summary>
    public void Close(Exception reason)
    {
        if (!_closed.TrySetResult(reason)) return;
        _connected.TrySetException(reason);
        _outgoing.Writer.TryComplete();
        foreach (var pending in _requests.Values) pending.TrySetException(reason);
        foreach (var pending in _invocations.Values) pending.TrySetException(reason);
    }

    private void Dispatch(StreamingMessage message)
    {
        switch (message.ContentCase)
        {
            case StreamingMessage.ContentOneofCase.RpcLog:
                Log?.Invoke(message.RpcLog);
                break;
            case StreamingMessage.ContentOneofCase.InvocationResponse:
                if (_invocations.TryGetValue(message.InvocationResponse.InvocationId, out var invocation)) invocation.TrySetResult(message.InvocationResponse);
                _cancelled.TryRemove(message.InvocationResponse.InvocationId, out _);
                break;
            default:
                if (_requests.TryGetValue(message.RequestId, out var request)) request.TrySetResult(message);
                break;
        }
    }

    private async Task WriteAsync(IServerStreamWriter<StreamingMessage> outgoing, CancellationToken ct)
    {
        await foreach (var message in _outgoing.Reader.ReadAllAsync(ct))
        {
            await outgoing.WriteAsync(message, ct);
        }
    }
}

/// <summary>No worker can take the work now (it is starting, restarting, or its stream broke).</summary>
public sealed class WorkerUnavailableException(string message) : Exception(message);
