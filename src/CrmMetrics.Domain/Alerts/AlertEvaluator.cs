using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;

namespace CrmMetrics.Domain.Alerts;

/// <summary>
/// Evaluates alert rules against a finalised period: its stored rows, its goal attainments, and the
/// trailing values of the indicators that anomaly and trend rules watch. Pure: the caller reads the
/// history and decides what was sent already.
/// </summary>
public sealed class AlertEvaluator(AlertText text)
{
    /// <param name="history">Values of (indicator, scope) in the periods before this one, oldest first (nulls skipped).</param>
    public IReadOnlyList<Alert> Evaluate(Period period, IReadOnlyList<SnapshotRow> rows, IReadOnlyList<AlertRule> rules, IReadOnlyList<Goal> goals,
        Func<string, string, IReadOnlyList<double>> history, DateTimeOffset now)
    {
        var alerts = new List<Alert>();
        var byKey = rows.GroupBy(r => (r.Indicator, r.Scope)).ToDictionary(g => g.Key, g => g.Last());
        var active = rules.Where(r => r.Enabled && r.AppliesTo(period.Grain)).ToList();

        foreach (var rule in active.Where(r => r.Kind is AlertKinds.Threshold or AlertKinds.Anomaly or AlertKinds.Trend))
        {
            if (!byKey.TryGetValue((rule.Indicator!, rule.Scope), out var row) || row.Value is not { } value) continue;
            var alert = rule.Kind switch
            {
                AlertKinds.Threshold => Threshold(rule, row, value),
                AlertKinds.Anomaly => Anomaly(rule, row, value, history(rule.Indicator!, rule.Scope)),
                _ => Trend(rule, row, value, history(rule.Indicator!, rule.Scope)),
            };
            if (alert is not null) alerts.Add(alert);
        }

        foreach (var goalRow in rows.Where(r => r.Indicator == "goal.attainment"))
        {
            var goal = goals.FirstOrDefault(g => "goal:" + g.GoalId == goalRow.Scope);
            if (goal is null) continue;
            foreach (var kind in (string[])[AlertKinds.GoalAtRisk, AlertKinds.GoalMissed])
            {
                var goalRules = active.Where(r => r.Kind == kind && (r.GoalId is null || r.GoalId == goal.GoalId)).ToList();
                if (goalRules.Count == 0 && !rules.Any(r => r.Kind == kind && (r.GoalId is null || r.GoalId == goal.GoalId)))
                    goalRules = AlertRule.GoalDefaults.Where(r => r.Kind == kind).ToList();
                foreach (var rule in goalRules)
                {
                    if (GoalAlert(rule, goal, goalRow, period, now) is { } alert) alerts.Add(alert);
                }
            }
        }
        return alerts;
    }

    private Alert? Threshold(AlertRule rule, SnapshotRow row, double value)
    {
        (Severity Severity, double Bound, bool Below)? breach =
            rule.CriticalBelow is { } cb && value < cb ? (Severity.Critical, cb, true)
            : rule.CriticalAbove is { } ca && value > ca ? (Severity.Critical, ca, false)
            : rule.Below is { } b && value < b ? (rule.Severity, b, true)
            : rule.Above is { } a && value > a ? (rule.Severity, a, false)
            : null;
        if (breach is not { } x) return null;
        string Sentence(bool fa) => fa
            ? $"{Cap(text.Indicator(row.Indicator, true))} در {text.Scope(row.Scope, true)} در {text.Period(row.Period, true)} به {text.Value(value, row.Unit, true)} رسید که {(x.Below ? "کمتر" : "بیشتر")} از آستانه {text.Value(x.Bound, row.Unit, true)} است."
            : $"{Cap(text.Indicator(row.Indicator, false))} for {text.Scope(row.Scope, false)} {(x.Below ? "fell" : "rose")} to {text.Value(value, row.Unit, false)} in {text.Period(row.Period, false)}, {(x.Below ? "below" : "above")} the {text.Value(x.Bound, row.Unit, false)} threshold.";
        return Build(rule, row, value, x.Severity, Sentence(false), Sentence(true), threshold: x.Bound);
    }

    private Alert? Anomaly(AlertRule rule, SnapshotRow row, double value, IReadOnlyList<double> trailing)
    {
        var window = trailing.TakeLast(rule.N).ToList();
        if (window.Count < 3) return null;
        var mean = window.Average();
        // Sample standard deviation of the trailing periods.
        var sd = Math.Sqrt(window.Sum(v => (v - mean) * (v - mean)) / (window.Count - 1));
        if (sd == 0 || Math.Abs(value - mean) <= rule.K * sd) return null;
        var deviations = Math.Abs(value - mean) / sd;
        var above = value > mean;
        string Sentence(bool fa) => fa
            ? $"{Cap(text.Indicator(row.Indicator, true))} در {text.Scope(row.Scope, true)} در {text.Period(row.Period, true)} برابر {text.Value(value, row.Unit, true)} است؛ {text.Number(deviations, true)} انحراف معیار {(above ? "بالاتر" : "پایین‌تر")} از میانگین {text.Value(mean, row.Unit, true)} در {text.Number(window.Count, true, "0")} {text.Grain(row.Grain, true, true)} گذشته."
            : $"{Cap(text.Indicator(row.Indicator, false))} for {text.Scope(row.Scope, false)} in {text.Period(row.Period, false)} is {text.Value(value, row.Unit, false)}, {text.Number(deviations, false)} standard deviations {(above ? "above" : "below")} its average of {text.Value(mean, row.Unit, false)} over the previous {window.Count} {text.Grain(row.Grain, false, window.Count != 1)}.";
        return Build(rule, row, value, rule.Severity, Sentence(false), Sentence(true), threshold: rule.K);
    }

