using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Benchmarks;
using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Incentives;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Storage.Settings;

namespace CrmMetrics.Functions.Runs;

/// <summary>Competitor benchmarks from the period's observations and the deals that named a competitor.</summary>
public sealed class BenchmarkIndicators(ObservationStore observations) : IDerivedIndicators
{
    public async Task<IReadOnlyList<SnapshotRow>> ComputeAsync(PeriodAggregate aggregate, IReadOnlyList<SnapshotRow> rows, DateTimeOffset now, CancellationToken ct)
    {
        var figures = (await observations.ForPeriodAsync(aggregate.Period.Key, ct))
            .Select(o => new CompetitorFigure(o.Competitor, o.Indicator, o.Value))
            .ToList();
        return BenchmarkCalculator.Rows(aggregate.Period, rows, figures, aggregate.DealsByCompetitor);
    }
}

/// <summary>Quota attainment and payouts of every incentive plan of the period's grain.</summary>
public sealed class IncentiveIndicators(IncentivePlanStore plans) : IDerivedIndicators
{
    public async Task<IReadOnlyList<SnapshotRow>> ComputeAsync(PeriodAggregate aggregate, IReadOnlyList<SnapshotRow> rows, DateTimeOffset now, CancellationToken ct) =>
        (await plans.ListAsync(ct)).OrderBy(p => p.PlanId, StringComparer.Ordinal).SelectMany(p => IncentivePlanCalculator.Rows(p, aggregate.Period, rows)).ToList();
}

/// <summary>Goal attainment last, so goals may be set on any indicator computed before, benchmarks and payouts included.</summary>
public sealed class GoalIndicators(GoalStore goals) : IDerivedIndicators
{
    public async Task<IReadOnlyList<SnapshotRow>> ComputeAsync(PeriodAggregate aggregate, IReadOnlyList<SnapshotRow> rows, DateTimeOffset now, CancellationToken ct) =>
        GoalEvaluator.Rows(await goals.ListAsync(ct), aggregate.Period, rows, now);
}
