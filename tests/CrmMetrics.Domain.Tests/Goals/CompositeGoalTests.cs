using System.Text.Json;
using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Tests.Goals;

public class CompositeGoalTests
{
    private static readonly PeriodCalendar Utc = PeriodCalendar.TryCreate("gregorian", "UTC", out var c, out _) ? c! : throw new InvalidOperationException();
    private static readonly Period November = Utc.Parse("2026-11", Grain.Month);
    private static readonly DateTimeOffset After = November.End.AddDays(1);

    private static Goal Leaf(string id, string indicator, decimal target, string scope = "org") =>
        new() { GoalId = id, Name = id, Indicator = indicator, Scope = scope, Grain = Grain.Month, Target = target };

    private static Goal Composite(string id, decimal maxContribution = 150, params (string Id, decimal Weight)[] parts) =>
        new() { GoalId = id, Name = id, Grain = Grain.Month, Target = 100, Children = parts.Select(p => new GoalPart(p.Id, p.Weight)).ToList(), MaxContribution = maxContribution };

    private static SnapshotRow Row(string indicator, double? value) =>
        SnapshotRow.From(IndicatorCatalog.Find(indicator)!, "org", November, new IndicatorValue(value, 10));

    private static Dictionary<string, GoalAttainment> Evaluate(IReadOnlyList<Goal> goals, IReadOnlyList<SnapshotRow> rows, DateTimeOffset? now = null) =>
        GoalEvaluator.EvaluateAll(goals, November, rows, now ?? After).ToDictionary(r => r.Goal.GoalId);

    [Fact]
    public void The_score_is_the_weighted_mean_of_direction_aware_attainments()
    {
        // Revenue 110% (higher is better); p90 resolution 30 h against 24 h: 100 × (2 − 30/24) = 75% (lower is better).
        var goals = new[] { Leaf("revenue", "com.revenue", 100_000), Leaf("resolution", "cx.resolution-hours-p90", 24), Composite("score", 150, ("revenue", 60), ("resolution", 40)) };
        var result = Evaluate(goals, [Row("com.revenue", 110_000), Row("cx.resolution-hours-p90", 30)])["score"];
        Assert.Equal(0.6 * 110 + 0.4 * 75, result.Attainment!.Value, 9); // 96
        Assert.Equal(result.Attainment, result.Actual);
        Assert.Equal(GoalEvaluator.Missed, result.Status);
        var resolution = result.Parts!.Single(p => p.GoalId == "resolution");
        Assert.Equal((40m, 75.0, 40.0, 30.0), (resolution.Weight, resolution.Attainment!.Value, resolution.EffectiveWeight!.Value, resolution.Contribution!.Value));
    }

    [Fact]
    public void Each_child_counts_at_most_max_contribution()
    {
        var goals = new[] { Leaf("orders", "com.orders", 100), Leaf("csat", "cx.csat", 80), Composite("score", 120, ("orders", 50), ("csat", 50)) };
        var result = Evaluate(goals, [Row("com.orders", 300), Row("cx.csat", 60)])["score"];
        // 300% capped at 120%; 75% as is.
        Assert.Equal(0.5 * 120 + 0.5 * 75, result.Attainment!.Value, 9);
        Assert.Equal(120, result.Parts![0].CappedAttainment);
        Assert.Equal(300, result.Parts[0].Attainment);
        Assert.Equal(GoalEvaluator.Missed, result.Status);
    }

    [Fact]
    public void Children_without_an_attainment_are_left_out_and_the_other_weights_rescaled()
    {
        var goals = new[] { Leaf("csat", "cx.csat", 80), Leaf("nps", "cx.nps", 40), Leaf("fcr", "cx.fcr", 50), Composite("score", 150, ("csat", 50), ("nps", 30), ("fcr", 20)) };
        var result = Evaluate(goals, [Row("cx.csat", null), Row("cx.nps", 20), Row("cx.fcr", 60)])["score"];
        // Only nps (50%) and fcr (120%) count, rescaled to 60 and 40.
        Assert.Equal(0.6 * 50 + 0.4 * 120, result.Attainment!.Value, 9);
        var csat = result.Parts!.Single(p => p.GoalId == "csat");
        Assert.Equal(GoalEvaluator.NoData, csat.Status);
        Assert.Null(csat.Contribution);
        Assert.Equal(60, result.Parts!.Single(p => p.GoalId == "nps").EffectiveWeight!.Value, 9);

        var none = Evaluate(goals, [Row("cx.csat", null), Row("cx.nps", null), Row("cx.fcr", null)])["score"];
        Assert.Null(none.Attainment);
        Assert.Equal(GoalEvaluator.NoData, none.Status);
    }

