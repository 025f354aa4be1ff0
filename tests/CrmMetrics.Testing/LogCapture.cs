using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CrmMetrics.Testing;

/// <summary>
/// Keeps every log line of a host under test (category, level, message), so a test can wait for a
/// line or show the last ones when it fails, instead of printing them all.
/// </summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public string Tail(int count = 40) => string.Join(Environment.NewLine, _lines.TakeLast(count));

    public bool Contains(string text) => _lines.Any(l => l.Contains(text, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void Dispose() { }

    private sealed class Logger(string category, LogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            owner._lines.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {logLevel,-11} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
            while (owner._lines.Count > 5000) owner._lines.TryDequeue(out _);
        }
    }
}
