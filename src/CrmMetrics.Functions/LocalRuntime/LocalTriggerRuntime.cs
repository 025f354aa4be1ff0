using CrmMetrics.Functions.Invocation;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Functions.LocalRuntime;

/// <summary>
/// Hosts the triggers itself when no Functions host is present: reads the app's function.json
/// files and drives the same handlers with the same payloads. HTTP functions need nothing here:
/// the app serves their routes directly, as it does for the host's forwarded requests.
/// </summary>
public sealed class LocalTriggerRuntime(
    FunctionCatalog catalog,
    StorageAccount account,
    FunctionDispatcher dispatcher,
    OutputBindingWriter outputs,
    IConfiguration configuration,
    ILoggerFactory loggers,
    TimeProvider clock) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger<LocalTriggerRuntime>();

    /// <summary>Refuses to start when a function has no handler or a schedule is wrong, rather than failing every trigger later.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var function in catalog.Functions.Where(f => !f.Disabled))
        {
            if (function.Trigger.Type is "queueTrigger" or "timerTrigger" && !dispatcher.Has(function.Name))
                throw new InvalidOperationException($"Function {function.Name} ({function.Trigger.Type}) has a function.json but no handler.");
            if (function.Trigger.Type == "timerTrigger" && !IsOff(function))
            {
                var raw = function.Trigger.Get("schedule") ?? throw new InvalidOperationException($"{function.Name} has no schedule");
                TimerTriggerScheduler.Parse(FunctionCatalog.Resolve(raw, configuration), raw);
            }
        }
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var runners = new List<Task>();
        foreach (var function in catalog.Functions.Where(f => !f.Disabled))
        {
            var logger = loggers.CreateLogger("Function." + function.Name);
            switch (function.Trigger.Type)
            {
                case "queueTrigger":
                    runners.Add(Guard(function.Name, new QueueTriggerListener(function, catalog.Host, account, dispatcher, outputs, configuration, logger).RunAsync(stoppingToken)));
                    break;
                case "timerTrigger" when IsOff(function):
                    _logger.LogWarning("{Function} is off: its schedule setting {Setting} is not set (a 6-field NCRONTAB expression turns it on)",
                        function.Name, function.Trigger.Get("schedule"));
                    break;
                case "timerTrigger":
                    runners.Add(Guard(function.Name, new TimerTriggerScheduler(function, account, dispatcher, outputs, configuration, logger, clock).RunAsync(stoppingToken)));
                    break;
                case "httpTrigger":
                    break;
                default:
                    _logger.LogWarning("{Function}: trigger type {Type} is not run locally", function.Name, function.Trigger.Type);
                    break;
            }
        }
        _logger.LogInformation("Local trigger runtime started: {Count} functions from {Root}", catalog.Functions.Count, catalog.Root);
        await Task.WhenAll(runners);
    }

    /// <summary>A timer whose schedule names a setting that is not set stays off locally (runs are then started through the API).</summary>
    private bool IsOff(FunctionDefinition function) =>
        function.Trigger.Get("schedule") is { Length: > 2 } s && s[0] == '%' && s[^1] == '%' && string.IsNullOrEmpty(configuration[s[1..^1]]);

    private async Task Guard(string name, Task runner)
    {
        try
        {
            await runner;
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            _logger.LogCritical(e, "The trigger of {Function} stopped", name);
        }
    }
}
