using System.Text.Json.Nodes;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;

namespace CrmMetrics.Domain.Goals;

/// <summary>How one child counted in a composite goal's score.</summary>
/// <param name="EffectiveWeight">The weight after leaving out children without an attainment (the remaining weights rescaled to 100); null when left out.</param>
/// <param name="Contribution">Points of the composite's attainment: effective weight × capped attainment / 100.</param>
public sealed record PartContribution(
    string GoalId,
    string? Name,
    decimal Weight,
    double? Attainment,
    double? CappedAttainment,
    double? EffectiveWeight,
    double? Contribution,
    double? ProjectedAttainment,
    double? ProjectedContribution,
    string Status,
    string? NameFa = null);

/// <summary>A goal's standing in one period (contract: indicators.md, goal attainment).</summary>
public sealed record GoalAttainment(
    Goal Goal,
    string Period,
    double? Actual,
    double? Attainment,
    double? Projected,
    double? ProjectedAttainment,
    string Status,
    long FactCount)
{
    /// <summary>A composite's children and what each contributed; null for a goal on an indicator.</summary>
    public IReadOnlyList<PartContribution>? Parts { get; init; }
}

/// <summary>
/// Attainment, projection and status of goals, from the period's computed rows:
/// attainment = 100·a/t (higher is better) or max(0, 100·(2 − a/t)) (lower is better);
/// additive indicators project linearly over the elapsed part of an open period; status is
/// no-data without an actual (or without an attainment: a target of 0), achieved/missed once the period is over, else
/// on-track/at-risk/off-track by projected attainment. A composite's attainment is the weighted
/// mean of its children's capped attainments (children without one left out, the rest rescaled).
/// </summary>
public static class GoalEvaluator
{
    public const string Achieved = "achieved";
    public const string Missed = "missed";
    public const string OnTrack = "on-track";
    public const string AtRisk = "at-risk";
    public const string OffTrack = "off-track";
    public const string NoData = "no-data";

    public static double? AttainmentOf(double? actual, decimal target, Direction direction)
    {
        if (actual is not { } a || target == 0) return null;
        var t = (double)target;
        // One rounding, after the exact products: 100·a/t, not 100·(a/t), whose quotient is rounded first
        // (57 of 60 would be 95.00000000000001 %, a quarter of small whole pairs carry such noise).
        return direction == Direction.Higher ? 100 * a / t : Math.Max(0, 100 * (2 * t - a) / t);
    }

