using System.Text.Json.Nodes;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;

namespace CrmMetrics.Domain.Goals;

/// <summary>A goal's standing in one period (contract: indicators.md, goal attainment).</summary>
public sealed record GoalAttainment(
    Goal Goal,
    string Period,
    double? Actual,
    double? Attainment,
    double? Projected,
    double? ProjectedAttainment,
    string Status,
    long FactCount);

/// <summary>
/// Attainment, projection and status of goals, from the period's computed rows:
/// attainment = 100·a/t (higher is better) or max(0, 100·(2 − a/t)) (lower is better);
/// additive indicators project linearly over the elapsed part of an open period; status is
/// achieved/missed once the period is over, else on-track/at-risk/off-track by projected attainment.
/// </summary>
public static class GoalEvaluator
{
    public const string Achieved = "achieved";
    public const string Missed = "missed";
    public const string OnTrack = "on-track";
    public const string AtRisk = "at-risk";
    public const string OffTrack = "off-track";

    public static double? AttainmentOf(double? actual, decimal target, Direction direction)
    {
        if (actual is not { } a || target == 0) return null;
        var ratio = a / (double)target;
        return direction == Direction.Higher ? 100 * ratio : Math.Max(0, 100 * (2 - ratio));
    }

    public static GoalAttainment Evaluate(Goal goal, Period period, SnapshotRow? row, DateTimeOffset now)
    {
        var definition = IndicatorCatalog.Find(goal.Indicator);
        var direction = row?.Direction ?? definition?.Direction ?? Direction.Higher;
        var additive = definition?.Additive ?? false;
        var actual = row?.Value;
        var over = now >= period.End;
        double? projected = actual;
        if (additive && !over && actual is { } a)
        {
            var elapsed = now - period.Start;
            projected = elapsed > TimeSpan.Zero ? a * period.Length.TotalSeconds / elapsed.TotalSeconds : null;
        }
        var attainment = AttainmentOf(actual, goal.Target, direction);
        var projectedAttainment = AttainmentOf(projected, goal.Target, direction);
        var status = over
            ? attainment >= 100 ? Achieved : Missed
            : projectedAttainment >= 100 ? OnTrack
            : projectedAttainment >= (double)goal.Threshold ? AtRisk
            : OffTrack;
        return new GoalAttainment(goal, period.Key, actual, attainment, projected, projectedAttainment, status, row?.FactCount ?? 0);
    }

    /// <summary>Rows of family goal-attainment for every goal that applies to the period, parents listing their children.</summary>
    public static IReadOnlyList<SnapshotRow> Rows(IReadOnlyList<Goal> goals, Period period, IReadOnlyList<SnapshotRow> computed, DateTimeOffset now)
    {
        var byKey = computed.GroupBy(r => (r.Indicator, r.Scope)).ToDictionary(g => g.Key, g => g.Last());
        var results = goals.Where(g => g.AppliesTo(period))
            .Select(g => Evaluate(g, period, byKey.GetValueOrDefault((g.Indicator, g.Scope)), now))
            .ToList();
        var definition = IndicatorCatalog.Find("goal.attainment")!;
        return results.Select(r =>
        {
            var children = results.Where(c => c.Goal.ParentGoalId == r.Goal.GoalId)
                .Select(c => (JsonNode)new JsonObject { ["goalId"] = c.Goal.GoalId, ["attainment"] = c.Attainment, ["status"] = c.Status })
                .ToArray();
            var details = new JsonObject
            {
                ["goalId"] = r.Goal.GoalId,
                ["name"] = r.Goal.Name,
                ["indicator"] = r.Goal.Indicator,
                ["scope"] = r.Goal.Scope,
                ["actual"] = r.Actual,
                ["target"] = r.Goal.Target,
                ["stretch"] = r.Goal.Stretch,
                ["threshold"] = r.Goal.Threshold,
                ["attainment"] = r.Attainment,
                ["projected"] = r.Projected,
                ["projectedAttainment"] = r.ProjectedAttainment,
                ["status"] = r.Status,
                ["parentGoalId"] = r.Goal.ParentGoalId,
                ["children"] = new JsonArray(children),
            };
            return SnapshotRow.From(definition, "goal:" + r.Goal.GoalId, period, new IndicatorValue(r.Attainment, r.FactCount), details);
        }).ToList();
    }
}
