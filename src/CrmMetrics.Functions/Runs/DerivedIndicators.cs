using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Benchmarks;
using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Incentives;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
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
/// Quota attainment and payouts of every incentive plan of the period's grain, each under its version
/// that applies to the period. Each statement names the plan version it was computed with, so a
/// disputed payout is settled from the audit trail's record of that version.
/// </summary>
public sealed class IncentiveIndicators(IncentivePlanStore plans, ILogger<IncentiveIndicators> logger) : IDerivedIndicators
{
    public async Task<IReadOnlyList<SnapshotRow>> ComputeAsync(PeriodAggregate aggregate, IReadOnlyList<SnapshotRow> rows, DateTimeOffset now, CancellationToken ct)
    {
        var payable = new List<IncentivePlan>();
        var versions = new Dictionary<string, int>(StringComparer.Ordinal);
        // A staff member is in one plan of a grain (the API refuses a second). Plans stored otherwise (by
        // a version without that check under concurrent writes) pay from the first plan by id, and the
        // period is still finalised: two rows for one staff member and period would fail its every write.
        var paidBy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (stored, version) in (await plans.ListVersionedAsync(ct)).OrderBy(p => p.Document.PlanId, StringComparer.Ordinal))
        {
            // Paid under the version that applies to the period: a dated version leaves the periods before it as they were paid.
            if (stored.VersionFor(aggregate.Period) is not { } plan) continue;
            var participants = new List<Participant>(plan.Participants.Count);
            foreach (var participant in plan.Participants)
            {
                if (paidBy.TryGetValue(participant.StaffId, out var first))
                    logger.LogWarning("Staff member {StaffId} is in incentive plans {First} and {Second} of grain {Grain}; {Period} pays them from the first only. Remove them from one of the plans",
                        participant.StaffId, first, plan.PlanId, Grains.Key(plan.Grain), aggregate.Period.Key);
                else
                {
                    paidBy[participant.StaffId] = plan.PlanId;
                    participants.Add(participant);
                }
            }
            payable.Add(participants.Count == plan.Participants.Count ? plan : plan with { Participants = participants });
            versions[plan.PlanId] = plan.PlanVersion ?? version;
        }
        // Ranked across the plans: the ranks are the period's.
        return [.. IncentivePlanCalculator.Rows(payable, aggregate.Period, rows).Select(row => WithPlanVersion(row, versions))];
    }

    private static SnapshotRow WithPlanVersion(SnapshotRow row, Dictionary<string, int> versions)
    {
        if (row.Details is { } details && details["planId"]?.GetValue<string>() is { } planId) details["planVersion"] = versions[planId];
        return row;
    }
}

/// <summary>Goal attainment last, so goals may be set on any indicator computed before, benchmarks and payouts included.</summary>
public sealed class GoalIndicators(GoalStore goals) : IDerivedIndicators
{
    public async Task<IReadOnlyList<SnapshotRow>> ComputeAsync(PeriodAggregate aggregate, IReadOnlyList<SnapshotRow> rows, DateTimeOffset now, CancellationToken ct) =>
        GoalEvaluator.Rows(await goals.ListAsync(ct), aggregate.Period, rows, now);
}
