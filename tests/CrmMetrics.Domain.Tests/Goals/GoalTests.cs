using System.Text.Json;
using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Tests.Goals;

public class GoalTests
{
    private static readonly PeriodCalendar Utc = PeriodCalendar.TryCreate("gregorian", "UTC", out var c, out _) ? c! : throw new InvalidOperationException();
    private static readonly Period November = Utc.Parse("2026-11", Grain.Month);

    private static Goal G(string indicator, decimal target, decimal threshold = 90) =>
        new() { GoalId = "g", Name = "g", Indicator = indicator, Grain = Grain.Month, Target = target, Threshold = threshold };

    private static SnapshotRow Row(string indicator, double? value) =>
        SnapshotRow.From(IndicatorCatalog.Find(indicator)!, "org", November, new IndicatorValue(value, 10));

    [Fact]
    public void Higher_is_better_attainment_is_actual_over_target()
    {
        var result = GoalEvaluator.Evaluate(G("cx.nps", 40), November, Row("cx.nps", 30), November.End.AddDays(1));
        Assert.Equal(75, result.Attainment!.Value, 9);
        Assert.Equal(GoalEvaluator.Missed, result.Status);
    }

    [Theory]
    [InlineData(57.0, 100.0, Direction.Higher, 57.0)]   // 100 × (57 / 100) would be 56.99999999999999
    [InlineData(7.0, 100.0, Direction.Higher, 7.0)]     // … 7.000000000000001
    [InlineData(11.0, 5.0, Direction.Higher, 220.0)]    // … 220.00000000000003
    [InlineData(8.0, 5.0, Direction.Lower, 40.0)]       // 100 × (2 − 8 / 5) would be 39.99999999999999
    [InlineData(7.0, 5.0, Direction.Lower, 60.0)]       // … 60.00000000000001
    public void Attainment_is_rounded_once_so_whole_figures_come_out_whole(double actual, double target, Direction direction, double attainment) =>
        Assert.Equal(attainment, GoalEvaluator.AttainmentOf(actual, (decimal)target, direction)!.Value); // exact, no tolerance

    [Theory]
    [InlineData(12.0, 80.0)]   // 100 × (2 − 12/10)
    [InlineData(8.0, 120.0)]
    [InlineData(25.0, 0.0)]    // floored at 0
    public void Lower_is_better_attainment_is_two_minus_the_ratio_floored_at_zero(double actual, double expected) =>
        Assert.Equal(expected, GoalEvaluator.Evaluate(G("cx.resolution-hours-p90", 10), November, Row("cx.resolution-hours-p90", actual), November.End).Attainment!.Value, 9);

    [Fact]
    public void An_open_period_projects_additive_indicators_over_the_elapsed_part()
    {
        // 12 of 30 days elapsed: 40,000 so far projects to 100,000.
        var now = November.Start.AddDays(12);
        var result = GoalEvaluator.Evaluate(G("com.revenue", 100_000), November, Row("com.revenue", 40_000), now);
        Assert.Equal(100_000, result.Projected!.Value, 6);
        Assert.Equal(100, result.ProjectedAttainment!.Value, 6);
        Assert.Equal(GoalEvaluator.OnTrack, result.Status);
        Assert.Equal(GoalEvaluator.AtRisk, GoalEvaluator.Evaluate(G("com.revenue", 105_000), November, Row("com.revenue", 40_000), now).Status);
        Assert.Equal(GoalEvaluator.OffTrack, GoalEvaluator.Evaluate(G("com.revenue", 150_000), November, Row("com.revenue", 40_000), now).Status);
    }

    [Fact]
    public void Non_additive_indicators_project_their_current_value()
    {
        var result = GoalEvaluator.Evaluate(G("cx.csat", 80), November, Row("cx.csat", 84), November.Start.AddDays(3));
        Assert.Equal(84, result.Projected);
        Assert.Equal(GoalEvaluator.OnTrack, result.Status);
    }

    [Fact]
    public void Without_a_value_attainment_is_null_and_the_status_is_no_data_never_missed()
    {
        var result = GoalEvaluator.Evaluate(G("cx.nps", 40), November, null, November.End);
        Assert.Null(result.Attainment);
        Assert.Equal(GoalEvaluator.NoData, result.Status);
        Assert.Equal(GoalEvaluator.NoData, GoalEvaluator.Evaluate(G("cx.csat", 70), November, Row("cx.csat", null), November.Start.AddDays(3)).Status);
        Assert.Equal(GoalEvaluator.Achieved, GoalEvaluator.Evaluate(G("cx.nps", 40), November, Row("cx.nps", 40), November.End).Status);
    }

