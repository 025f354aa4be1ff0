using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Specialized;
using Cronos;
using CrmMetrics.Functions.Invocation;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Functions.LocalRuntime;

/// <summary>
/// Drives a <c>timerTrigger</c> function like the Functions host: a 6-field NCRONTAB schedule (with
/// <c>%Setting%</c> expressions), never overlapping itself, and run by one instance at a time —
/// whoever holds the blob lease for the function in <c>azure-webjobs-hosts</c>.
/// </summary>
public sealed class TimerTriggerScheduler
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(60);

    private readonly FunctionDefinition _function;
    private readonly StorageAccount _account;
    private readonly FunctionDispatcher _dispatcher;
    private readonly OutputBindingWriter _outputs;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly string _scheduleText;

    public TimerTriggerScheduler(FunctionDefinition function, StorageAccount account, FunctionDispatcher dispatcher, OutputBindingWriter outputs,
        IConfiguration configuration, ILogger logger, TimeProvider clock)
    {
        _function = function;
        _account = account;
        _dispatcher = dispatcher;
        _outputs = outputs;
        _logger = logger;
        _clock = clock;
        var raw = function.Trigger.Get("schedule") ?? throw new InvalidOperationException($"{function.Name} has no schedule");
        _scheduleText = FunctionCatalog.Resolve(raw, configuration);
        Schedule = Parse(_scheduleText, raw);
        RunOnStartup = function.Trigger.Raw["runOnStartup"]?.GetValue<bool>() ?? false;
    }

    public CronExpression Schedule { get; }
    public bool RunOnStartup { get; }

    /// <summary>Parses a 6-field NCRONTAB expression; a wrong one names the setting it came from.</summary>
    public static CronExpression Parse(string expression, string source)
    {
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 6)
            throw new InvalidOperationException($"The schedule '{expression}' (from {source}) must have 6 fields: second minute hour day month day-of-week.");
        try
        {
            return CronExpression.Parse(expression, CronFormat.IncludeSeconds);
        }
        catch (CronFormatException e)
        {
            throw new InvalidOperationException($"The schedule '{expression}' (from {source}) is not a valid NCRONTAB expression: {e.Message}", e);
        }
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        var container = _account.Container(StorageNames.Containers.Hosts);
        await container.CreateIfNotExistsAsync(cancellationToken: stopping);
        var blob = container.GetBlobClient($"locks/crm-metrics/{_function.Name}.Listener");
        if (!await blob.ExistsAsync(stopping))
        {
            try { await blob.UploadAsync(BinaryData.FromString(""), overwrite: false, stopping); }
            catch (RequestFailedException e) when (e.Status is 409 or 412) { /* created by another instance */ }
        }
        _logger.LogInformation("{Function} runs on schedule '{Schedule}' (UTC)", _function.Name, _scheduleText);

        DateTimeOffset? last = null;
        var runNow = RunOnStartup;
        while (!stopping.IsCancellationRequested)
        {
            var now = _clock.GetUtcNow();
            var next = Schedule.GetNextOccurrence(now, TimeZoneInfo.Utc);
            if (next is null) return;
            if (!runNow)
            {
                try { await Task.Delay(next.Value - now, _clock, stopping); } catch (OperationCanceledException) { return; }
            }
            runNow = false;
            var pastDue = _clock.GetUtcNow() - next.Value > TimeSpan.FromSeconds(30);
            await RunOnceAsync(blob.GetBlobLeaseClient(), last, next.Value, pastDue, stopping);
            last = next;
        }
    }

    private async Task RunOnceAsync(BlobLeaseClient lease, DateTimeOffset? last, DateTimeOffset scheduled, bool pastDue, CancellationToken stopping)
    {
        try
        {
            await lease.AcquireAsync(LeaseDuration, cancellationToken: stopping);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            _logger.LogDebug("{Function}: another instance holds the schedule lease; skipping {Time}", _function.Name, scheduled);
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning("{Function}: could not take the schedule lease ({Message}); skipping {Time}", _function.Name, e.Message, scheduled);
            return;
        }

        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var renewing = RenewAsync(lease, renewal.Token);
        try
        {
            var next = Schedule.GetNextOccurrence(scheduled, TimeZoneInfo.Utc);
            var payload = new
            {
                Data = new Dictionary<string, object?>
                {
                    [_function.Trigger.Name] = new
                    {
                        Schedule = new { AdjustForDST = true },
                        ScheduleStatus = new { Last = last, Next = next, LastUpdated = _clock.GetUtcNow() },
                        IsPastDue = pastDue,
                    },
                },
                Metadata = new Dictionary<string, object?> { ["sys"] = new { MethodName = _function.Name, UtcNow = _clock.GetUtcNow(), RandGuid = Guid.NewGuid() } },
            };
            var request = JsonSerializer.Deserialize<InvocationRequest>(JsonSerializer.Serialize(payload), FunctionDispatcher.PayloadJson)!;
            var response = await _dispatcher.InvokeAsync(_function.Name, request, stopping);
            await _outputs.WriteAsync(_function, response, trigger: null, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Like the host: a failed timer run is logged and the schedule goes on.
            _logger.LogError(e, "{Function} failed for the occurrence at {Time}", _function.Name, scheduled);
        }
        finally
        {
            await renewal.CancelAsync();
            await renewing;
            try { await lease.ReleaseAsync(cancellationToken: CancellationToken.None); }
            catch (RequestFailedException) { /* expired already */ }
        }
    }

    private static async Task RenewAsync(BlobLeaseClient lease, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(LeaseDuration / 3, ct);
                await lease.RenewAsync(cancellationToken: ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (RequestFailedException)
        {
            // Lost the lease; the run finishes, and the next occurrence takes it again.
        }
    }
}