    private Alert? Trend(AlertRule rule, SnapshotRow row, double value, IReadOnlyList<double> trailing)
    {
        if (trailing.Count < rule.M) return null;
        var series = trailing.TakeLast(rule.M).Append(value).ToList();
        for (var i = 1; i < series.Count; i++)
        {
            var worse = row.Direction == Direction.Higher ? series[i] < series[i - 1] : series[i] > series[i - 1];
            if (!worse) return null;
        }
        string Sentence(bool fa) => fa
            ? $"{Cap(text.Indicator(row.Indicator, true))} در {text.Scope(row.Scope, true)} {text.Number(rule.M, true, "0")} {text.Grain(row.Grain, true, true)} پیاپی بدتر شده و در {text.Period(row.Period, true)} به {text.Value(value, row.Unit, true)} رسیده است."
            : $"{Cap(text.Indicator(row.Indicator, false))} for {text.Scope(row.Scope, false)} has worsened for {rule.M} {text.Grain(row.Grain, false, rule.M != 1)} in a row, to {text.Value(value, row.Unit, false)} in {text.Period(row.Period, false)}.";
        return Build(rule, row, value, rule.Severity, Sentence(false), Sentence(true));
    }

    private Alert? GoalAlert(AlertRule rule, Goal goal, SnapshotRow goalRow, Period period, DateTimeOffset now)
    {
        var details = goalRow.Details ?? [];
        double? Num(string member) => details[member] is { } n ? double.Parse(n.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) : null;
        var status = details["status"]?.GetValue<string>();
        var attainment = Num("attainment");
        var projectedAttainment = Num("projectedAttainment");
        var actual = Num("actual");
        var unit = IndicatorCatalog.Find(goal.Indicator)?.Unit ?? "";
        var target = (double)goal.Target;
        if (rule.Kind == AlertKinds.GoalMissed)
        {
            if (status != GoalEvaluator.Missed) return null;
            string Missed(bool fa) => fa
                ? $"هدف «{goal.Name}» در {text.Period(period.Key, true)} محقق نشد: {text.Indicator(goal.Indicator, true)} در {text.Scope(goal.Scope, true)} به {text.Value(actual, unit, true)} رسید، یعنی {text.Value(attainment, "%", true)} هدف {text.Value(target, unit, true)}."
                : $"Goal “{goal.Name}” was missed in {text.Period(period.Key, false)}: {text.Indicator(goal.Indicator, false)} for {text.Scope(goal.Scope, false)} reached {text.Value(actual, unit, false)}, {text.Value(attainment, "%", false)} of the {text.Value(target, unit, false)} target.";
            return BuildGoal(rule, goal, goalRow, actual, attainment, rule.Severity, Missed(false), Missed(true));
        }
        if (now >= period.End || projectedAttainment is not { } projected || projected >= (double)goal.Threshold) return null;
        var severity = projected < (double)goal.Threshold - rule.CriticalMargin && rule.Severity < Severity.Critical ? Severity.Critical : rule.Severity;
        string AtRisk(bool fa) => fa
            ? $"هدف «{goal.Name}» در خطر است: پیش‌بینی می‌شود {text.Indicator(goal.Indicator, true)} در {text.Scope(goal.Scope, true)} در {text.Period(period.Key, true)} به {text.Value(projected, "%", true)} هدف {text.Value(target, unit, true)} برسد که کمتر از آستانه {text.Value((double)goal.Threshold, "%", true)} است."
            : $"Goal “{goal.Name}” is at risk: {text.Indicator(goal.Indicator, false)} for {text.Scope(goal.Scope, false)} is projected to reach {text.Value(projected, "%", false)} of its {text.Value(target, unit, false)} target in {text.Period(period.Key, false)}, below the {text.Value((double)goal.Threshold, "%", false)} threshold.";
        return BuildGoal(rule, goal, goalRow, actual, attainment, severity, AtRisk(false), AtRisk(true));
    }

    private static Alert Build(AlertRule rule, SnapshotRow row, double value, Severity severity, string message, string messageFa, double? threshold = null) => new()
    {
        Kind = rule.Kind, RuleId = rule.RuleId, Indicator = row.Indicator, Scope = row.Scope, Grain = row.Grain, Period = row.Period,
        Value = value, Threshold = threshold, Severity = severity, Message = message, MessageFa = messageFa,
    };

    private static Alert BuildGoal(AlertRule rule, Goal goal, SnapshotRow goalRow, double? actual, double? attainment, Severity severity, string message, string messageFa) => new()
    {
        Kind = rule.Kind, RuleId = rule.RuleId, Indicator = goal.Indicator, Scope = goal.Scope, Grain = goalRow.Grain, Period = goalRow.Period,
        Value = actual, Target = goal.Target, Threshold = (double)goal.Threshold, Attainment = attainment, Severity = severity, GoalId = goal.GoalId,
        Message = message, MessageFa = messageFa,
    };

    private static string Cap(string s) => s.Length == 0 || !char.IsLower(s[0]) ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