    [Fact]
    public void Composites_nest_and_project_over_projected_attainments()
    {
        var midMonth = November.Start.AddDays(15); // half of November: revenue projects to twice its value
        var goals = new[]
        {
            Leaf("revenue", "com.revenue", 100_000), Leaf("csat", "cx.csat", 80), Leaf("resolution", "cx.resolution-hours-p90", 24),
            Composite("customer", 150, ("csat", 50), ("resolution", 50)),
            Composite("company", 150, ("revenue", 40), ("customer", 60)),
        };
        var results = Evaluate(goals, [Row("com.revenue", 45_000), Row("cx.csat", 72), Row("cx.resolution-hours-p90", 12)], midMonth);
        var customer = 0.5 * 90 + 0.5 * 150; // 72/80 = 90%; 100 × (2 − 12/24) = 150%
        Assert.Equal(customer, results["customer"].Attainment!.Value, 9);
        Assert.Equal(0.4 * 45 + 0.6 * customer, results["company"].Attainment!.Value, 9);
        // Projection: revenue 90,000 → 90%; the others project their current values.
        Assert.Equal(0.4 * 90 + 0.6 * customer, results["company"].ProjectedAttainment!.Value, 6);
        Assert.Equal(GoalEvaluator.OnTrack, results["company"].Status);
    }

    [Fact]
    public void A_composite_row_lists_each_childs_attainment_weight_and_contribution()
    {
        var goals = new[] { Leaf("revenue", "com.revenue", 100_000), Leaf("csat", "cx.csat", 80), Composite("score", 150, ("revenue", 70), ("csat", 30)) };
        var rows = GoalEvaluator.Rows(goals, November, [Row("com.revenue", 80_000), Row("cx.csat", 88)], After);
        var score = rows.Single(r => r.Scope == "goal:score");
        Assert.Equal(0.7 * 80 + 0.3 * 110, score.Value!.Value, 9);
        Assert.True(score.Details!["composite"]!.GetValue<bool>());
        Assert.Equal(150m, score.Details["maxContribution"]!.GetValue<decimal>());
        var children = score.Details["children"]!.AsArray();
        Assert.Equal(["revenue", "csat"], children.Select(c => c!["goalId"]!.GetValue<string>()));
        Assert.Equal(70m, children[0]!["weight"]!.GetValue<decimal>());
        Assert.Equal(56, children[0]!["contribution"]!.GetValue<double>(), 9);
        Assert.Equal(33, children[1]!["contribution"]!.GetValue<double>(), 9);
        Assert.Null(score.Details["indicator"]);
    }

    private static (Goal? Goal, ValidationErrors Errors) Read(string id, string json, params Goal[] goals)
    {
        using var doc = JsonDocument.Parse(json);
        var errors = new ValidationErrors();
        return (Goal.Read(id, doc.RootElement, Utc, goals.ToDictionary(g => g.GoalId), IndicatorResolver.Catalog, errors), errors);
    }

    private static readonly Goal[] Stored =
    [
        Leaf("revenue", "com.revenue", 100_000), Leaf("csat", "cx.csat", 80),
        Leaf("orders-year", "com.orders", 100) with { Grain = Grain.Year },
        Composite("customer", 150, ("csat", 100)),
        Composite("company", 150, ("revenue", 50), ("customer", 50)),
        Leaf("smb", "com.revenue", 10_000, "segment:smb") with { ParentGoalId = "revenue" },
    ];

    [Fact]
    public void A_composite_reads_its_children_weights_and_cap()
    {
        var (goal, errors) = Read("score", """{"name":"Score","grain":"month","children":[{"goalId":"revenue","weight":60},{"goalId":"customer","weight":40}],"maxContribution":130}""", Stored);
        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.True(goal!.IsComposite);
        Assert.Equal((100m, 130m, (string?)null), (goal.Target, goal.MaxContribution, goal.Indicator));
        Assert.Equal(150m, Read("score", """{"name":"Score","grain":"month","children":[{"goalId":"revenue","weight":100}]}""", Stored).Goal!.MaxContribution);
    }

