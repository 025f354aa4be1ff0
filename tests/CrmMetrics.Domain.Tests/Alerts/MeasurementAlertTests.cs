using System.Text.Json;
using CrmMetrics.Domain.Alerts;
using CrmMetrics.Domain.Benchmarks;
using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Domain.Validation;

using static CrmMetrics.Domain.Tests.Alerts.AlertFixtures;

namespace CrmMetrics.Domain.Tests.Alerts;

/// <summary>No data, recoveries and benchmark rules (contract: alerts.md, "No data, recovery, benchmarks").</summary>
public class MeasurementAlertTests
{
    private static readonly Period July = Utc.Parse("2025-07", Grain.Month);
    private static readonly DateTimeOffset AfterJuly = July.End.AddDays(2);
    private readonly AlertEvaluator _evaluator = new(new AlertText(ReportingCalendar.Gregorian, "EUR"));

    private static SnapshotRow Row(string indicator, double? value, string scope = "org", Period? period = null) =>
        SnapshotRow.From(IndicatorCatalog.Find(indicator)!, scope, period ?? July, new IndicatorValue(value, 1));

    private static readonly Goal Csat = new() { GoalId = "csat-monthly", Name = "Customer satisfaction", Indicator = "cx.csat", Grain = Grain.Month, Target = 70 };

    private AlertAssessment Assess(IReadOnlyList<SnapshotRow> rows, IReadOnlyList<AlertRule>? rules = null, IReadOnlyList<Goal>? goals = null, DateTimeOffset? now = null,
        Period? period = null, Func<string, string, double?>? previous = null, AlertEvaluator? evaluator = null)
    {
        var p = period ?? July;
        var at = now ?? AfterJuly;
        var all = goals ?? [];
        var withGoals = rows.Concat(GoalEvaluator.Rows(all, p, rows, at)).ToList();
        return (evaluator ?? _evaluator).Assess(new AlertInputs
        {
            Period = p, Rows = withGoals, Rules = rules ?? [], Goals = all, Now = at, Previous = previous ?? ((_, _) => null),
        });
    }

    [Fact]
    public void A_goal_without_data_raises_one_no_data_warning_never_missed()
    {
        var alert = Assert.Single(Assess([Row("cx.csat", null)], goals: [Csat]).Alerts);
        Assert.Equal((AlertKinds.NoData, Severity.Warning, "csat-monthly"), (alert.Kind, alert.Severity, alert.GoalId));
        Assert.Equal("No customer satisfaction surveys were recorded for the organisation in July 2025, so goal “Customer satisfaction” (target 70%) cannot be measured.", alert.Message);
        Assert.DoesNotContain("unknown", alert.Message);
        Assert.DoesNotContain("نامعلوم", alert.MessageFa);
        Assert.Contains("هیچ پاسخی به نظرسنجی رضایت مشتری ثبت نشد", alert.MessageFa);
        Assert.Contains("ژوئیه ۲۰۲۵", alert.MessageFa);
        // The same condition later in the period gets the same id: one per goal and period.
        Assert.Equal(alert.Id, Assess([Row("cx.csat", null)], goals: [Csat], now: AfterJuly.AddDays(20)).Alerts.Single().Id);
    }

    [Theory]
    [InlineData("bench.gap.cx.nps", "our own Net Promoter Score had no value, or no competitor's figure for it was recorded")]
    [InlineData("bench.percentile.cx.csat", "our own customer satisfaction had no value, or no competitor's figure for it was recorded")]
    [InlineData("bench.win-rate-vs", "no deals naming the competitor were closed")]
    [InlineData("bench.market-share", "no market size was recorded")]
    [InlineData("bench.index.cx.csat", "our own customer satisfaction had no value, no competitor's figure for it was recorded, or the index is not defined for it (a denominator of 0, or a figure that can be negative)")]
    [InlineData("bench.relative-market-share", "the market size or the competitors' market shares were not recorded, or the largest competitor's share was 0")]
    public void A_benchmark_without_a_value_says_which_side_may_be_missing(string indicator, string clause)
    {
        // Before, every benchmark said "no competitor observations were recorded", also of a competitor that
        // reported other figures, or when our own value was what was missing.
        var text = new AlertText(ReportingCalendar.Gregorian, "EUR");
        Assert.Equal(clause, text.MissingData(indicator, false));
        Assert.DoesNotContain("مشاهده‌ای از رقبا", text.MissingData(indicator, true));
    }

