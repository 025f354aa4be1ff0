using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Forwards the Azure SDK's event sources (<c>Azure-Core</c>, <c>Azure-Identity</c>,
/// <c>Azure-Messaging-ServiceBus</c>, …) to <see cref="ILogger"/>, each at the lowest level the
/// logging configuration lets through for its category (<c>Azure.Core</c>, <c>Azure.Identity</c>, …),
/// and a source nothing would be logged from not at all.
/// </summary>
/// <remarks>
/// Microsoft.Extensions.Azure's forwarder, which <c>AddAzureClients</c> starts, listens to every
/// source at <c>Verbose</c>. Each storage request then formats its request and response headers into
/// events that the filters of <see cref="Logging"/> drop again: CPU and allocations on the hot paths of
/// ingestion and the map step, for nothing. The SDK skips that work for a level nobody listens to.
/// </remarks>
public sealed class AzureSdkLogs : EventListener
{
    private const string Prefix = "Azure-";

    // Initialised before the base constructor runs, which reports the sources that exist already.
    private readonly List<EventSource> _early = [];
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);
    private ILoggerFactory? _factory;

    public AzureSdkLogs(ILoggerFactory factory)
    {
        List<EventSource> early;
        lock (_early)
        {
            _factory = factory;
            early = [.. _early];
            _early.Clear();
        }
        foreach (var source in early) Listen(source);
    }

    /// <summary>The level a source is enabled at for a logger, or null when the logger lets nothing through.</summary>
    public static EventLevel? LevelFor(ILogger logger)
    {
        if (logger.IsEnabled(LogLevel.Debug)) return EventLevel.Verbose;
        if (logger.IsEnabled(LogLevel.Information)) return EventLevel.Informational;
        if (logger.IsEnabled(LogLevel.Warning)) return EventLevel.Warning;
        if (logger.IsEnabled(LogLevel.Error)) return EventLevel.Error;
        if (logger.IsEnabled(LogLevel.Critical)) return EventLevel.Critical;
        return null;
    }

    /// <summary>The logging category of a source: <c>Azure-Core</c> logs as <c>Azure.Core</c>.</summary>
    private static string CategoryOf(string sourceName) => sourceName.Replace('-', '.');

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (!source.Name.StartsWith(Prefix, StringComparison.Ordinal)) return;
        // The base constructor reports existing sources before this class's constructor has run
        // (field initialisers have: _early exists); those wait for the logger factory.
        lock (_early)
        {
            if (_factory is null)
            {
                _early.Add(source);
                return;
            }
        }
        Listen(source);
    }

    private void Listen(EventSource source)
    {
        var logger = _loggers.GetOrAdd(source.Name, name => _factory!.CreateLogger(CategoryOf(name)));
        if (LevelFor(logger) is { } level) EnableEvents(source, level);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventSource is null || !_loggers.TryGetValue(e.EventSource.Name, out var logger)) return;
        var level = e.Level switch
        {
            EventLevel.Critical => LogLevel.Critical,
            EventLevel.Error => LogLevel.Error,
            EventLevel.Warning => LogLevel.Warning,
            EventLevel.Informational or EventLevel.LogAlways => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        if (!logger.IsEnabled(level)) return;
        logger.Log(level, new EventId(e.EventId, e.EventName), "{Message}", Format(e));
    }

    /// <summary>The event's message with its payload filled in, or its name and payload when it has no message.</summary>
    public static string Format(EventWrittenEventArgs e)
    {
        var payload = e.Payload?.ToArray() ?? [];
        if (!string.IsNullOrEmpty(e.Message))
        {
            try
            {
                return string.Format(CultureInfo.InvariantCulture, e.Message, payload);
            }
            catch (FormatException)
            {
                // A message whose placeholders do not match its payload: fall through to name and values.
            }
        }
        var names = e.PayloadNames ?? [];
        var parts = payload.Select((value, i) => $"{(i < names.Count ? names[i] : $"arg{i}")}: {value}");
        return $"{e.EventName}: {string.Join(", ", parts)}";
    }
}
