using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Benchmarks;
using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Incentives;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Storage.Settings;

namespace CrmMetrics.Functions.Runs;

/// <summary>
/// Derived indicators (<c>PUT /api/indicators/{id}</c>) for every scope, first of the derived families:
/// benchmarks, payouts, goals and alerts may all name them.
/// </summary>
public sealed class DefinedIndicators(DerivedIndicatorStore definitions) : IDerivedIndicators
{
    public async Task<IReadOnlyList<SnapshotRow>> ComputeAsync(PeriodAggregate aggregate, IReadOnlyList<SnapshotRow> rows, DateTimeOffset now, CancellationToken ct) =>
        DerivedIndicatorCalculator.Rows(aggregate.Period, rows, new IndicatorResolver(await definitions.ListAsync(ct)));

    /// <summary>Registers the definitions and this stage; call it before the other derived families, which build on it.</summary>
    public static void Register(IServiceCollection services)
    {
        services.AddSingleton<DerivedIndicatorStore>();
        services.AddSingleton<Indicators.DerivedIndicatorService>();
        services.AddSingleton<IDerivedIndicators, DefinedIndicators>();
    }
}

/// <summary>Competitor benchmarks from the period's observations and the deals that named a competitor.</summary>
public sealed class BenchmarkIndicators(ObservationStore observations, DerivedIndicatorStore definitions) : IDerivedIndicators
{
    public async Task<IReadOnlyList<SnapshotRow>> ComputeAsync(PeriodAggregate aggregate, IReadOnlyList<SnapshotRow> rows, DateTimeOffset now, CancellationToken ct)
    {
        var figures = (await observations.ForPeriodAsync(aggregate.Period.Key, ct))
            .Select(o => new CompetitorFigure(o.Competitor, o.Indicator, o.Value))
            .ToList();
        return BenchmarkCalculator.Rows(aggregate.Period, rows, figures, aggregate.DealsByCompetitor, new IndicatorResolver(await definitions.ListAsync(ct)));
    }
}

/// <summary>
/// Quota attainment and payouts of every incentive plan of the period's grain. Each statement names
/// the plan version it was computed with, so a disputed payout is settled from the audit trail's
/// record of that version.
/// </summary>
public sealed class IncentiveIndicators(IncentivePlanStore plans) : IDerivedIndicators
{
    public async Task<IReadOnlyList<SnapshotRow>> ComputeAsync(PeriodAggregate aggregate, IReadOnlyList<SnapshotRow> rows, DateTimeOffset now, CancellationToken ct) =>
        (await plans.ListVersionedAsync(ct)).OrderBy(p => p.Document.PlanId, StringComparer.Ordinal)
            .SelectMany(p => IncentivePlanCalculator.Rows(p.Document, aggregate.Period, rows).Select(row => WithPlanVersion(row, p.Version))).ToList();

    private static SnapshotRow WithPlanVersion(SnapshotRow row, int version)
    {
        if (row.Details is { } details) details["planVersion"] = version;
        return row;
    }
}

/// <summary>Goal attainment last, so goals may be set on any indicator computed before, benchmarks and payouts included.</summary>
public sealed class GoalIndicators(GoalStore goals) : IDerivedIndicators
{
    public async Task<IReadOnlyList<SnapshotRow>> ComputeAsync(PeriodAggregate aggregate, IReadOnlyList<SnapshotRow> rows, DateTimeOffset now, CancellationToken ct) =>
        GoalEvaluator.Rows(await goals.ListAsync(ct), aggregate.Period, rows, now);
}
