using System.Diagnostics;
using CrmMetrics.LocalHost.App;
using CrmMetrics.LocalHost.Rpc;
using CrmMetrics.LocalHost.Rpc.Messages;
using CrmMetrics.LocalHost.Workers;

namespace CrmMetrics.LocalHost.Functions;

/// <summary>What an invocation gave back: its output bindings by name (<c>$return</c> for the return value).</summary>
public sealed class InvocationResult(InvocationResponse response)
{
    public TypedData? Output(string binding) =>
        binding == "$return" ? response.ReturnValue : response.OutputData.FirstOrDefault(o => string.Equals(o.Name, binding, StringComparison.OrdinalIgnoreCase))?.Data;
}

/// <summary>The function ran and failed (or was cancelled): what the worker said.</summary>
public sealed class FunctionFailedException(string function, string message, string? type) : Exception($"{function} failed: {(type is { Length: > 0 } ? type + ": " : "")}{message}")
{
    public string Function { get; } = function;

    /// <summary>The exception's type as the worker named it (<c>System.TimeoutException</c>), if it said.</summary>
    public string? Type { get; } = type;

    /// <summary>What the worker said failed, without the function's name and the type.</summary>
    public string Reason { get; } = message;
}

/// <summary>
/// Runs one invocation of a function on the ready worker, as every trigger does: the trigger's input,
/// its metadata (with the host's <c>sys</c> entry), a trace context, and the host.json function timeout.
/// </summary>
public sealed class FunctionInvoker(WorkerSupervisor workers, HostJson host, LocalHostOptions options)
{
    /// <summary>The ready worker, waiting for one as long as <see cref="LocalHostOptions.WorkerWait"/> allows.</summary>
    public Task<ReadyWorker> WorkerAsync(CancellationToken ct) => workers.WaitReadyAsync(options.WorkerWait, ct);

    /// <summary>Waits, for as long as it takes, until a worker is ready (triggers pause while it restarts).</summary>
    public Task WaitForWorkerAsync(CancellationToken ct) => workers.WaitReadyAsync(Timeout.InfiniteTimeSpan, ct);

    public async Task<InvocationResult> InvokeAsync(string functionName, ParameterBinding trigger, IDictionary<string, TypedData> metadata, CancellationToken ct,
        ReadyWorker? worker = null, string? invocationId = null)
    {
        worker ??= await WorkerAsync(ct);
        var function = worker.Function(functionName);
        var request = new InvocationRequest
        {
            InvocationId = invocationId ?? Guid.NewGuid().ToString(),
            FunctionId = function.Id,
            TraceContext = new RpcTraceContext { TraceParent = Activity.Current?.Id ?? NewTraceParent() },
        };
        request.InputData.Add(trigger);
        foreach (var (k, v) in metadata) request.TriggerMetadata[k] = v;
        request.TriggerMetadata["sys"] = TypedDataText.Json(new { MethodName = function.Name, UtcNow = DateTimeOffset.UtcNow, RandGuid = Guid.NewGuid() });

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(host.FunctionTimeout);
        InvocationResponse response;
        try
        {
            response = await worker.Channel.InvokeAsync(request, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            workers.RestartAfterTimeout(worker, function.Name, host.FunctionTimeout);
            throw new FunctionFailedException(function.Name, $"timed out after {host.FunctionTimeout} (host.json functionTimeout)", "TimeoutException");
        }
        if (response.Result?.Status != StatusResult.Types.Status.Success)
        {
            var e = response.Result?.Exception;
            var what = response.Result?.Status == StatusResult.Types.Status.Cancelled ? "was cancelled" : e?.Message ?? response.Result?.Result ?? "no reason given";
            throw new FunctionFailedException(function.Name, what, e?.Type);
        }
        return new InvocationResult(response);
    }

    private static string NewTraceParent() => $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-00";
}