    [Fact]
    public void A_target_of_zero_is_taken_and_gives_a_null_attainment_as_the_contract_says()
    {
        var (goal, errors) = Read("""{"name":"No critical complaints","indicator":"cx.complaints","grain":"month","target":0,"stretch":0}""");
        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.Equal(0m, goal!.Target);
        var result = GoalEvaluator.Evaluate(goal, November, Row("cx.complaints", 3), November.End);
        Assert.Equal(3, result.Actual);
        Assert.Null(result.Attainment);
        Assert.Null(result.ProjectedAttainment);
        Assert.Equal(GoalEvaluator.NoData, result.Status);
    }

    [Fact]
    public void Parents_list_their_children()
    {
        var parent = G("com.revenue", 100) with { GoalId = "parent" };
        var child = G("com.revenue", 50) with { GoalId = "child", ParentGoalId = "parent" };
        var rows = GoalEvaluator.Rows([parent, child], November, [Row("com.revenue", 60)], November.End);
        var parentRow = rows.Single(r => r.Scope == "goal:parent");
        Assert.Equal("child", parentRow.Details!["children"]![0]!["goalId"]!.GetValue<string>());
        Assert.Equal(GoalEvaluator.Achieved, parentRow.Details!["children"]![0]!["status"]!.GetValue<string>());
    }

    private static (Goal? Goal, ValidationErrors Errors) Read(string json, string id = "g1", Dictionary<string, string?>? parents = null)
    {
        parents ??= new() { ["top"] = null, ["mid"] = "top", ["g1"] = "mid" };
        var goals = parents.ToDictionary(p => p.Key, p => G("cx.nps", 10) with { GoalId = p.Key, ParentGoalId = p.Value });
        using var doc = JsonDocument.Parse(json);
        var errors = new ValidationErrors();
        var goal = Goal.Read(id, doc.RootElement, Utc, goals, IndicatorResolver.Catalog, errors);
        return (goal, errors);
    }

    [Theory]
    [InlineData("bench.win-rate-vs", "competitor:Acme")]
    [InlineData("staff.quota-attainment", "staff:S-01")]
    [InlineData("com.revenue", "region:north")]
    [InlineData("bench.percentile.cx.nps", "org")]
    public void A_goal_takes_a_scope_its_indicator_has_values_at(string indicator, string scope)
    {
        var (goal, errors) = Read($$"""{"name":"x","indicator":"{{indicator}}","scope":"{{scope}}","grain":"month","target":60}""");
        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.Equal(scope, goal!.Scope);
    }

    [Fact]
    public void A_valid_goal_reads_with_defaults()
    {
        var (goal, errors) = Read("""{"name":"Revenue","indicator":"com.revenue","grain":"month","target":100000}""");
        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.Equal(("org", 90m, (string?)null), (goal!.Scope, goal.Threshold, goal.Period));
    }