    public static string StatusOf(double? attainment, double? projectedAttainment, decimal threshold, bool over) =>
        attainment is null ? NoData
        : over ? attainment >= 100 ? Achieved : Missed
        : projectedAttainment >= 100 ? OnTrack
        : projectedAttainment >= (double)threshold ? AtRisk
        : OffTrack;

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
        return new GoalAttainment(goal, period.Key, actual, attainment, projected, projectedAttainment, StatusOf(attainment, projectedAttainment, goal.Threshold, over), row?.FactCount ?? 0);
    }

    /// <summary>
    /// A composite's standing from its children's: Σ w × min(attainment, cap) / Σ w over the children
    /// with an attainment, and the same over projected attainments. The score is measured against 100.
    /// </summary>
    public static GoalAttainment EvaluateComposite(Goal goal, Period period, IReadOnlyDictionary<string, GoalAttainment> children, DateTimeOffset now)
    {
        var cap = (double)goal.MaxContribution;
        var parts = goal.Children ?? [];
        var present = parts.Select(p => (Part: p, Result: children.GetValueOrDefault(p.GoalId))).ToList();
        var weight = present.Where(x => x.Result?.Attainment is not null).Sum(x => (double)x.Part.Weight);
        var projectedWeight = present.Where(x => x.Result?.ProjectedAttainment is not null).Sum(x => (double)x.Part.Weight);
        var contributions = present.Select(x =>
        {
            var attainment = x.Result?.Attainment;
            var capped = attainment is { } a ? Math.Min(a, cap) : (double?)null;
            var effective = capped is null ? (double?)null : 100 * (double)x.Part.Weight / weight;
            var projected = x.Result?.ProjectedAttainment;
            double? projectedContribution = projected is { } pa ? (double)x.Part.Weight * Math.Min(pa, cap) / projectedWeight : null;
            return new PartContribution(x.Part.GoalId, x.Result?.Goal.Name, x.Part.Weight, attainment, capped, effective,
                capped is { } c ? effective!.Value * c / 100 : null, projected, projectedContribution, x.Result?.Status ?? NoData, x.Result?.Goal.NameFa);
        }).ToList();
        double? score = weight > 0 ? contributions.Sum(c => c.Contribution ?? 0) : null;
        double? projectedScore = projectedWeight > 0 ? contributions.Sum(c => c.ProjectedContribution ?? 0) : null;
        var status = StatusOf(score, projectedScore, goal.Threshold, now >= period.End);
        var factCount = present.Select(x => x.Result?.FactCount ?? 0).DefaultIfEmpty(0).Max();
        return new GoalAttainment(goal, period.Key, score, score, projectedScore, projectedScore, status, factCount) { Parts = contributions };
    }

    /// <summary>Every goal that applies to the period, composites after their children (trees of any depth).</summary>
    public static IReadOnlyList<GoalAttainment> EvaluateAll(IReadOnlyList<Goal> goals, Period period, IReadOnlyList<SnapshotRow> computed, DateTimeOffset now)
    {
        var byKey = computed.GroupBy(r => (r.Indicator, r.Scope)).ToDictionary(g => g.Key, g => g.Last());
        var applicable = goals.Where(g => g.AppliesTo(period)).ToDictionary(g => g.GoalId, StringComparer.Ordinal);
        var results = new Dictionary<string, GoalAttainment>(StringComparer.Ordinal);
        var visiting = new HashSet<string>(StringComparer.Ordinal);
        GoalAttainment? Resolve(string goalId)
        {
            if (results.TryGetValue(goalId, out var done)) return done;
            if (!applicable.TryGetValue(goalId, out var goal) || !visiting.Add(goalId)) return null; // not this period's, or a stored cycle
            GoalAttainment result;
            if (goal.IsComposite)
            {
                var children = new Dictionary<string, GoalAttainment>(StringComparer.Ordinal);
                foreach (var part in goal.Children!)
                {
                    if (Resolve(part.GoalId) is { } child) children[part.GoalId] = child;
                }
                result = EvaluateComposite(goal, period, children, now);
            }
            else
            {
                result = Evaluate(goal, period, goal.Indicator is { } indicator ? byKey.GetValueOrDefault((indicator, goal.Scope)) : null, now);
            }
            visiting.Remove(goalId);
            return results[goalId] = result;
        }
        return goals.Where(g => applicable.ContainsKey(g.GoalId)).Select(g => Resolve(g.GoalId)).OfType<GoalAttainment>().ToList();
    }

    /// <summary>Rows of family goal-attainment for every goal that applies to the period: parents list their children, composites their parts' contributions.</summary>
    public static IReadOnlyList<SnapshotRow> Rows(IReadOnlyList<Goal> goals, Period period, IReadOnlyList<SnapshotRow> computed, DateTimeOffset now)
    {
        var results = EvaluateAll(goals, period, computed, now);
        var definition = IndicatorCatalog.Find("goal.attainment")!;
        return results.Select(r =>
        {
            var children = r.Parts is { } parts
                ? parts.Select(p => (JsonNode)new JsonObject
                {
                    ["goalId"] = p.GoalId,
                    ["name"] = p.Name,
                    ["nameFa"] = p.NameFa,
                    ["weight"] = p.Weight,
                    ["effectiveWeight"] = p.EffectiveWeight,
                    ["attainment"] = p.Attainment,
                    ["cappedAttainment"] = p.CappedAttainment,
                    ["contribution"] = p.Contribution,
                    ["projectedAttainment"] = p.ProjectedAttainment,
                    ["projectedContribution"] = p.ProjectedContribution,
                    ["status"] = p.Status,
                }).ToArray()
                : results.Where(c => c.Goal.ParentGoalId == r.Goal.GoalId)
                    .Select(c => (JsonNode)new JsonObject { ["goalId"] = c.Goal.GoalId, ["attainment"] = c.Attainment, ["status"] = c.Status })
                    .ToArray();
            var details = new JsonObject
            {
                ["goalId"] = r.Goal.GoalId,
                ["name"] = r.Goal.Name,
                ["nameFa"] = r.Goal.NameFa,
                ["indicator"] = r.Goal.Indicator,
                ["scope"] = r.Goal.IsComposite ? null : r.Goal.Scope,
                ["actual"] = r.Actual,
                ["target"] = r.Goal.Target,
                ["stretch"] = r.Goal.Stretch,
                ["threshold"] = r.Goal.Threshold,
                ["attainment"] = r.Attainment,
                ["projected"] = r.Projected,
                ["projectedAttainment"] = r.ProjectedAttainment,
                ["status"] = r.Status,
                ["parentGoalId"] = r.Goal.ParentGoalId,
                ["composite"] = r.Goal.IsComposite,
                ["maxContribution"] = r.Goal.IsComposite ? r.Goal.MaxContribution : null,
                ["children"] = new JsonArray(children),
            };
            return SnapshotRow.From(definition, Aggregation.Scope.Goal(r.Goal.GoalId), period, new IndicatorValue(r.Attainment, r.FactCount), details);
        }).ToList();
    }
}