    [Fact]
    public void A_goal_with_a_target_of_zero_and_an_actual_raises_no_no_data_alert_but_one_without_an_actual_does()
    {
        var zeroComplaints = new Goal { GoalId = "no-complaints", Name = "No complaints", Indicator = "cx.complaints", Grain = Grain.Month, Target = 0 };
        Assert.Empty(Assess([Row("cx.complaints", 3)], goals: [zeroComplaints]).Alerts);
        var alert = Assert.Single(Assess([Row("cx.complaints", null)], goals: [zeroComplaints]).Alerts);
        Assert.Equal((AlertKinds.NoData, "no-complaints"), (alert.Kind, alert.GoalId));
        // Once the actual is there, that alert is resolved, though the goal still has no attainment.
        var recovery = Assess([Row("cx.complaints", 3)], goals: [zeroComplaints]).Recoveries[alert.ConditionKey];
        Assert.Equal("Resolved: goal “No complaints” has a value in July 2025: 3; with a target of 0 it has no attainment.", recovery.Message);
        Assert.StartsWith("رفع شد:", recovery.MessageFa);

        // Missed with a target of 1; its target then set to 0: no attainment to have missed, so that alert is resolved.
        var missed = Assert.Single(Assess([Row("cx.complaints", 3)], goals: [zeroComplaints with { Target = 1 }]).Alerts, a => a.Kind == AlertKinds.GoalMissed);
        Assert.Contains(missed.ConditionKey, Assess([Row("cx.complaints", 3)], goals: [zeroComplaints]).Recoveries.Keys);
    }

    [Fact]
    public void A_composite_whose_parts_lose_their_attainment_resolves_its_missed_alert_and_says_why_it_has_no_score()
    {
        // Found by probing: the part's alerts were resolved when its target became 0, the composite's stayed open.
        var part = new Goal { GoalId = "part", Name = "Complaints", Indicator = "cx.complaints", Grain = Grain.Month, Target = 1 };
        var whole = new Goal { GoalId = "whole", Name = "Service", Grain = Grain.Month, Target = 100, Children = [new GoalPart("part", 100)] };
        var missed = Assert.Single(Assess([Row("cx.complaints", 3)], goals: [part, whole]).Alerts, a => a.Kind == AlertKinds.GoalMissed && a.GoalId == "whole");

        var after = Assess([Row("cx.complaints", 3)], goals: [part with { Target = 0 }, whole]);
        Assert.Equal("Resolved: goal “Service” can no longer be measured in July 2025, so it is neither at risk nor missed.", after.Recoveries[missed.ConditionKey].Message);
        var noData = Assert.Single(after.Alerts);
        Assert.Equal((AlertKinds.NoData, "whole"), (noData.Kind, noData.GoalId));
        Assert.Equal("None of the children of goal “Service” has an attainment in July 2025 (no data, or a target of 0), so its weighted score cannot be measured.", noData.Message);
    }

    [Fact]
    public void No_data_waits_until_the_period_is_half_over()
    {
        Assert.Empty(Assess([Row("cx.csat", null)], goals: [Csat], now: July.Start.AddDays(10)).Alerts);
        Assert.Single(Assess([Row("cx.csat", null)], goals: [Csat], now: July.Start.AddDays(16)).Alerts);
    }

    [Fact]
    public void A_threshold_rule_on_a_null_value_raises_no_data_not_a_breach()
    {
        var rule = Rule("""{"kind":"threshold","indicator":"cx.resolution-hours-p90","above":36}""");
        var alert = Assert.Single(Assess([Row("cx.resolution-hours-p90", null)], [rule]).Alerts);
        Assert.Equal((AlertKinds.NoData, "r1"), (alert.Kind, alert.RuleId));
        Assert.StartsWith("No complaints were resolved for the organisation in July 2025", alert.Message);
    }

