using System.Collections.Concurrent;
using Azure.Storage.Queues;
using CrmMetrics.LocalHost.App;
using CrmMetrics.LocalHost.Functions;
using CrmMetrics.LocalHost.Rpc;
using CrmMetrics.LocalHost.Storage;

namespace CrmMetrics.LocalHost.Bindings;

/// <summary>
/// Writes an invocation's outputs as the Functions host's bindings do, after the function succeeded
/// and before its trigger is settled: each <c>queue</c> output becomes messages on its Storage queue
/// (created on first use, encoded as host.json says), and a listener of that queue in this host is
/// woken so the next step starts at once. Output types this host does not implement are reported
/// once per function, and their values dropped.
/// </summary>
public sealed class QueueOutputWriter(StorageConnections connections, AppSettings settings, HostJson host, QueueWakeups wakeups, ILogger<QueueOutputWriter> logger)
{
    private readonly ConcurrentDictionary<string, bool> _created = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _warned = new(StringComparer.Ordinal);

    public async Task WriteAsync(HostedFunction function, InvocationResult result, CancellationToken ct)
    {
        foreach (var binding in function.Outputs)
        {
            if (binding.Type.Equals("http", StringComparison.OrdinalIgnoreCase)) continue;
            var messages = TypedDataText.Messages(result.Output(binding.Name));
            if (!binding.Type.Equals("queue", StringComparison.OrdinalIgnoreCase))
            {
                if (messages.Count > 0 && _warned.TryAdd(function.Name + "/" + binding.Name, true))
                    logger.LogWarning("{Function}: output binding {Binding} of type {Type} is not supported by the local host; its values are dropped", function.Name, binding.Name, binding.Type);
                continue;
            }
            if (messages.Count == 0) continue;
            var queue = await QueueAsync(function, binding, ct);
            foreach (var message in messages)
            {
                await queue.SendMessageAsync(host.Queues.Base64Messages ? BinaryData.FromString(Convert.ToBase64String(message.ToMemory().Span)) : message, cancellationToken: ct);
            }
            wakeups.Wake(queue.Name);
        }
    }

    private async Task<QueueClient> QueueAsync(HostedFunction function, FunctionBinding binding, CancellationToken ct)
    {
        var raw = binding.Get("queueName") ?? throw new FunctionFailedException(function.Name, $"output binding {binding.Name} names no queueName", null);
        if (!settings.TryResolve(raw, out var name, out var missing))
            throw new FunctionFailedException(function.Name, $"output binding {binding.Name}: the setting {missing} named by {raw} is not set", null);
        var connection = connections.Get(binding.Get("connection"));
        var queue = connection.Queues.GetQueueClient(name.ToLowerInvariant());
        if (_created.TryAdd(connection.Name + "/" + queue.Name, true)) await queue.CreateIfNotExistsAsync(cancellationToken: ct);
        return queue;
    }
}

/// <summary>Lets a queue listener of this host know that a message was just written to its queue.</summary>
public sealed class QueueWakeups
{
    private readonly ConcurrentDictionary<string, Action> _listeners = new(StringComparer.OrdinalIgnoreCase);

    public void Register(string queue, Action wake) => _listeners[queue] = wake;

    public void Wake(string queue)
    {
        if (_listeners.TryGetValue(queue, out var wake)) wake();
    }
}
