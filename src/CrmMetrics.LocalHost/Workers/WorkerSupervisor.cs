using System.Text.Json;
using CrmMetrics.LocalHost.App;
using CrmMetrics.LocalHost.Functions;
using CrmMetrics.LocalHost.Rpc;
using CrmMetrics.LocalHost.Rpc.Messages;
using Google.Protobuf.WellKnownTypes;

namespace CrmMetrics.LocalHost.Workers;

/// <summary>A worker that completed its handshake and loaded the app's functions.</summary>
public sealed record ReadyWorker(WorkerChannel Channel, int ProcessId, Uri? HttpUri, IReadOnlyDictionary<string, HostedFunction> Functions, WorkerMetadata Metadata)
{
    public HostedFunction Function(string name) =>
        Functions.TryGetValue(name, out var f) ? f : throw new WorkerUnavailableException($"The current worker has not loaded function {name}.");
}

/// <summary>
/// Keeps one worker running: starts it, completes the handshake (init, the worker's own function
/// metadata, one load request per function), and when it dies restarts it with back-off. Work
/// waits for a ready worker for a while, then fails as unavailable. Stopping sends
/// <c>WorkerTerminate</c> and kills the process after the grace period.
/// </summary>
public sealed class WorkerSupervisor(
    FunctionAppFolder app,
    AppSettings settings,
    WorkerChannelRegistry registry,
    Func<Uri> hostEndpoint,
    ILoggerFactory loggers,
    LocalHostOptions options) : IAsyncDisposable
{
    public const string HostVersion = "4.1040.0-local";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly ILogger _logger = loggers.CreateLogger("Host.Worker");
    private readonly ILogger _output = loggers.CreateLogger("Worker");
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource<IReadOnlyList<HostedFunction>> _firstLoad = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<ReadyWorker> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WorkerProcess? _process;
    private Task? _loop;

    /// <summary>The functions of the first worker that loaded (what the triggers are built from).</summary>
    public Task<IReadOnlyList<HostedFunction>> FirstLoad => _firstLoad.Task;

    /// <summary>The current worker process, if one runs.</summary>
    public int? ProcessId => _process?.Id;

    public TimeSpan GracePeriod => options.WorkerGracePeriod;

    /// <summary>How many times a worker has been started.</summary>
    public int Starts { get; private set; }

    public ReadyWorker? Current => _ready.Task.IsCompletedSuccessfully ? _ready.Task.Result : null;

    public void Start() => _loop = Task.Run(() => SuperviseAsync(_stopping.Token));

    /// <summary>The ready worker, waiting up to <paramref name="wait"/> for one (while it starts or restarts).</summary>
    public async Task<ReadyWorker> WaitReadyAsync(TimeSpan wait, CancellationToken ct)
    {
        try
        {
            return await Volatile.Read(ref _ready).Task.WaitAsync(wait, ct);
        }
        catch (TimeoutException)
        {
            throw new WorkerUnavailableException($"No worker is ready (waited {wait.TotalSeconds:0} s); it is starting or restarting.");
        }
    }

    /// <summary>Kills the worker process as a crash would; the supervisor restarts it.</summary>
    public void KillWorker() => _process?.Kill();

    /// <summary>
    /// An invocation on <paramref name="worker"/> passed host.json's functionTimeout: the worker is restarted, failing every
    /// invocation in flight on it, as the Functions host does (it restarts the worker channel of a timed-out invocation,
    /// with no grace period; found by a review against its source: here only that invocation was cancelled). A worker
    /// that has been replaced meanwhile is left alone.
    /// </summary>
    public void RestartAfterTimeout(ReadyWorker worker, string function, TimeSpan timeout)
    {
        if (!ReferenceEquals(Current, worker)) return;
        _logger.LogError("Function {Function} ran past functionTimeout ({Timeout}); restarting the worker, as the Functions host does: every invocation in flight on it fails", function, timeout);
        KillWorker();
    }

    private async Task SuperviseAsync(CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            WorkerProcess? process = null;
            WorkerChannel? channel = null;
            var started = DateTimeOffset.UtcNow;
            try
            {
                (process, channel) = await StartOnceAsync(stopping);
                await Task.WhenAny(process.Exited, channel.Closed);
                Unpublish();
                if (stopping.IsCancellationRequested) break;
                // A process that dies breaks its stream first: give the exit a moment to be seen, for its code.
                await Task.WhenAny(process.Exited, Task.Delay(TimeSpan.FromSeconds(2), stopping));
                var reason = process.Exited.IsCompleted ? $"exited with code {process.Exited.Result}" : "closed its stream (" + channel.Closed.Result.Message + ") and is killed";
                _logger.LogError("Worker process {Pid} {Reason}; restarting it", process.Id, reason);
                if (DateTimeOffset.UtcNow - started > TimeSpan.FromMinutes(1)) failures = 0;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is WorkerStartException or WorkerUnavailableException)
            {
                Unpublish();
                _lastStartFailure = e.Message;
                _logger.LogError("The worker did not start: {Reason}", e.Message);
            }
            finally
            {
                channel?.Close(new WorkerUnavailableException("The worker process is gone."));
                if (channel is not null) registry.Forget(channel.WorkerId);
                if (!stopping.IsCancellationRequested && process is not null)
                {
                    Interlocked.CompareExchange(ref _process, null, process);
                    process.Dispose();
                }
            }
            if (stopping.IsCancellationRequested) break;
            var delay = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, failures)));
            failures++;
            _logger.LogWarning("Starting a new worker in {Delay} s (attempt {Attempt})", delay.TotalSeconds, failures + 1);
            try { await Task.Delay(delay, stopping); } catch (OperationCanceledException) { break; }
        }
    }

    private async Task<(WorkerProcess, WorkerChannel)> StartOnceAsync(CancellationToken ct)
    {
        var workerId = Guid.NewGuid().ToString();
        var channel = registry.Create(workerId);
        channel.Log = log => ForwardLog(log, channel);
        var process = WorkerProcess.Start(app, settings, hostEndpoint(), workerId, Guid.NewGuid().ToString(), _output);
        _process = process;
        Starts++;
        _logger.LogInformation("Worker process {Pid} started ({Worker})", process.Id, Path.GetFileName(app.WorkerPath));
        try
        {
            var connected = await Task.WhenAny(channel.Connected, process.Exited, Task.Delay(StepTimeout, ct));
            ct.ThrowIfCancellationRequested();
            if (connected == process.Exited)
                throw new WorkerStartException($"the worker exited with code {process.Exited.Result} before it connected. Its last output:{Environment.NewLine}{process.LastLines}");
            if (connected != channel.Connected)
                throw new WorkerStartException($"the worker did not connect within {StepTimeout.TotalSeconds:0} s. Its last output:{Environment.NewLine}{process.LastLines}");
            await channel.Connected;

            var ready = await HandshakeAsync(channel, process, ct);
            Publish(ready);
            return (process, channel);
        }
        catch
        {
            process.Kill();
            throw;
        }
    }

    /// <summary>Init, then the worker's own metadata, then one load request per function.</summary>
    private async Task<ReadyWorker> HandshakeAsync(WorkerChannel channel, WorkerProcess process, CancellationToken ct)
    {
        var init = new WorkerInitRequest { HostVersion = HostVersion, WorkerDirectory = app.Path, FunctionAppDirectory = app.Path };
        foreach (var capability in new[] { "RpcHttpBodyOnly", "RawHttpBodyBytes", "TypedDataCollection", "RpcHttpTriggerMetadataRemoved", "HandlesWorkerTerminateMessage" })
            init.Capabilities[capability] = "true";
        var initAnswer = (await channel.RequestAsync(new StreamingMessage { WorkerInitRequest = init }, StepTimeout, ct)).WorkerInitResponse
                         ?? throw new WorkerStartException("the worker answered the init request with something else.");
        Require(initAnswer.Result, "initialise");
        Uri? httpUri = initAnswer.Capabilities.TryGetValue("HttpUri", out var uri) && Uri.TryCreate(uri, UriKind.Absolute, out var parsed) ? parsed : null;

        var metadataAnswer = (await channel.RequestAsync(new StreamingMessage { FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = app.Path } }, StepTimeout, ct))
            .FunctionMetadataResponse ?? throw new WorkerStartException("the worker answered the metadata request with something else.");
        Require(metadataAnswer.Result, "index its functions");
        var declared = metadataAnswer.UseDefaultMetadataIndexing ? ReadMetadataFile() : metadataAnswer.FunctionMetadataResults.ToList();

        var functions = new Dictionary<string, HostedFunction>(StringComparer.OrdinalIgnoreCase);
        foreach (var metadata in declared)
        {
            if (string.IsNullOrEmpty(metadata.FunctionId)) metadata.FunctionId = Guid.NewGuid().ToString();
            HostedFunction function;
            try
            {
                function = HostedFunction.From(metadata);
            }
            catch (FormatException e)
            {
                _logger.LogError("Function {Function} is in error and is not loaded: {Reason}", metadata.Name, e.Message);
                continue;
            }
            var load = (await channel.RequestAsync(new StreamingMessage { FunctionLoadRequest = new FunctionLoadRequest { FunctionId = metadata.FunctionId, Metadata = metadata } }, StepTimeout, ct))
                .FunctionLoadResponse;
            if (load?.Result?.Status != StatusResult.Types.Status.Success)
            {
                _logger.LogError("Function {Function} is in error: the worker could not load it: {Reason}", metadata.Name, load?.Result?.Exception?.Message ?? "no answer");
                continue;
            }
            functions[function.Name] = function;
        }
        if (httpUri is not null) await WaitForHttpAsync(httpUri, process, ct);
        _logger.LogInformation("Worker process {Pid} is ready: {Count} functions loaded ({Runtime}, Microsoft.Azure.Functions.Worker {Version})",
            process.Id, functions.Count, initAnswer.WorkerMetadata?.RuntimeVersion, initAnswer.WorkerMetadata?.WorkerVersion);
        return new ReadyWorker(channel, process.Id, httpUri, functions, initAnswer.WorkerMetadata ?? new WorkerMetadata());
    }

    /// <summary>
    /// The worker announces its HTTP address before its server listens there: it is ready for HTTP
    /// functions once a connection is accepted.
    /// </summary>
    private static async Task WaitForHttpAsync(Uri httpUri, WorkerProcess process, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + StepTimeout;
        while (true)
        {
            using var client = new System.Net.Sockets.TcpClient();
            try
            {
                await client.ConnectAsync(httpUri.Host, httpUri.Port, ct);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (DateTimeOffset.UtcNow < deadline && !process.Exited.IsCompleted)
            {
                await Task.Delay(50, ct);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                throw new WorkerStartException($"the worker's HTTP server at {httpUri} did not accept connections: {e.Message}");
            }
        }
    }

    private static void Require(StatusResult? result, string step)
    {
        if (result?.Status == StatusResult.Types.Status.Success) return;
        throw new WorkerStartException($"the worker could not {step}: {result?.Exception?.Message ?? result?.Result ?? "no status"}");
    }

    /// <summary>functions.metadata in the app folder: what the host reads when the worker leaves indexing to it.</summary>
    private List<RpcFunctionMetadata> ReadMetadataFile()
    {
        var path = Path.Combine(app.Path, "functions.metadata");
        if (!File.Exists(path)) throw new WorkerStartException($"the worker asked the host to index its functions, and {path} does not exist.");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var result = new List<RpcFunctionMetadata>();
        foreach (var f in doc.RootElement.EnumerateArray())
        {
            var metadata = new RpcFunctionMetadata
            {
                Name = f.GetProperty("name").GetString() ?? "",
                ScriptFile = f.TryGetProperty("scriptFile", out var s) ? s.GetString() ?? "" : "",
                EntryPoint = f.TryGetProperty("entryPoint", out var e) ? e.GetString() ?? "" : "",
                Language = f.TryGetProperty("language", out var l) ? l.GetString() ?? "" : "",
                Directory = app.Path,
            };
            foreach (var b in f.GetProperty("bindings").EnumerateArray()) metadata.RawBindings.Add(b.GetRawText());
            result.Add(metadata);
        }
        return result;
    }

    /// <summary>Why the last worker did not start (its exit and last output), until one starts.</summary>
    public string? LastStartFailure => _lastStartFailure;

    private volatile string? _lastStartFailure;

    private void Publish(ReadyWorker ready)
    {
        _lastStartFailure = null;
        _ready.TrySetResult(ready);
        _firstLoad.TrySetResult(ready.Functions.Values.OrderBy(f => f.Name, StringComparer.Ordinal).ToList());
    }

    private void Unpublish()
    {
        if (_ready.Task.IsCompleted) Volatile.Write(ref _ready, new TaskCompletionSource<ReadyWorker>(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    private volatile bool _hostStopping;

    /// <summary>
    /// The host has begun to stop: from now on, an invocation it cancels is cancelled by the stop, and the
    /// cancellation the worker reports for it is no failure.
    /// </summary>
    public void HostStopping() => _hostStopping = true;

    private static readonly string[] CancellationTypes = ["System.Threading.Tasks.TaskCanceledException", "System.OperationCanceledException"];

    /// <summary>
    /// The cancellation <paramref name="log"/> reports for an invocation this host cancelled as it stops, or null.
    /// This worker leaves the exception's type empty and sends its whole text (type, message, stack trace) as its message.
    /// </summary>
    private string? CancelledByStop(RpcLog log, WorkerChannel channel) =>
        _hostStopping && log.Exception is { } e && channel.WasCancelled(log.InvocationId)
            ? CancellationTypes.FirstOrDefault(t => e.Type == t || e.Message.StartsWith(t + ":", StringComparison.Ordinal))
            : null;

    private void ForwardLog(RpcLog log, WorkerChannel channel)
    {
        if (CancelledByStop(log, channel) is { } cancellation)
        {
            // Found by probing: every stop logged each invocation it cancelled as a failure with the worker's stack
            // trace. The stop's own doing, said in one line (under the host's category: the worker's is kept at Warning).
            _logger.LogInformation("{Message} — cancelled as the host stops ({Exception})", log.Message, cancellation.Split('.')[^1]);
            return;
        }
        var level = log.Level switch
        {
            RpcLog.Types.Level.Trace => LogLevel.Trace,
            RpcLog.Types.Level.Debug => LogLevel.Debug,
            RpcLog.Types.Level.Information => LogLevel.Information,
            RpcLog.Types.Level.Warning => LogLevel.Warning,
            RpcLog.Types.Level.Error => LogLevel.Error,
            RpcLog.Types.Level.Critical => LogLevel.Critical,
            _ => LogLevel.None,
        };
        if (level == LogLevel.None) return;
        // The worker's own plumbing logs as "system"; the app's logs keep their category.
        var category = string.IsNullOrEmpty(log.Category) ? "Worker" : log.Category;
        var logger = loggers.CreateLogger(log.LogCategory == RpcLog.Types.RpcLogCategory.System ? "Worker." + category : category);
        if (log.Exception is { } e && (e.Message.Length > 0 || e.Type.Length > 0))
            logger.Log(level, "{Message} — {Exception}", log.Message, e.Type.Length > 0 ? $"{e.Type}: {e.Message}" : e.Message);
        else
            logger.Log(level, "{Message}", log.Message);
    }

    /// <summary>Asks the worker to stop (<c>WorkerTerminate</c>) and kills it if it has not exited after the grace period.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        var process = _process;
        var channel = Current?.Channel;
        if (process is not null && !process.Exited.IsCompleted)
        {
            try
            {
                channel?.Send(new StreamingMessage { RequestId = Guid.NewGuid().ToString(), WorkerTerminate = new WorkerTerminate { GracePeriod = Duration.FromTimeSpan(options.WorkerGracePeriod) } });
            }
            catch (WorkerUnavailableException)
            {
                // The stream is gone already; the process is killed below if it lingers.
            }
            if (await Task.WhenAny(process.Exited, Task.Delay(options.WorkerGracePeriod)) != process.Exited)
            {
                _logger.LogWarning("Worker process {Pid} did not exit within {Grace} s of WorkerTerminate; killing it", process.Id, options.WorkerGracePeriod.TotalSeconds);
                process.Kill();
            }
        }
        if (_loop is not null) await _loop;
        process?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested) await StopAsync();
        _stopping.Dispose();
    }
}
