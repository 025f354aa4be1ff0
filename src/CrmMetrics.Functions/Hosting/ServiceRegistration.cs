using Azure.Core;
using Azure.Data.Tables;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Functions.Alerts;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Security;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Aggregates;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Settings;
using CrmMetrics.Storage.Snapshots;

namespace CrmMetrics.Functions.Hosting;

/// <summary>Everything the app is made of, registered in one place.</summary>
public static class ServiceRegistration
{
    public static IServiceCollection AddCrmMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = CrmMetricsSettings.Load(configuration);
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(HostJsonSettings.Load());

        // Clients, once, from configuration: storage (AzureWebJobsStorage) and, when configured, Service Bus (AlertsServiceBus).
        var storage = StorageConnection.Read(configuration);
        var alertsBus = AlertsServiceBus.Read(configuration);
        // The clients are built here rather than through Microsoft.Extensions.Azure's AddAzureClients:
        // its log forwarder listens to the SDK at Verbose, so every request would format log events
        // that the filters drop (see AzureSdkLogs, which forwards only what the filters keep).
        services.AddSingleton<AzureSdkLogs>();
        services.AddSingleton(sp => SdkClient(sp, () => storage.Tables(StorageAccount.Configured(new TableClientOptions()))));
        // Base64, the encoding the queue trigger reads by default (host.json messageEncoding).
        services.AddSingleton(sp => SdkClient(sp, () => storage.Queues(StorageAccount.Configured(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }))));
        services.AddSingleton(sp => new StorageAccount(
            sp.GetRequiredService<TableServiceClient>(),
            sp.GetRequiredService<QueueServiceClient>(),
            // The queue client that reads and writes message text as it is (the local alert queue holds plain JSON).
            SdkClient(sp, () => storage.Queues(StorageAccount.Configured(new QueueClientOptions()))),
            SdkClient(sp, () => storage.Blobs(StorageAccount.Configured(new BlobClientOptions()))),
            storage.Description));
        if (alertsBus is not null) services.AddSingleton(sp => SdkClient(sp, alertsBus.CreateClient));
        services.AddSingleton<StorageInitializer>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageInitializer>());
        if (HostProcessWatch.IsSupported) services.AddHostedService<HostProcessWatch>();
        // Only where the worker also sees its host go (HostProcessWatch): ignoring signals must not leave an orphan.
        if (HostOwnedLifetime.Requested && HostProcessWatch.IsSupported) services.AddSingleton<IHostLifetime, HostOwnedLifetime>();
        services.AddHostedService<SettingsReport>();

        // Storage.
        services.AddSingleton<FactStore>();
        services.AddSingleton<DirtyDayStore>();
        // One feed of changed timelines and cases for both stores, so their appends share requests.
        services.AddSingleton<StateFeed>();
        services.AddSingleton<CustomerStore>();
        services.AddSingleton<CustomerDirectory>();
        services.AddSingleton<ComplaintStore>();
        services.AddSingleton<ObservationStore>();
        services.AddSingleton<RejectedEventStore>();
        services.AddSingleton<PoisonedEventMessages>();
        services.AddSingleton<StalePeriodStore>();
        services.AddSingleton<PartialStore>();
        services.AddSingleton<LifecycleLedger>();
        services.AddSingleton<SnapshotStore>();
        services.AddSingleton<RunStore>();
        services.AddSingleton<GoalStore>();
        services.AddSingleton<IncentivePlanStore>();
        services.AddSingleton<AlertRuleStore>();
        services.AddSingleton<DefinitionLock>();
        services.AddSingleton<CrmMetrics.Storage.Alerts.AlertLedger>();

        // Domain services configured by settings.
        services.AddSingleton(sp => new FactValidator(new FactRules
        {
            Calendar = settings.Calendar,
            ReportingCurrency = settings.ReportingCurrency,
            ExchangeRates = settings.ExchangeRates,
            IsReportableIndicator = IndicatorCatalog.IsReportableByCompetitors,
        }, sp.GetRequiredService<TimeProvider>()));

        // Application services.
        services.AddSingleton<ApiKeyAuthorization>();
        services.AddSingleton<FactIngestion>();
        services.AddSingleton<ReportingZoneStamp>();
        services.AddSingleton<ReportingZoneGuard>();
        services.AddSingleton<RunPlanner>();
        services.AddSingleton<DayAggregation>();
        services.AddSingleton<PeriodFinalizer>();
        services.AddSingleton<RunPeriodsInFlight>();
        // Derived families, in the order they build on each other: defined (expression) indicators first.
        DefinedIndicators.Register(services);
        services.AddSingleton<IDerivedIndicators, BenchmarkIndicators>();
        services.AddSingleton<IDerivedIndicators, IncentiveIndicators>();
        services.AddSingleton<IDerivedIndicators, GoalIndicators>();
        services.AddSingleton<SnapshotReader>();
        services.AddSingleton<Api.SnapshotResponseCache>();
        services.AddSingleton<AlertService>();
        services.AddSingleton<DigestService>();
        services.AddSingleton<Dashboard.ReportingContextBuilder>();
        services.AddSingleton(new Dashboard.DashboardAssets(Dashboard.DashboardAssets.DefaultRoot));

        // Alerts leave through Service Bus when it is configured, else through the local queue of the same name.
        if (alertsBus is not null)
        {
            services.AddSingleton(sp => sp.GetRequiredService<ServiceBusClient>().CreateSender(alertsBus.Topic));
            services.AddSingleton<IAlertSender, ServiceBusAlertSender>();
        }
        else
        {
            services.AddSingleton<IAlertSender, QueueAlertSender>();
        }

        services.AddCrmMetricsHttp(settings);
        return services;
    }

    /// <summary>An Azure SDK client, built once the SDK's logs are forwarded (so a client's first requests are logged too).</summary>
    private static T SdkClient<T>(IServiceProvider services, Func<T> create)
    {
        services.GetRequiredService<AzureSdkLogs>();
        return create();
    }
}