    [Fact]
    public void Persian_no_data_texts_use_solar_hijri_months_and_persian_digits()
    {
        PeriodCalendar.TryCreate("persian", "Asia/Tehran", out var persian, out _);
        var tir = persian!.Parse("1404-04", Grain.Month);
        var evaluator = new AlertEvaluator(new AlertText(ReportingCalendar.Persian, "IRR"));
        var goal = Csat with { Target = 70 };
        var alert = Assess([Row("cx.csat", null, period: tir)], goals: [goal], now: tir.End.AddDays(1), period: tir, evaluator: evaluator).Alerts.Single();
        Assert.Contains("در تیر ۱۴۰۴ برای کل سازمان هیچ پاسخی به نظرسنجی رضایت مشتری ثبت نشد", alert.MessageFa);
        Assert.Contains("۷۰٪", alert.MessageFa);
        Assert.Contains("Tir 1404", alert.Message);
        Assert.DoesNotContain(alert.MessageFa, ch => ch is >= '0' and <= '9');
    }

    [Fact]
    public void A_condition_that_no_longer_holds_is_a_recovery_with_its_own_id_naming_what_it_resolves()
    {
        var rule = Rule("""{"kind":"threshold","indicator":"cx.csat","below":75}""");
        var breach = Assert.Single(Assess([Row("cx.csat", 70)], [rule]).Alerts);
        var later = Assess([Row("cx.csat", 78)], [rule]);
        Assert.Empty(later.Alerts);
        var recovery = later.Recoveries[breach.ConditionKey];
        Assert.Equal("Resolved: customer satisfaction for the organisation came to 78% in July 2025, back within the thresholds.", recovery.Message);
        Assert.StartsWith("رفع شد:", recovery.MessageFa);

        var resolved = Alert.Resolution(breach.Id, breach.Kind, breach.RuleId, null, breach.Indicator, breach.Scope, breach.Grain, breach.Period, recovery);
        Assert.NotEqual(breach.Id, resolved.Id);
        Assert.Equal(resolved.Id, Alert.Resolution(breach.Id, breach.Kind, breach.RuleId, null, breach.Indicator, breach.Scope, breach.Grain, breach.Period, recovery).Id);
        var e = resolved.ToCloudEvent("prod", AfterJuly, "/x");
        Assert.Equal("crm.metrics.alert.resolved", e["type"]!.GetValue<string>());
        Assert.Equal(breach.Id, e["data"]!["resolves"]!.GetValue<string>());
        Assert.Equal("info", e["data"]!["severity"]!.GetValue<string>());
        Assert.Equal("cx.csat/org/2025-07", e["subject"]!.GetValue<string>());
    }

    [Fact]
    public void A_null_value_resolves_a_breach_as_no_longer_measured_and_a_value_is_the_recovery_of_no_data()
    {
        // A null never breaches a threshold (alerts.md), as it is neither at risk nor missed for a goal: a breach
        // said before the value was lost is resolved (it stayed open beside the no-data alert; found by probing).
        var rule = Rule("""{"kind":"threshold","indicator":"cx.csat","below":75}""");
        var breach = Assess([Row("cx.csat", 70)], [rule]).Alerts.Single();
        var noData = Assess([Row("cx.csat", null)], [rule]);
        Assert.Contains("has no value in July 2025, so it no longer breaches the thresholds", noData.Recoveries[breach.ConditionKey].Message);
        var noDataAlert = noData.Alerts.Single();
        var back = Assess([Row("cx.csat", 90)], [rule]);
        Assert.Contains(noDataAlert.ConditionKey, back.Recoveries.Keys);
        Assert.Contains(breach.ConditionKey, back.Recoveries.Keys);
    }

