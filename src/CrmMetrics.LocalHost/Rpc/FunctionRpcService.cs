using System.Collections.Concurrent;
using CrmMetrics.LocalHost.Rpc.Messages;
using Grpc.Core;

namespace CrmMetrics.LocalHost.Rpc;

/// <summary>
/// The host's end of <c>FunctionRpc.EventStream</c>: a worker connects and says who it is
/// (<c>StartStream</c>); the stream is handed to the channel the host made when it started that worker.
/// A worker the host did not start is refused.
/// </summary>
public sealed class FunctionRpcService(WorkerChannelRegistry registry, ILogger<FunctionRpcService> logger) : FunctionRpc.FunctionRpcBase
{
    public override async Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken)) return;
        var first = requestStream.Current;
        if (first.ContentCase != StreamingMessage.ContentOneofCase.StartStream)
        {
            logger.LogWarning("A worker opened the stream with {Message} instead of StartStream; refused", first.ContentCase);
            return;
        }
        if (!registry.TryTake(first.StartStream.WorkerId, out var channel))
        {
            logger.LogWarning("Worker {WorkerId} is not one this host started; its stream is refused", first.StartStream.WorkerId);
            return;
        }
        await channel.RunAsync(requestStream, responseStream, context.CancellationToken);
    }
}

/// <summary>The channels of workers that were started and have not connected yet, by worker id.</summary>
public sealed class WorkerChannelRegistry
{
    private readonly ConcurrentDictionary<string, WorkerChannel> _waiting = new();

    public WorkerChannel Create(string workerId) => _waiting[workerId] = new WorkerChannel(workerId);

    public bool TryTake(string workerId, out WorkerChannel channel) => _waiting.TryRemove(workerId, out channel!);

    public void Forget(string workerId) => _waiting.TryRemove(workerId, out _);
}