/// <summary>
/// <c>AlertsServiceBus</c>: a connection string, or <c>AlertsServiceBus__fullyQualifiedNamespace</c>
/// with a managed identity (<c>__credential</c>, <c>__clientId</c>), as Functions connections are read.
/// Not set: alerts go to the local queue.
/// </summary>
public sealed record AlertsServiceBus(string? ConnectionString, string? Namespace, TokenCredential? Credential)
{
    public const string Setting = "AlertsServiceBus";
    public const string TopicSetting = "AlertsTopicName";

    /// <summary>The topic alerts are sent to (<c>AlertsTopicName</c>, <see cref="AlertMessages.Topic"/> by default).</summary>
    public string Topic { get; init; } = AlertMessages.Topic;

    public static AlertsServiceBus? Read(IConfiguration configuration)
    {
        // Blank counts as unset, as for every setting.
        if (configuration[Setting] is { } text && !string.IsNullOrWhiteSpace(text))
        {
            var connectionString = text.Trim();
            // Checked here rather than when the first alert is sent: a client that cannot be built fails
            // every period finalisation before it runs, and the run never learns why.
            if (ConnectionStringProblem(connectionString) is { } problem)
                throw new SettingsException(Domain.Validation.ValidationErrors.Single(Setting, problem));
            return new AlertsServiceBus(connectionString, null, null) { Topic = TopicOf(configuration) };
        }
        var section = configuration.GetSection(Setting);
        if (section["fullyQualifiedNamespace"] is { } nsText && !string.IsNullOrWhiteSpace(nsText))
        {
            var ns = nsText.Trim();
            if (Uri.CheckHostName(ns) != UriHostNameType.Dns)
                throw new SettingsException(Domain.Validation.ValidationErrors.Single($"{Setting}:fullyQualifiedNamespace", "must be a host name such as contoso.servicebus.windows.net"));
            return new AlertsServiceBus(null, ns, Identity.Credential(section)) { Topic = TopicOf(configuration) };
        }
        return null;
    }

    /// <summary>
    /// <c>AlertsTopicName</c>, checked as Service Bus names topics (letters, digits, '.', '-', '_' and '/',
    /// starting and ending with a letter or digit, at most 260 characters) when the app starts: a name it
    /// refuses would otherwise fail only the first alert's send (found by probing).
    /// </summary>
    private static string TopicOf(IConfiguration configuration)
    {
        if (configuration[TopicSetting] is not { } text || string.IsNullOrWhiteSpace(text)) return AlertMessages.Topic;
        var topic = text.Trim();
        var valid = topic.Length <= 260 && char.IsAsciiLetterOrDigit(topic[0]) && char.IsAsciiLetterOrDigit(topic[^1])
                    && topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '/');
        return valid ? topic : throw new SettingsException(Domain.Validation.ValidationErrors.Single(TopicSetting,
            $"'{Domain.Validation.JsonFields.Truncate(topic)}' is not a Service Bus topic name: letters, digits, '.', '-', '_' and '/', starting and ending with a letter or digit, at most 260 characters"));
    }

    /// <summary>
    /// What keeps the text from being a Service Bus connection string: no namespace, neither a key nor
    /// a signature, or both; null when nothing. Never quotes the text (it holds a key).
    /// </summary>
    private static string? ConnectionStringProblem(string connectionString)
    {
        const string shape = "Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…";
        Azure.Messaging.ServiceBus.ServiceBusConnectionStringProperties properties;
        try
        {
            properties = Azure.Messaging.ServiceBus.ServiceBusConnectionStringProperties.Parse(connectionString);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return $"is not a Service Bus connection string ({shape})";
        }
        if (properties.Endpoint is not { IsAbsoluteUri: true } endpoint || string.IsNullOrEmpty(endpoint.Host) || Uri.CheckHostName(endpoint.Host) == UriHostNameType.Unknown)
            return $"has no Endpoint naming a Service Bus namespace ({shape})";
        var hasKey = !string.IsNullOrEmpty(properties.SharedAccessKeyName) && !string.IsNullOrEmpty(properties.SharedAccessKey);
        var hasSignature = !string.IsNullOrEmpty(properties.SharedAccessSignature);
        if (hasSignature && (!string.IsNullOrEmpty(properties.SharedAccessKeyName) || !string.IsNullOrEmpty(properties.SharedAccessKey)))
            return $"has both a SharedAccessSignature and a shared access key; give one ({shape})";
        if (!hasKey && !hasSignature)
            return $"has neither SharedAccessKeyName with SharedAccessKey nor SharedAccessSignature ({shape}); for a managed identity set {Setting}__fullyQualifiedNamespace instead";
        return null;
    }

    public ServiceBusClient CreateClient() =>
        ConnectionString is not null ? new ServiceBusClient(ConnectionString) : new ServiceBusClient(Namespace!, Credential!);
}