    [Fact]
    public void A_goal_back_on_track_or_achieved_after_all_recovers_its_alerts()
    {
        var revenue = new Goal { GoalId = "rev", Name = "Revenue", Indicator = "com.revenue", Grain = Grain.Month, Target = 100_000 };
        var mid = July.Start.AddDays(15.5); // half of July
        var atRisk = Assess([Row("com.revenue", 40_000)], goals: [revenue], now: mid).Alerts.Single();
        Assert.Equal(AlertKinds.GoalAtRisk, atRisk.Kind);
        var onTrack = Assess([Row("com.revenue", 52_000)], goals: [revenue], now: mid);
        Assert.Empty(onTrack.Alerts);
        Assert.Contains("is no longer at risk in July 2025", onTrack.Recoveries[atRisk.ConditionKey].Message);

        var missed = Assess([Row("com.revenue", 90_000)], goals: [revenue]).Alerts.Single();
        Assert.Equal(AlertKinds.GoalMissed, missed.Kind);
        var achieved = Assess([Row("com.revenue", 101_000)], goals: [revenue]);
        Assert.Equal("Resolved: goal “Revenue” was achieved in July 2025: 101% of its EUR 100,000 target.", achieved.Recoveries[missed.ConditionKey].Message);
        // Missed stays missed: the at-risk alert of an open period is not resolved by the period ending below target.
        Assert.DoesNotContain(atRisk.ConditionKey, Assess([Row("com.revenue", 90_000)], goals: [revenue]).Recoveries.Keys);
    }

    [Fact]
    public void A_composite_goal_alert_names_its_weakest_part()
    {
        var goals = new[]
        {
            new Goal { GoalId = "csat", Name = "Satisfaction", Indicator = "cx.csat", Grain = Grain.Month, Target = 80 },
            new Goal { GoalId = "res", Name = "Fast resolution", Indicator = "cx.resolution-hours-p90", Grain = Grain.Month, Target = 24 },
            new Goal { GoalId = "score", Name = "Customer-centric score", Grain = Grain.Month, Target = 100, Children = [new("csat", 50), new("res", 50)] },
        };
        var alerts = Assess([Row("cx.csat", 76), Row("cx.resolution-hours-p90", 36)], goals: goals).Alerts;
        var score = alerts.Single(a => a.GoalId == "score");
        Assert.Equal((AlertKinds.GoalMissed, "goal.attainment", "goal:score"), (score.Kind, score.Indicator, score.Scope));
        Assert.Equal("Goal “Customer-centric score” was missed in July 2025: its weighted score reached 72.5% of 100%; weakest part: “Fast resolution” at 50%.", score.Message);
        Assert.Contains("«Fast resolution»", score.MessageFa);

        // With Persian names, the Persian text names the composite and its weakest part by them.
        var named = new[] { goals[0], goals[1] with { NameFa = "حل سریع" }, goals[2] with { NameFa = "امتیاز مشتری‌محوری" } };
        var fa = Assess([Row("cx.csat", 76), Row("cx.resolution-hours-p90", 36)], goals: named).Alerts.Single(a => a.GoalId == "score").MessageFa;
        Assert.Contains("«امتیاز مشتری‌محوری»", fa);
        Assert.Contains("«حل سریع»", fa);
    }

    // Benchmarks: own NPS 30 against Acme 40, Globex 35, Initech 10 (mean 28.3); resolution hours lower is better.
    private static IReadOnlyList<SnapshotRow> Benchmarked(double ownNps, double ownHours = 20)
    {
        IReadOnlyList<SnapshotRow> own = [Row("cx.nps", ownNps), Row("cx.resolution-hours-p90", ownHours)];
        return own.Concat(BenchmarkCalculator.Rows(July, own,
        [
            new("Acme", "cx.nps", 40), new("Globex", "cx.nps", 35), new("Initech", "cx.nps", 10),
            new("Acme", "cx.resolution-hours-p90", 10), new("Globex", "cx.resolution-hours-p90", 40),
        ], new Dictionary<string, Domain.Aggregation.DealTally>())).ToList();
    }