    [Theory]
    [InlineData("""{"name":"x","indicator":"cx.happiness","grain":"month","target":1}""", "indicator")]
    [InlineData("""{"name":"   ","indicator":"cx.nps","grain":"month","target":1}""", "name")]
    [InlineData("""{"name":"x","nameFa":" \u00a0","indicator":"cx.nps","grain":"month","target":1}""", "nameFa")]
    [InlineData("""{"name":"x","nameFa":"","indicator":"cx.nps","grain":"month","target":1}""", "nameFa")]
    [InlineData("""{"name":"x","nameFa":"\u200c\u200b \ufeff","indicator":"cx.nps","grain":"month","target":1}""", "nameFa")]
    [InlineData("""{"name":"\udb40\udc41\udb40\udc42","indicator":"cx.nps","grain":"month","target":1}""", "name")]
    [InlineData("""{"name":"x","indicator":"cx.nps","grain":"fortnight","target":1}""", "grain")]
    [InlineData("""{"name":"x","indicator":"cx.nps","grain":"month","period":"2026-W40","target":1}""", "period")]
    [InlineData("""{"name":"x","indicator":"cx.nps","grain":"month","period":"3026-01","target":1}""", "period")]
    [InlineData("""{"name":"x","indicator":"cx.nps","grain":"year","period":"1850","target":1}""", "period")]
    [InlineData("""{"name":"x","indicator":"com.revenue","scope":"channel:telepathy","grain":"month","target":1}""", "scope")]
    [InlineData("""{"name":"x","indicator":"goal.attainment","grain":"month","target":100}""", "indicator")]
    [InlineData("""{"name":"x","indicator":"cx.complaints","grain":"month","target":100,"stretch":500}""", "stretch")]
    [InlineData("""{"name":"x","indicator":"cx.nps","grain":"month","target":-5}""", "target")]
    // Found by probing: 1e-30 read as 0, a goal without an attainment.
    [InlineData("""{"name":"x","indicator":"com.revenue","grain":"month","target":1e-30}""", "target")]
    [InlineData("""{"name":"x","indicator":"com.revenue","grain":"month","target":-1e-30}""", "target")]
    [InlineData("""{"name":"x","indicator":"com.revenue","scope":"competitor:Acme","grain":"month","target":1}""", "scope")]
    [InlineData("""{"name":"x","indicator":"staff.quota-attainment","grain":"month","target":100}""", "scope")]
    [InlineData("""{"name":"x","indicator":"bench.gap.cx.nps","grain":"month","target":1}""", "scope")]
    [InlineData("""{"name":"x","indicator":"cx.nps","grain":"month","target":"many"}""", "target")]
    [InlineData("""{"name":"x","indicator":"cx.nps","grain":"month","target":5,"threshold":150}""", "threshold")]
    [InlineData("""{"name":"x","indicator":"cx.nps","grain":"month","target":5,"scope":"planet:mars"}""", "scope")]
    [InlineData("""{"name":"x","indicator":"cx.nps","grain":"month","target":5,"parentGoalId":"nope"}""", "parentGoalId")]
    [InlineData("""{"name":"","indicator":"cx.nps","grain":"month","target":5}""", "name")]
    // Found by probing: an override reorders alert text after the name; a line separator splits a message.
    [InlineData("""{"name":"Revenue \u202egnissim","indicator":"cx.nps","grain":"month","target":5}""", "name")]
    [InlineData("""{"name":"x","nameFa":"درآمد\u2028دوم","indicator":"cx.nps","grain":"month","target":5}""", "nameFa")]
    [InlineData("""{"indicator":"cx.nps","grain":"month","target":5}""", "name")]
    public void Each_invalid_member_is_named(string json, string field)
    {
        var (goal, errors) = Read(json);
        Assert.Null(goal);
        Assert.True(errors.Has(field), errors.ToString());
    }

    [Theory]
    // Found by probing: each was ignored, so a goal for one month became a goal for every month (alerts back
    // to the first month of data), with the default threshold, no parent and no stretch.
    [InlineData("""{"name":"x","indicator":"com.revenue","grain":"month","perod":"2026-10","target":5}""", "perod", "period")]
    [InlineData("""{"name":"x","indicator":"com.revenue","grain":"month","target":5,"treshold":50}""", "treshold", "threshold")]
    [InlineData("""{"name":"x","indicator":"com.revenue","grain":"month","target":5,"parentGoalID":"top"}""", "parentGoalID", "parentGoalId")]
    [InlineData("""{"name":"x","indicator":"com.revenue","grain":"month","target":5,"strech":6}""", "strech", "stretch")]
    public void A_member_that_misspells_one_a_goal_reads_is_refused_naming_the_one_meant(string json, string member, string meant)
    {
        var (goal, errors) = Read(json);
        Assert.Null(goal);
        Assert.Contains($"did you mean {meant}?", Assert.Single(errors.ToDictionary()[member]));
    }

    [Fact]
    public void A_composite_part_with_a_misspelt_weight_is_refused_at_its_path()
    {
        var (goal, errors) = Read("""{"name":"x","grain":"month","children":[{"goalId":"top","wieght":100}]}""", id: "c");
        Assert.Null(goal);
        Assert.Contains("did you mean weight?", Assert.Single(errors.ToDictionary()["children[0].wieght"]));
    }

    [Fact]
    public void Members_a_goal_shows_and_unknown_ones_unlike_any_pass()
    {
        var (goal, errors) = Read("""{"goalId":"g1","name":"x","indicator":"com.revenue","grain":"month","target":5,"composite":false,"partOf":[],"maxContribution":null,"comment":"for the board"}""");
        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.NotNull(goal);
    }

    [Fact]
    public void A_parent_chain_that_leads_back_to_the_goal_is_a_cycle()
    {
        // top <- mid <- g1; making top's parent g1 closes the loop.
        var (goal, errors) = Read("""{"name":"x","indicator":"cx.nps","grain":"month","target":5,"parentGoalId":"g1"}""", id: "top");
        Assert.Null(goal);
        Assert.Contains("cycle", errors.ToDictionary()["parentGoalId"][0]);
        Assert.True(Read("""{"name":"x","indicator":"cx.nps","grain":"month","target":5,"parentGoalId":"top"}""", id: "top").Errors.Has("parentGoalId"));
    }
}
