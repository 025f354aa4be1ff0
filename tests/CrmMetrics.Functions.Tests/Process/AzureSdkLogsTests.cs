using System.Diagnostics.Tracing;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Account;
using CrmMetrics.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CrmMetrics.Functions.Tests.Process;

/// <summary>
/// Whether an event source is enabled is the state of the whole process, and other tests build the
/// app's services too (at other log levels): these run on their own, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SdkEventSourcesCollection
{
    public const string Name = "sdk event sources";
}

/// <summary>
/// The Azure SDK's logs reach the app's loggers at the levels its filters keep, and the SDK is not
/// asked for more: a request does not format log events that the filters would drop.
/// </summary>
[Collection(SdkEventSourcesCollection.Name)]
public class AzureSdkLogsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task The_apps_services_leave_the_sdks_request_events_off()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
        }).Build();
        await using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging(logging => logging.AddCrmMetricsLogging().AddProvider(new CapturingLogs()))
            .AddCrmMetrics(configuration)
            .BuildServiceProvider();
        var account = services.GetRequiredService<StorageAccount>();
        await account.InitializeAsync(default);
        await account.Table(StorageNames.Tables.DirtyDays).GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>("none", "none");

        var core = EventSource.GetSources().Single(s => s.Name == "Azure-Core");
        // Request and Response events are Informational; the app's filters keep Azure.Core at Error.
        Assert.False(core.IsEnabled(EventLevel.Informational, EventKeywords.All));
        Assert.True(core.IsEnabled(EventLevel.Error, EventKeywords.All));
    }

    [Fact]
    public void A_source_is_forwarded_at_the_level_its_category_keeps_with_its_message()
    {
        var logs = new CapturingLogs();
        using var factory = LoggerFactory.Create(logging => logging
            .SetMinimumLevel(LogLevel.Information)
            .AddFilter("Azure", LogLevel.Warning)
            .AddProvider(logs));
        using var source = new TestSdkSource();
        using var forwarder = new AzureSdkLogs(factory);

        Assert.True(source.IsEnabled(EventLevel.Warning, EventKeywords.All));
        Assert.False(source.IsEnabled(EventLevel.Informational, EventKeywords.All));
        source.Slow("GET", 1234);
        source.Sent("GET");

        var entry = Assert.Single(logs.Entries);
        Assert.Equal("Azure.CrmMetrics.Test", entry.Category);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Equal("GET took 1234 ms", entry.Message);
    }

    [Fact]
    public void A_source_whose_category_logs_nothing_is_not_enabled()
    {
        using var factory = LoggerFactory.Create(logging => logging.AddFilter("Azure", LogLevel.None).AddProvider(new CapturingLogs()));
        using var source = new TestSdkSource();
        using var forwarder = new AzureSdkLogs(factory);

        Assert.False(source.IsEnabled());
    }

    [Theory]
    [InlineData(LogLevel.Trace, EventLevel.Verbose)]
    [InlineData(LogLevel.Debug, EventLevel.Verbose)]
    [InlineData(LogLevel.Information, EventLevel.Informational)]
    [InlineData(LogLevel.Warning, EventLevel.Warning)]
    [InlineData(LogLevel.Error, EventLevel.Error)]
    [InlineData(LogLevel.Critical, EventLevel.Critical)]
    public void The_lowest_level_a_logger_keeps_is_the_level_its_source_is_enabled_at(LogLevel minimum, EventLevel expected)
    {
        using var factory = LoggerFactory.Create(logging => logging.SetMinimumLevel(minimum).AddProvider(new CapturingLogs()));
        Assert.Equal(expected, AzureSdkLogs.LevelFor(factory.CreateLogger("Azure.Core")));
    }

    [EventSource(Name = "Azure-CrmMetrics-Test")]
    private sealed class TestSdkSource : EventSource
    {
        [Event(1, Level = EventLevel.Warning, Message = "{0} took {1} ms")]
        public void Slow(string method, int milliseconds) => WriteEvent(1, method, milliseconds);

        [Event(2, Level = EventLevel.Informational, Message = "{0} sent")]
        public void Sent(string method) => WriteEvent(2, method);
    }

    private sealed class CapturingLogs : ILoggerProvider
    {
        public List<(string Category, LogLevel Level, string Message)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLogs logs, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (logs.Entries) logs.Entries.Add((category, logLevel, formatter(state, exception)));
            }
        }
    }
}