    [Fact]
    public void Below_the_peer_mean_names_the_leading_competitor_and_respects_direction()
    {
        var rule = Rule("""{"kind":"benchmark","indicator":"cx.nps","belowPeerMean":true}""");
        Assert.Empty(Assess(Benchmarked(30), [rule]).Alerts);
        var alert = Assert.Single(Assess(Benchmarked(20), [rule]).Alerts);
        Assert.Equal((AlertKinds.Benchmark, "Acme", Severity.Warning), (alert.Kind, alert.Competitor, alert.Severity));
        Assert.Equal("Net Promoter Score for the organisation was 20 in July 2025, below the 28.3 mean of its 3 competitors; Acme leads with 40.", alert.Message);
        Assert.Contains("Acme", alert.MessageFa);
        Assert.Equal("Acme", alert.ToCloudEvent("p", AfterJuly, "/x")["data"]!["competitor"]!.GetValue<string>());
        Assert.Contains(alert.ConditionKey, Assess(Benchmarked(30), [rule]).Recoveries.Keys);

        var hours = Rule("""{"kind":"benchmark","indicator":"cx.resolution-hours-p90","belowPeerMean":true}""", "hours");
        Assert.Empty(Assess(Benchmarked(30, ownHours: 20), [hours]).Alerts); // 20 h beats the 25 h mean
        Assert.Contains("above (worse than) the 25 hours mean", Assess(Benchmarked(30, ownHours: 30), [hours]).Alerts.Single().Message);

        // Market share is no catalog indicator: the alert names the stored row, bench.market-share, whose
        // snapshot link answers (found by probing: "market-share" gave a link answering 400).
        var share = Rule("""{"kind":"benchmark","indicator":"market-share","belowPeerMean":true}""", "share");
        IReadOnlyList<SnapshotRow> revenue = [Row("com.revenue", 1000)];
        var rows = revenue.Concat(BenchmarkCalculator.Rows(July, revenue,
            [new(null, "market-size", 10000), new("Acme", "market-share", 30), new("Globex", "market-share", 20)], new Dictionary<string, Domain.Aggregation.DealTally>())).ToList();
        var behind = Assert.Single(Assess(rows, [share]).Alerts);
        Assert.Equal(("bench.market-share", 10.0), (behind.Indicator, behind.Value));
        Assert.StartsWith("bench.market-share/org/", behind.ToCloudEvent("p", AfterJuly, "/x")["subject"]!.GetValue<string>());
        // The rule still watches the alert it raised (found in review: it named another subject, so the alert
        // was resolved as unwatched in the batch that raised it).
        Assert.True(share.Watches(behind.Kind, null, behind.Indicator, behind.Scope, behind.Grain));
    }

    [Fact]
    public void A_percentile_under_the_bound_lists_the_competitors_ahead()
    {
        var rule = Rule("""{"kind":"benchmark","indicator":"cx.nps","percentileBelow":50}""");
        var alert = Assert.Single(Assess(Benchmarked(20), [rule]).Alerts);
        Assert.Equal("bench.percentile.cx.nps", alert.Indicator);
        Assert.Equal(100.0 / 3, alert.Value!.Value, 9);
        Assert.Contains("ahead of it: Acme (40), Globex (35)", alert.Message);
        Assert.Empty(Assess(Benchmarked(36), [rule]).Alerts);
    }

    [Fact]
    public void A_gap_to_a_named_competitor_widening_beyond_the_bound_compares_with_the_period_before()
    {
        var rule = Rule("""{"kind":"benchmark","indicator":"cx.nps","gapWidening":5,"competitor":"Acme"}""");
        // Gap now 20 − 40 = −20; before −12: 8 points worse.
        var alert = Assert.Single(Assess(Benchmarked(20), [rule], previous: (i, s) => i == "bench.gap.cx.nps" && s == "competitor:Acme" ? -12 : null).Alerts);
        Assert.Equal(("bench.gap.cx.nps", "competitor:Acme", "Acme"), (alert.Indicator, alert.Scope, alert.Competitor));
        Assert.Equal("The gap in Net Promoter Score between the organisation and Acme went from -12 to -20 in July 2025, 8 worse, more than the 5 bound.", alert.Message);
        Assert.Contains("Acme", alert.MessageFa);
        Assert.Empty(Assess(Benchmarked(20), [rule], previous: (_, _) => -16).Alerts);       // 4 worse: within the bound
        Assert.Empty(Assess(Benchmarked(20), [rule]).Alerts);                                // no previous period: nothing to compare
        // Lower is better: a gap that grows is a gap that widens.
        var hours = Rule("""{"kind":"benchmark","indicator":"cx.resolution-hours-p90","gapWidening":2,"competitor":"Acme"}""", "hours");
        Assert.Single(Assess(Benchmarked(30, ownHours: 20), [hours], previous: (_, _) => 5).Alerts);  // 10 h behind, was 5
        Assert.Empty(Assess(Benchmarked(30, ownHours: 20), [hours], previous: (_, _) => 15).Alerts);
    }

