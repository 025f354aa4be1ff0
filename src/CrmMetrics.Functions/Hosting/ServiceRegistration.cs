using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Functions.Invocation;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.LocalRuntime;
using CrmMetrics.Functions.Security;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Aggregates;
using CrmMetrics.Storage.Snapshots;
using CrmMetrics.Storage.Settings;
using CrmMetrics.Functions.Runs;

namespace CrmMetrics.Functions.Hosting;

/// <summary>Everything the app is made of, registered in one place.</summary>
public static class ServiceRegistration
{
    public static IServiceCollection AddCrmMetrics(this IServiceCollection services, IConfiguration configuration, RunMode mode)
    {
        var settings = CrmMetricsSettings.Load(configuration);
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => StorageConnection.Create(configuration));
        services.AddHostedService<StorageInitializer>();

        // Storage.
        services.AddSingleton<FactStore>();
        services.AddSingleton<DirtyDayStore>();
        services.AddSingleton<CustomerStore>();
        services.AddSingleton<CustomerDirectory>();
        services.AddSingleton<ComplaintStore>();
        services.AddSingleton<ObservationStore>();
        services.AddSingleton<RejectedEventStore>();
        services.AddSingleton<StalePeriodStore>();
        services.AddSingleton<PartialStore>();
        services.AddSingleton<LifecycleLedger>();
        services.AddSingleton<SnapshotStore>();
        services.AddSingleton<RunStore>();
        services.AddSingleton<GoalStore>();
        services.AddSingleton<IncentivePlanStore>();
        services.AddSingleton<AlertRuleStore>();
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
        services.AddSingleton<RunPlanner>();
        services.AddSingleton<DayAggregation>();
        services.AddSingleton<PeriodFinalizer>();
        // Derived families, in the order they build on each other: defined (expression) indicators first.
        DefinedIndicators.Register(services);
        services.AddSingleton<IDerivedIndicators, BenchmarkIndicators>();
        services.AddSingleton<IDerivedIndicators, IncentiveIndicators>();
        services.AddSingleton<IDerivedIndicators, GoalIndicators>();
        services.AddSingleton<SnapshotReader>();
        services.AddSingleton<Api.SnapshotResponseCache>();
        services.AddSingleton<Alerts.AlertService>();
        services.AddSingleton<Alerts.DigestService>();

        // Functions: one handler per non-HTTP function folder.
        services.AddSingleton<IFunctionHandler, IngestQueuedEventsFunction>();
        services.AddSingleton<IFunctionHandler, KpiScheduleFunction>();
        services.AddSingleton<IFunctionHandler, StartRunFunction>();
        services.AddSingleton<IFunctionHandler, AggregateDayFunction>();
        services.AddSingleton<IFunctionHandler, FinalizePeriodFunction>();
        services.AddSingleton<IFunctionHandler, CompletePeriodFunction>();
        services.AddSingleton<IFunctionHandler, AlertDigestFunction>();
        services.AddSingleton<FunctionDispatcher>();

        // The function folders beside the executable; CrmMetrics:FunctionsRoot points elsewhere (tests).
        services.AddSingleton(_ => FunctionCatalog.Load(configuration["CrmMetrics:FunctionsRoot"] ?? AppContext.BaseDirectory));
        if (mode == RunMode.Local)
        {
            services.AddSingleton<OutputBindingWriter>();
            services.AddHostedService<LocalTriggerRuntime>();
        }
        return services;
    }
}