    [Theory]
    [InlineData("""{"name":"s","grain":"month","children":[{"goalId":"revenue","weight":60},{"goalId":"csat","weight":30}]}""", "children", "sum to 100; they sum to 90")]
    [InlineData("""{"name":"s","grain":"month","children":[]}""", "children", "must not be empty")]
    [InlineData("""{"name":"s","grain":"month","children":{"goalId":"revenue"}}""", "children", "must be an array")]
    [InlineData("""{"name":"s","grain":"month","children":[{"goalId":"nope","weight":100}]}""", "children[0].goalId", "'nope' does not exist")]
    [InlineData("""{"name":"s","grain":"month","children":[{"goalId":"revenue","weight":0}]}""", "children[0].weight", "greater than 0")]
    [InlineData("""{"name":"s","grain":"month","children":[{"goalId":"revenue","weight":50},{"goalId":"revenue","weight":50}]}""", "children[1].goalId", "listed twice")]
    [InlineData("""{"name":"s","grain":"month","children":[{"goalId":"orders-year","weight":100}]}""", "children[0].goalId", "is a year goal")]
    [InlineData("""{"name":"s","grain":"month","children":[7]}""", "children[0]", "must be an object")]
    [InlineData("""{"name":"s","grain":"month","indicator":"cx.csat","target":5,"children":[{"goalId":"revenue","weight":100}]}""", "indicator", "not used by a composite")]
    [InlineData("""{"name":"s","grain":"month","children":[{"goalId":"revenue","weight":100}],"maxContribution":90}""", "maxContribution", "at least 100")]
    [InlineData("""{"name":"s","indicator":"cx.csat","grain":"month","target":5,"maxContribution":120}""", "maxContribution", "only by composite goals")]
    [InlineData("""{"name":"s","indicator":"cx.csat","grain":"month","target":5,"parentGoalId":"company"}""", "parentGoalId", "is a composite")]
    public void Each_problem_of_a_composite_names_its_field(string json, string field, string problem)
    {
        var (goal, errors) = Read("score", json, Stored);
        Assert.Null(goal);
        Assert.True(errors.Has(field), errors.ToString());
        Assert.Contains(errors.ToDictionary()[field], m => m.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void A_cycle_in_a_tree_of_any_depth_is_refused_naming_the_goals()
    {
        // company ⊃ customer ⊃ csat; making csat contain company closes the loop three levels down.
        var (goal, errors) = Read("csat", """{"name":"c","grain":"month","children":[{"goalId":"company","weight":100}]}""", Stored);
        Assert.Null(goal);
        var message = errors.ToDictionary()["children[0].goalId"][0];
        Assert.Contains("cycle", message);
        Assert.Contains("'company' contains 'customer' contains 'csat'", message);
        Assert.True(Read("customer", """{"name":"c","grain":"month","children":[{"goalId":"customer","weight":100}]}""", Stored).Errors.Has("children[0].goalId"));
    }

    [Fact]
    public void A_part_keeps_its_composites_grain_and_a_rollup_parent_cannot_become_a_composite()
    {
        var (goal, errors) = Read("csat", """{"name":"c","indicator":"cx.csat","grain":"quarter","target":80}""", Stored);
        Assert.Null(goal);
        Assert.Contains("part of composite goal 'customer'", errors.ToDictionary()["grain"][0]);
        var (revenue, rollup) = Read("revenue", """{"name":"r","grain":"month","children":[{"goalId":"csat","weight":100}]}""", Stored);
        Assert.Null(revenue);
        Assert.Contains("'smb'", rollup.ToDictionary()["children"][0]);
    }

    [Fact]
    public void A_part_keeps_its_composites_period_when_changed_from_its_own_side()
    {
        var march = new[] { Leaf("rev", "com.revenue", 100) with { Period = "2026-03" }, Composite("score", 150, ("rev", 100)) with { Period = "2026-03" } };
        var (goal, errors) = Read("rev", """{"name":"r","indicator":"com.revenue","grain":"month","period":"2026-04","target":100}""", march);
        Assert.Null(goal);
        Assert.Contains("part of composite goal 'score', which is for 2026-03", errors.ToDictionary()["period"][0]);
        Assert.True(Read("rev", """{"name":"r","indicator":"com.revenue","grain":"month","period":"2026-03","target":120}""", march).Errors.IsEmpty);
        Assert.True(Read("rev", """{"name":"r","indicator":"com.revenue","grain":"month","target":120}""", march).Errors.IsEmpty);
    }

    [Fact]
    public void A_rollup_child_and_its_parent_keep_one_grain()
    {
        var (child, errors) = Read("smb", """{"name":"s","indicator":"com.revenue","scope":"segment:smb","grain":"year","target":10,"parentGoalId":"revenue"}""", Stored);
        Assert.Null(child);
        Assert.Contains("goal 'revenue' is a month goal", errors.ToDictionary()["parentGoalId"][0]);
        var (parent, parentErrors) = Read("revenue", """{"name":"r","indicator":"com.revenue","grain":"quarter","target":10}""", Stored.Where(g => g.GoalId != "customer" && g.GoalId != "company").ToArray());
        Assert.Null(parent);
        Assert.Contains("'smb'", parentErrors.ToDictionary()["grain"][0]);
    }
}