    [Theory]
    [InlineData("""{"kind":"benchmark","indicator":"cx.nps"}""", "belowPeerMean")]
    [InlineData("""{"kind":"benchmark","indicator":"cx.nps","belowPeerMean":true,"percentileBelow":50}""", "percentileBelow")]
    [InlineData("""{"kind":"benchmark","indicator":"cx.nps","gapWidening":5}""", "competitor")]
    [InlineData("""{"kind":"benchmark","indicator":"cx.nps","percentileBelow":50,"competitor":"Acme"}""", "competitor")]
    [InlineData("""{"kind":"benchmark","indicator":"cx.nps","percentileBelow":150}""", "percentileBelow")]
    [InlineData("""{"kind":"benchmark","indicator":"cx.nps","belowPeerMean":true,"scope":"segment:smb"}""", "scope")]
    [InlineData("""{"kind":"benchmark","indicator":"goal.attainment","belowPeerMean":true}""", "indicator")]
    [InlineData("""{"kind":"threshold","indicator":"cx.nps","below":1,"belowPeerMean":true}""", "belowPeerMean")]
    public void Malformed_benchmark_rules_name_the_field(string json, string field)
    {
        using var doc = JsonDocument.Parse(json);
        var errors = new ValidationErrors();
        Assert.Null(AlertRule.Read("b", doc.RootElement, _ => Grain.Month, errors));
        Assert.True(errors.Has(field), errors.ToString());
    }

    [Theory]
    // Found by probing: the misspelt member was ignored, so the rule never raised the critical alert it was written for.
    [InlineData("""{"kind":"threshold","indicator":"cx.csat","below":80,"critcalBelow":60}""", "critcalBelow", "criticalBelow")]
    [InlineData("""{"kind":"threshold","indicator":"cx.csat","below":80,"CriticalBelow":60}""", "CriticalBelow", "criticalBelow")]
    [InlineData("""{"kind":"threshold","indicator":"cx.csat","scopes":"segment:smb","below":80}""", "scopes", "scope")]
    [InlineData("""{"kind":"anomaly","indicator":"cx.csat","K":2}""", "K", "k")]
    [InlineData("""{"kind":"trend","indicator":"cx.csat","waitForPeriodsEnd":true}""", "waitForPeriodsEnd", "waitForPeriodEnd")]
    [InlineData("""{"kind":"benchmark","indicator":"cx.nps","belowPeerMaen":true,"percentileBelow":50}""", "belowPeerMaen", "belowPeerMean")]
    public void A_member_that_misspells_one_a_rule_reads_is_refused_naming_the_one_meant(string json, string member, string meant)
    {
        using var doc = JsonDocument.Parse(json);
        var errors = new ValidationErrors();
        Assert.Null(AlertRule.Read("r", doc.RootElement, _ => Grain.Month, errors));
        Assert.Contains($"did you mean {meant}?", Assert.Single(errors.ToDictionary()[member]));
    }

    [Fact]
    public void Members_no_rule_reads_and_nothing_like_one_are_ignored()
    {
        // Found by review: short names two edits from a member ("goal", "rule", "grade", "scale") were refused.
        using var doc = JsonDocument.Parse("""{"kind":"threshold","indicator":"cx.csat","below":80,"description":"CSAT floor","owner":"cx-team","x":1,"note":"n","goal":"g","rule":"r","grade":"A","scale":"%"}""");
        var errors = new ValidationErrors();
        Assert.NotNull(AlertRule.Read("r", doc.RootElement, _ => Grain.Month, errors));
        Assert.True(errors.IsEmpty, errors.ToString());
    }
}
