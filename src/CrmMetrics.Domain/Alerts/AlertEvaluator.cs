using System.Globalization;
using System.Text.Json.Nodes;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;

namespace CrmMetrics.Domain.Alerts;

/// <summary>A condition that was checked and does not hold now, worded as the recovery of an alert that said it did.</summary>
/// <param name="Unwatched">Resolved because nothing checks the condition any more, not because it stopped holding.</param>
public sealed record Recovery(string ConditionKey, double? Value, double? Attainment, string Message, string MessageFa, bool Unwatched = false);

/// <summary>What a period's figures say: the alerts whose conditions hold, and the conditions checked that do not.</summary>
public sealed record AlertAssessment(IReadOnlyList<Alert> Alerts, IReadOnlyDictionary<string, Recovery> Recoveries);

/// <summary>What the evaluator reads: the finalised period's rows, the rules and goals, and the trailing values rules compare with.</summary>
public sealed record AlertInputs
{
    public required Period Period { get; init; }
    public required IReadOnlyList<SnapshotRow> Rows { get; init; }
    public required IReadOnlyList<AlertRule> Rules { get; init; }
    public required IReadOnlyList<Goal> Goals { get; init; }
    public required DateTimeOffset Now { get; init; }

    /// <summary>
    /// Values of (indicator, scope) in the periods just before this one, one entry per period, oldest first,
    /// null where a period had no value or was never computed: anomaly and trend rules.
    /// </summary>
    public Func<string, string, IReadOnlyList<double?>> History { get; init; } = (_, _) => [];

    /// <summary>The value of (indicator, scope) in the period just before this one: benchmark gap rules.</summary>
    public Func<string, string, double?> Previous { get; init; } = (_, _) => null;

    /// <summary>
    /// How long after its end a period still raises alerts (<c>CrmMetrics:AlertHorizonDays</c>); null: for ever.
    /// A period past it raises none (history loaded for the first time would otherwise tell executives of every
    /// goal missed years ago), while the recoveries of alerts it raised before are still said.
    /// </summary>
    public TimeSpan? Horizon { get; init; }

    /// <summary>The period ended longer than <see cref="Horizon"/> before <see cref="Now"/>: it raises no alerts.</summary>
    public bool PastHorizon => Horizon is { } horizon && Period.End + horizon < Now;
}

/// <summary>
/// Evaluates alert rules against a finalised period: its stored rows, its goal attainments, and the
/// trailing values of the indicators that anomaly, trend and benchmark rules watch. A missing value
/// raises <c>no-data</c>, never a breach. Every condition it checks and finds not holding is a
/// <see cref="Recovery"/>: the caller resolves the alerts it sent for it. Pure: the caller reads the
/// history and decides what was sent already.
/// </summary>
public sealed class AlertEvaluator(AlertText text)
{
    /// <summary>The rule id of goals' no-data alerts: they need no rule of their own.</summary>
    public const string NoDataGoalRule = "no-data";

    /// <param name="history">Values of (indicator, scope) in the periods before this one, one per period, oldest first (null: no value).</param>
    public IReadOnlyList<Alert> Evaluate(Period period, IReadOnlyList<SnapshotRow> rows, IReadOnlyList<AlertRule> rules, IReadOnlyList<Goal> goals,
        Func<string, string, IReadOnlyList<double?>> history, DateTimeOffset now) =>
        Assess(new AlertInputs { Period = period, Rows = rows, Rules = rules, Goals = goals, Now = now, History = history }).Alerts;

    public AlertAssessment Assess(AlertInputs inputs)
    {
        var period = inputs.Period;
        var alerts = new List<Alert>();
        var recoveries = new Dictionary<string, Recovery>(StringComparer.Ordinal);
        var byKey = inputs.Rows.GroupBy(r => (r.Indicator, r.Scope)).ToDictionary(g => g.Key, g => g.Last());
        var active = inputs.Rules.Where(r => r.Enabled && r.AppliesTo(period.Grain)).ToList();
        // No data is worth saying once the period is over or at least half over: before, data may still come.
        var noDataDue = inputs.Now >= period.Start + period.Length / 2;
        void Recover(string conditionKey, double? value, double? attainment, string message, string messageFa) =>
            recoveries[conditionKey] = new Recovery(conditionKey, value, attainment, message, messageFa);

        foreach (var rule in active.Where(r => r.Kind is AlertKinds.Threshold or AlertKinds.Anomaly or AlertKinds.Trend))
        {
            // No row: nothing was stored to alert about (alerts.md: never for a value that was not stored). A goal
            // on such a scope does say no-data: its attainment row, with status no-data, is stored.
            if (!byKey.TryGetValue((rule.Indicator!, rule.Scope), out var row)) continue;
            var noDataKey = Alert.ConditionKeyOf(AlertKinds.NoData, rule.RuleId, null, row.Indicator, row.Scope, row.Grain, row.Period);
            if (row.Value is not { } value)
            {
                if (rule.Kind != AlertKinds.Threshold) continue;
                if (noDataDue) alerts.Add(NoDataForRule(rule, row));
                // A null never breaches a threshold (alerts.md): a breach said before the value was lost is resolved,
                // or it stayed open beside the no-data alert (found by probing).
                Recover(Alert.ConditionKeyOf(rule.Kind, rule.RuleId, null, row.Indicator, row.Scope, row.Grain, row.Period), null, null,
                    $"Resolved: {text.Indicator(row.Indicator, false)} for {text.Scope(row.Scope, false)} has no value {text.In(row.Period)}, so it no longer breaches the thresholds.",
                    $"رفع شد: {text.Indicator(row.Indicator, true)} {text.InScopeFa(row.Scope)} در {text.Period(row.Period, true)} مقداری ندارد؛ از این رو دیگر از آستانه‌هایش عبور نکرده است.");
                continue;
            }
            if (rule.Kind == AlertKinds.Threshold)
            {
                Recover(noDataKey, value, null,
                    $"Resolved: {text.Indicator(row.Indicator, false)} for {text.Scope(row.Scope, false)} now has a value {text.In(row.Period)}: {text.Value(value, row.Unit, false)}.",
                    $"رفع شد: {text.Indicator(row.Indicator, true)} {text.InScopeFa(row.Scope)} در {text.Period(row.Period, true)} اکنون مقدار دارد: {text.Value(value, row.Unit, true)}.");
            }
            var trailing = rule.Kind == AlertKinds.Threshold ? [] : inputs.History(rule.Indicator!, rule.Scope);
            // An open period's sum or count (revenue, orders, complaints…) only grows until the period ends: a value
            // too high stays too high, but one too low may yet catch up. A rule that asks for it lets "too low" wait
            // for the period's end, so that every day, week and month does not open with an alert its later facts
            // resolve; by default the value is judged as it stands (alerts.md).
            var growing = rule.WaitForPeriodEnd && inputs.Now < period.End && IndicatorCatalog.Find(row.Indicator)?.Additive == true;
            var before = rule.Kind == AlertKinds.Trend ? TrendSeries(rule, trailing) : null;
            var (alert, checkedNow) = rule.Kind switch
            {
                AlertKinds.Threshold => (Threshold(rule, row, value, growing), !growing || rule is { Below: null, CriticalBelow: null }),
                AlertKinds.Anomaly => (Anomaly(rule, row, value, trailing, growing), trailing.TakeLast(rule.N).Count(v => v is not null) >= 3 && !growing),
                _ => (before is null || growing && row.Direction == Direction.Higher ? null : Trend(rule, row, value, before), before is not null && !growing),
            };
            if (alert is not null) alerts.Add(alert);
            else if (checkedNow) RecoverRule(rule, row, value, Recover);
        }

        foreach (var rule in active.Where(r => r.Kind == AlertKinds.Benchmark)) Benchmark(rule, period, inputs, byKey, alerts, Recover);

        foreach (var goalRow in inputs.Rows.Where(r => r.Indicator == "goal.attainment"))
        {
            var goal = inputs.Goals.FirstOrDefault(g => Scope.Goal(g.GoalId) == goalRow.Scope);
            if (goal is null) continue;
            var rulesByKind = new List<AlertRule>();
            foreach (var kind in (string[])[AlertKinds.GoalAtRisk, AlertKinds.GoalMissed])
            {
                var goalRules = active.Where(r => r.ReplacesGoalDefault(kind, goal.GoalId, period.Grain)).ToList();
                if (goalRules.Count == 0 && !inputs.Rules.Any(r => r.ReplacesGoalDefault(kind, goal.GoalId, period.Grain)))
                    goalRules = AlertRule.GoalDefaults.Where(r => r.Kind == kind).ToList();
                rulesByKind.AddRange(goalRules);
            }
            if (rulesByKind.Count == 0) continue; // every alert of this goal is switched off
            var status = goalRow.Details?["status"]?.GetValue<string>();
            var (indicator, scope) = GoalSubject(goal);
            var noDataKey = Alert.ConditionKeyOf(AlertKinds.NoData, NoDataGoalRule, goal.GoalId, indicator, scope, goalRow.Grain, goalRow.Period);
            if (status == GoalEvaluator.NoData)
            {
                // Without an attainment a goal is neither at risk nor missed (alerts.md: a null value never raises
                // them): alerts of those kinds from before it lost its attainment are resolved.
                var actual = Num(goalRow.Details, "actual");
                string en, fa;
                if (actual is null)
                {
                    if (noDataDue) alerts.Add(NoDataForGoal(goal, goalRow));
                    en = $"Resolved: goal “{goal.Name}” can no longer be measured {text.In(goalRow.Period)}, so it is neither at risk nor missed.";
                    fa = $"رفع شد: هدف «{goal.NameIn(true)}» در {text.Period(goalRow.Period, true)} دیگر قابل سنجش نیست؛ از این رو نه در خطر است و نه محقق‌نشده.";
                }
                else
                {
                    // A goal whose target is 0 has an actual but no percentage (the contract's null): its data is
                    // not missing, and a no-data alert raised before the actual came is resolved.
                    var unit = goal.IsComposite ? "%" : text.UnitOf(indicator);
                    en = $"Resolved: goal “{goal.Name}” has a value {text.In(goalRow.Period)}: {text.Value(actual, unit, false)}; with a target of 0 it has no attainment.";
                    fa = $"رفع شد: هدف «{goal.NameIn(true)}» در {text.Period(goalRow.Period, true)} اکنون مقدار دارد: {text.Value(actual, unit, true)}؛ با هدف صفر، میزان تحقق آن محاسبه نمی‌شود.";
                    Recover(noDataKey, actual, null, en, fa);
                }
                foreach (var rule in rulesByKind)
                    Recover(GoalRuleKey(rule, goal, goalRow), actual, null, en, fa);
                continue;
            }
            var attainment = Num(goalRow.Details, "attainment");
            Recover(noDataKey, Num(goalRow.Details, "actual"), attainment,
                $"Resolved: goal “{goal.Name}” can be measured for {text.Period(goalRow.Period, false)}: {text.Value(attainment, "%", false)} of its target.",
                $"رفع شد: هدف «{goal.NameIn(true)}» در {text.Period(goalRow.Period, true)} اکنون قابل سنجش است: {text.Value(attainment, "%", true)} از هدف.");
            foreach (var rule in rulesByKind)
            {
                if (GoalAlert(rule, goal, goalRow, period, inputs.Now) is { } alert) alerts.Add(alert);
                else RecoverGoal(rule, goal, goalRow, period, inputs.Now, Recover);
            }
        }
        return new AlertAssessment(inputs.PastHorizon ? [] : alerts, recoveries);
    }

    /// <param name="growing">The value is an open period's running sum or count: only bounds above are judged yet.</param>
    private Alert? Threshold(AlertRule rule, SnapshotRow row, double value, bool growing)
    {
        (Severity Severity, double Bound, bool Below)? breach =
            rule.CriticalBelow is { } cb && value < cb && !growing ? (Severity.Critical, cb, true)
            : rule.CriticalAbove is { } ca && value > ca ? (Severity.Critical, ca, false)
            : rule.Below is { } b && value < b && !growing ? (rule.Severity, b, true)
            : rule.Above is { } a && value > a ? (rule.Severity, a, false)
            : null;
        if (breach is not { } x) return null;
        string Sentence(bool fa) => fa
            ? $"{Cap(text.Indicator(row.Indicator, true))} {text.InScopeFa(row.Scope)} در {text.Period(row.Period, true)} به {text.Value(value, row.Unit, true, x.Bound)} رسید که {(x.Below ? "کمتر" : "بیشتر")} از آستانه {text.Value(x.Bound, row.Unit, true, value)} است."
            : $"{Cap(text.Indicator(row.Indicator, false))} for {text.Scope(row.Scope, false)} {(x.Below ? "fell" : "rose")} to {text.Value(value, row.Unit, false, x.Bound)} {text.In(row.Period)}, {(x.Below ? "below" : "above")} the {text.Value(x.Bound, row.Unit, false, value)} threshold.";
        return Build(rule, row, value, x.Severity, Sentence(false), Sentence(true), threshold: x.Bound);
    }

    /// <param name="growing">The value is an open period's running sum or count: only a value above the usual range is judged yet.</param>
    private Alert? Anomaly(AlertRule rule, SnapshotRow row, double value, IReadOnlyList<double?> trailing, bool growing)
    {
        // The values of the trailing n periods; those without one are left out of the mean and the deviation.
        var window = trailing.TakeLast(rule.N).OfType<double>().ToList();
        if (window.Count < 3) return null;
        var mean = window.Average();
        // Sample standard deviation of the trailing periods.
        var sd = Math.Sqrt(window.Sum(v => (v - mean) * (v - mean)) / (window.Count - 1));
        // A flat history (every value the same) has no spread, so any other value is infinitely many
        // deviations away: "more than k standard deviations" holds for every change, and a jump from a
        // steady level is the case most worth hearing about. Its mean is that value exactly (a computed
        // mean of equal values may be off in the last bit).
        var flat = window.All(v => v == window[0]);
        if (flat) mean = window[0];
        var distance = Math.Abs(value - mean);
        if (flat ? distance == 0 : distance <= rule.K * sd) return null;
        var above = value > mean;
        if (growing && !above) return null;
        // "The previous 8 months", or "7 of the previous 8 months" when some had no value.
        var span = trailing.TakeLast(rule.N).Count();
        string Previous(bool fa) => (fa, window.Count == span) switch
        {
            (false, true) => $"the previous {window.Count} {text.Grain(row.Grain, false, window.Count != 1)}",
            (false, false) => $"{window.Count} of the previous {span} {text.Grain(row.Grain, false, true)} (the others had no value)",
            (true, true) => $"{text.Number(window.Count, true, "0")} {text.Grain(row.Grain, true, true)} گذشته",
            (true, false) => $"{text.Number(window.Count, true, "0")} از {text.Number(span, true, "0")} {text.Grain(row.Grain, true, true)} گذشته (بقیه مقداری نداشتند)",
        };
        if (flat)
        {
            string Flat(bool fa) => fa
                ? $"{Cap(text.Indicator(row.Indicator, true))} {text.InScopeFa(row.Scope)} در {text.Period(row.Period, true)} برابر {text.Value(value, row.Unit, true, mean)} است، در حالی که در هر یک از {Previous(true)} دقیقاً {text.Value(mean, row.Unit, true, value)} بود."
                : $"{Cap(text.Indicator(row.Indicator, false))} for {text.Scope(row.Scope, false)} {text.In(row.Period)} came to {text.Value(value, row.Unit, false, mean)}, after exactly {text.Value(mean, row.Unit, false, value)} in each of {Previous(false)}.";
            return Build(rule, row, value, rule.Severity, Flat(false), Flat(true), threshold: rule.K);
        }
        var deviations = distance / sd;
        // Written apart from the rule's k, as every number is from its bound (found by probing: 1.003 with k = 1 read
        // "1 standard deviations"), and the noun agrees with the number written.
        var deviationsText = text.Number(deviations, false, apartFrom: rule.K);
        string Sentence(bool fa) => fa
            ? $"{Cap(text.Indicator(row.Indicator, true))} {text.InScopeFa(row.Scope)} در {text.Period(row.Period, true)} برابر {text.Value(value, row.Unit, true, mean)} است؛ {text.Number(deviations, true, apartFrom: rule.K)} انحراف معیار {(above ? "بالاتر" : "پایین‌تر")} از میانگین {text.Value(mean, row.Unit, true, value)} در {Previous(true)}."
            : $"{Cap(text.Indicator(row.Indicator, false))} for {text.Scope(row.Scope, false)} {text.In(row.Period)} came to {text.Value(value, row.Unit, false, mean)}, {deviationsText} standard deviation{(deviationsText == "1" ? "" : "s")} {(above ? "above" : "below")} the average of {text.Value(mean, row.Unit, false, value)} over {Previous(false)}.";
        return Build(rule, row, value, rule.Severity, Sentence(false), Sentence(true), threshold: rule.K);
    }

    /// <summary>
    /// The m periods before this one when each has a value; null otherwise: "worse for m consecutive periods"
    /// cannot be said across a period without one (before, its neighbours were compared as if adjacent).
    /// </summary>
    private static List<double>? TrendSeries(AlertRule rule, IReadOnlyList<double?> trailing)
    {
        if (trailing.Count < rule.M) return null;
        var last = trailing.TakeLast(rule.M).ToList();
        return last.All(v => v is not null) ? last.Select(v => v!.Value).ToList() : null;
    }

    /// <param name="before">The m periods before this one (<see cref="TrendSeries"/>).</param>
    private Alert? Trend(AlertRule rule, SnapshotRow row, double value, List<double> before)
    {
        var series = before.Append(value).ToList();
        for (var i = 1; i < series.Count; i++)
        {
            var worse = row.Direction == Direction.Higher ? series[i] < series[i - 1] : series[i] > series[i - 1];
            if (!worse) return null;
        }
        string Sentence(bool fa) => fa
            ? $"{Cap(text.Indicator(row.Indicator, true))} {text.InScopeFa(row.Scope)} {text.Number(rule.M, true, "0")} {text.Grain(row.Grain, true, true)} پیاپی بدتر شده و در {text.Period(row.Period, true)} به {text.Value(value, row.Unit, true)} رسیده است."
            : $"{Cap(text.Indicator(row.Indicator, false))} for {text.Scope(row.Scope, false)} worsened for {rule.M} {text.Grain(row.Grain, false, rule.M != 1)} in a row, to {text.Value(value, row.Unit, false)} {text.In(row.Period)}.";
        return Build(rule, row, value, rule.Severity, Sentence(false), Sentence(true));
    }

    private void RecoverRule(AlertRule rule, SnapshotRow row, double value, Action<string, double?, double?, string, string> recover)
    {
        var key = Alert.ConditionKeyOf(rule.Kind, rule.RuleId, null, row.Indicator, row.Scope, row.Grain, row.Period);
        var (en, fa) = rule.Kind switch
        {
            AlertKinds.Threshold => ("back within the thresholds", "و به محدوده آستانه‌هایش بازگشته است"),
            AlertKinds.Anomaly => ($"no longer unusual against the previous {text.Grain(row.Grain, false, true)}", $"و دیگر نسبت به {text.Grain(row.Grain, true, true)}های گذشته غیرعادی نیست"),
            _ => ($"no longer worse for {rule.M} {text.Grain(row.Grain, false, rule.M != 1)} in a row", $"و دیگر {text.Number(rule.M, true, "0")} {text.Grain(row.Grain, true, true)} پیاپی بدتر نشده است"),
        };
        recover(key, value, null,
            $"Resolved: {text.Indicator(row.Indicator, false)} for {text.Scope(row.Scope, false)} came to {text.Value(value, row.Unit, false)} {text.In(row.Period)}, {en}.",
            $"رفع شد: {text.Indicator(row.Indicator, true)} {text.InScopeFa(row.Scope)} در {text.Period(row.Period, true)} برابر {text.Value(value, row.Unit, true)} است {fa}.");
    }

    private Alert NoDataForRule(AlertRule rule, SnapshotRow row)
    {
        string Sentence(bool fa) => fa
            ? $"در {text.Period(row.Period, true)} برای {text.Scope(row.Scope, true)} {text.MissingData(row.Indicator, true, row.Scope)}؛ از این رو {text.Indicator(row.Indicator, true)} مقداری ندارد که با آستانه‌هایش سنجیده شود."
            : $"{Cap(text.MissingData(row.Indicator, false, row.Scope))} for {text.Scope(row.Scope, false)} {text.In(row.Period)}, so {text.Indicator(row.Indicator, false)} has no value to check against the thresholds.";
        return new Alert
        {
            Kind = AlertKinds.NoData, RuleId = rule.RuleId, Indicator = row.Indicator, Scope = row.Scope, Grain = row.Grain, Period = row.Period,
            Severity = Severity.Warning, Message = Sentence(false), MessageFa = Sentence(true),
        };
    }

    private Alert NoDataForGoal(Goal goal, SnapshotRow goalRow)
    {
        var (indicator, scope) = GoalSubject(goal);
        string Sentence(bool fa)
        {
            if (goal.IsComposite)
            {
                return fa
                    ? $"هیچ‌یک از اجزای هدف «{goal.NameIn(true)}» در {text.Period(goalRow.Period, true)} میزان تحقق ندارد (داده‌ای ندارد یا هدفش صفر است)؛ از این رو امتیاز وزنی آن قابل سنجش نیست."
                    : $"None of the children of goal “{goal.Name}” has an attainment {text.In(goalRow.Period)} (no data, or a target of 0), so its weighted score cannot be measured.";
            }
            var target = text.Value((double)goal.Target, text.UnitOf(indicator), fa);
            return fa
                ? $"در {text.Period(goalRow.Period, true)} برای {text.Scope(goal.Scope, true)} {text.MissingData(indicator, true, goal.Scope)}؛ از این رو میزان تحقق هدف «{goal.NameIn(true)}» (هدف {target}) قابل سنجش نیست."
                : $"{Cap(text.MissingData(indicator, false, goal.Scope))} for {text.Scope(goal.Scope, false)} {text.In(goalRow.Period)}, so goal “{goal.Name}” (target {target}) cannot be measured.";
        }
        return new Alert
        {
            Kind = AlertKinds.NoData, RuleId = NoDataGoalRule, GoalId = goal.GoalId, Indicator = indicator, Scope = scope, Grain = goalRow.Grain, Period = goalRow.Period,
            Target = goal.Target, Threshold = (double)goal.Threshold, Severity = Severity.Warning, Message = Sentence(false), MessageFa = Sentence(true),
        };
    }

    private Alert? GoalAlert(AlertRule rule, Goal goal, SnapshotRow goalRow, Period period, DateTimeOffset now)
    {
        var details = goalRow.Details ?? [];
        var status = details["status"]?.GetValue<string>();
        var attainment = Num(details, "attainment");
        var projectedAttainment = Num(details, "projectedAttainment");
        var actual = Num(details, "actual");
        var (indicator, _) = GoalSubject(goal);
        var unit = goal.IsComposite ? "%" : text.UnitOf(indicator);
        var target = (double)goal.Target;
        if (rule.Kind == AlertKinds.GoalMissed)
        {
            if (status != GoalEvaluator.Missed) return null;
            string Missed(bool fa) => goal.IsComposite
                ? fa
                    ? $"هدف «{goal.NameIn(true)}» در {text.Period(period.Key, true)} محقق نشد: امتیاز وزنی آن به {text.Value(attainment, "%", true, 100)} از {text.Value(100, "%", true, attainment)} رسید{Weakest(details, "attainment", true)}."
                    : $"Goal “{goal.Name}” was missed {text.In(period.Key)}: its weighted score reached {text.Value(attainment, "%", false, 100)} of {text.Value(100, "%", false, attainment)}{Weakest(details, "attainment", false)}."
                : fa
                    ? $"هدف «{goal.NameIn(true)}» در {text.Period(period.Key, true)} محقق نشد: {text.Indicator(indicator, true)} {text.InScopeFa(goal.Scope)} به {text.Value(actual, unit, true, target)} رسید، در برابر هدف {text.Value(target, unit, true, actual)}: تحقق {text.Value(attainment, "%", true, 100)}."
                    : $"Goal “{goal.Name}” was missed {text.In(period.Key)}: {text.Indicator(indicator, false)} for {text.Scope(goal.Scope, false)} reached {text.Value(actual, unit, false, target)} against a target of {text.Value(target, unit, false, actual)}, {text.Value(attainment, "%", false, 100)} attainment.";
            return BuildGoal(rule, goal, goalRow, actual, attainment, rule.Severity, Missed(false), Missed(true));
        }
        if (now >= period.End || projectedAttainment is not { } projected || projected >= (double)goal.Threshold) return null;
        var projectedValue = Num(details, "projected");
        var severity = projected < (double)goal.Threshold - rule.CriticalMargin && rule.Severity < Severity.Critical ? Severity.Critical : rule.Severity;
        string AtRisk(bool fa) => goal.IsComposite
            ? fa
                ? $"هدف «{goal.NameIn(true)}» در خطر است: پیش‌بینی می‌شود امتیاز وزنی آن در {text.Period(period.Key, true)} به {text.Value(projected, "%", true, (double)goal.Threshold)} برسد که کمتر از آستانه {text.Value((double)goal.Threshold, "%", true, projected)} است{Weakest(details, "projectedAttainment", true)}."
                : $"Goal “{goal.Name}” is at risk: its weighted score is projected to reach {text.Value(projected, "%", false, (double)goal.Threshold)} {text.In(period.Key)}, below the {text.Value((double)goal.Threshold, "%", false, projected)} threshold{Weakest(details, "projectedAttainment", false)}."
            // The figure itself, then its attainment: "will reach 0% of the goal's 10 target" read as no complaints
            // at all for a lower-is-better goal projected at 24.8, and "81.3% of the goal's 80% target" as above it (found by probing).
            : fa
                ? $"هدف «{goal.NameIn(true)}» در خطر است: با روند کنونی، {text.Indicator(indicator, true)} {text.InScopeFa(goal.Scope)} در {text.Period(period.Key, true)} به {text.Value(projectedValue, unit, true, target)} می‌رسد، در برابر هدف {text.Value(target, unit, true, projectedValue)}: تحقق {text.Value(projected, "%", true, (double)goal.Threshold)} که کمتر از آستانه {text.Value((double)goal.Threshold, "%", true, projected)} است."
                : $"Goal “{goal.Name}” is at risk: at the current pace, {text.Indicator(indicator, false)} for {text.Scope(goal.Scope, false)} will come to {text.Value(projectedValue, unit, false, target)} {text.In(period.Key)} against a target of {text.Value(target, unit, false, projectedValue)}, {text.Value(projected, "%", false, (double)goal.Threshold)} attainment, below the {text.Value((double)goal.Threshold, "%", false, projected)} threshold.";
        return BuildGoal(rule, goal, goalRow, actual, attainment, severity, AtRisk(false), AtRisk(true)) with { ProjectedAttainment = projected, Projected = goal.IsComposite ? null : projectedValue };
    }

    /// <summary>The recovery of a goal rule's condition: achieved after all, or (open period) projected back at or above the threshold.</summary>
    private void RecoverGoal(AlertRule rule, Goal goal, SnapshotRow goalRow, Period period, DateTimeOffset now, Action<string, double?, double?, string, string> recover)
    {
        var details = goalRow.Details ?? [];
        var status = details["status"]?.GetValue<string>();
        var attainment = Num(details, "attainment");
        var projected = Num(details, "projectedAttainment");
        var (indicator, _) = GoalSubject(goal);
        var unit = goal.IsComposite ? "%" : text.UnitOf(indicator);
        var key = GoalRuleKey(rule, goal, goalRow);
        var over = now >= period.End;
        if (status == GoalEvaluator.Achieved)
        {
            recover(key, Num(details, "actual"), attainment,
                $"Resolved: goal “{goal.Name}” was achieved {text.In(goalRow.Period)}: {text.Value(attainment, "%", false)} of its {text.Value((double)goal.Target, unit, false)} target.",
                $"رفع شد: هدف «{goal.NameIn(true)}» در {text.Period(goalRow.Period, true)} محقق شد: {text.Value(attainment, "%", true)} از هدف {text.Value((double)goal.Target, unit, true)}.");
        }
        else if (rule.Kind == AlertKinds.GoalAtRisk && !over && projected is { } p && p >= (double)goal.Threshold)
        {
            recover(key, Num(details, "actual"), attainment,
                $"Resolved: goal “{goal.Name}” is no longer at risk {text.In(goalRow.Period)}: it is projected to reach {text.Value(p, "%", false, (double)goal.Threshold)} of its {text.Value((double)goal.Target, unit, false)} target, at or above the {text.Value((double)goal.Threshold, "%", false, p)} threshold.",
                $"رفع شد: هدف «{goal.NameIn(true)}» در {text.Period(goalRow.Period, true)} دیگر در خطر نیست: پیش‌بینی می‌شود به {text.Value(p, "%", true, (double)goal.Threshold)} از هدف {text.Value((double)goal.Target, unit, true)} برسد که از آستانه {text.Value((double)goal.Threshold, "%", true, p)} کمتر نیست.");
        }
    }

    /// <summary>
    /// Benchmark rules (scope org): own X worse than the competitors' mean, X's percentile among them
    /// under a bound, or the gap to a named competitor worse than in the period before by more than a bound.
    /// </summary>
    private void Benchmark(AlertRule rule, Period period, AlertInputs inputs, Dictionary<(string Indicator, string Scope), SnapshotRow> byKey, List<Alert> alerts,
        Action<string, double?, double?, string, string> recover)
    {
        var x = rule.Indicator!;
        var ownRow = byKey.GetValueOrDefault((Benchmarks.BenchmarkCalculator.OwnIndicator(x), Scope.Org));
        var gaps = inputs.Rows.Where(r => r.Indicator == "bench.gap." + x && r.Scope.StartsWith("competitor:", StringComparison.Ordinal)).ToList();
        var competitors = gaps
            .Select(r => (Name: Scope.ValueOf(r.Scope)!, Value: Num(r.Details, "competitorValue")))
            .Where(c => c.Value is not null).Select(c => (c.Name, Value: c.Value!.Value)).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        var direction = gaps.FirstOrDefault()?.Direction ?? ownRow?.Direction ?? Direction.Higher;
        var higher = direction == Direction.Higher;
        var unit = x == "market-share" ? "%" : text.UnitOf(x);
        bool Better(double a, double b) => higher ? a > b : a < b;
        string Name(bool fa) => x == "market-share" ? (fa ? "سهم بازار" : "market share") : text.Indicator(x, fa);
        string List(IEnumerable<(string Name, double Value)> items, bool fa) =>
            string.Join(fa ? "، " : ", ", items.Select(c => $"{c.Name} ({text.Value(c.Value, unit, fa)})"));
        string P(bool fa) => text.Period(period.Key, fa);

        if (rule.BelowPeerMean)
        {
            if (ownRow?.Value is not { } own || competitors.Count == 0) return;
            var mean = competitors.Average(c => c.Value);
            // The stored row's indicator (bench.market-share for market share, whose own figure is no catalog
            // indicator), as the rule's BenchmarkSubject says: the alert's subject and snapshot link name it
            // (market-share gave a link answering 400).
            var indicator = ownRow.Indicator;
            var key = Alert.ConditionKeyOf(rule.Kind, rule.RuleId, null, indicator, Scope.Org, period.Grain, period.Key);
            if (!Better(mean, own))
            {
                recover(key, own, null,
                    $"Resolved: {Name(false)} for the organisation is {text.Value(own, unit, false, mean)} {text.In(period.Key)}, no longer behind the {text.Value(mean, unit, false, own)} mean of its competitors.",
                    $"رفع شد: {Name(true)} در کل سازمان در {P(true)} برابر {text.Value(own, unit, true, mean)} است و دیگر از میانگین رقبا ({text.Value(mean, unit, true, own)}) عقب نیست.");
                return;
            }
            var leader = competitors.Aggregate((a, b) => Better(b.Value, a.Value) ? b : a);
            string Sentence(bool fa) => fa
                ? $"{Cap(Name(true))} در کل سازمان در {P(true)} به {text.Value(own, unit, true, mean)} رسید که از میانگین {text.Number(competitors.Count, true, "0")} رقیب ({text.Value(mean, unit, true, own)}) {(higher ? "کمتر" : "بیشتر")} است؛ {leader.Name} با {text.Value(leader.Value, unit, true)} پیشتاز است."
                : $"{Cap(Name(false))} for the organisation was {text.Value(own, unit, false, mean)} {text.In(period.Key)}, {(higher ? "below" : "above (worse than)")} the {text.Value(mean, unit, false, own)} mean of its {competitors.Count} competitor{(competitors.Count == 1 ? "" : "s")}; {leader.Name} leads with {text.Value(leader.Value, unit, false)}.";
            alerts.Add(new Alert
            {
                Kind = rule.Kind, RuleId = rule.RuleId, Indicator = indicator, Scope = Scope.Org, Grain = period.Grain, Period = period.Key, Value = own, Threshold = mean,
                Severity = rule.Severity, Competitor = leader.Name, Message = Sentence(false), MessageFa = Sentence(true),
            });
        }
        else if (rule.PercentileBelow is { } bound)
        {
            var row = byKey.GetValueOrDefault(("bench.percentile." + x, Scope.Org));
            if (row?.Value is not { } percentile) return;
            var key = Alert.ConditionKeyOf(rule.Kind, rule.RuleId, null, row.Indicator, Scope.Org, period.Grain, period.Key);
            if (percentile >= bound)
            {
                recover(key, percentile, null,
                    $"Resolved: {Name(false)} for the organisation ranks at percentile {text.Number(percentile, false, apartFrom: bound)} among its competitors {text.In(period.Key)}, no longer below {text.Number(bound, false, apartFrom: percentile)}.",
                    $"رفع شد: رتبه {Name(true)} کل سازمان در میان رقبا در {P(true)} صدک {text.Number(percentile, true, apartFrom: bound)} است و دیگر کمتر از {text.Number(bound, true, apartFrom: percentile)} نیست.");
                return;
            }
            var own = Num(row.Details, "own");
            var ahead = own is { } o ? competitors.Where(c => Better(c.Value, o)).OrderBy(c => c.Value * (higher ? -1 : 1)).ToList() : [];
            string Sentence(bool fa) => fa
                ? $"رتبه {Name(true)} کل سازمان در میان {text.Number(competitors.Count, true, "0")} رقیب در {P(true)} صدک {text.Number(percentile, true, apartFrom: bound)} است که کمتر از حد {text.Number(bound, true, apartFrom: percentile)} است{(ahead.Count > 0 ? "؛ رقبای جلوتر: " + List(ahead, true) : "")}."
                : $"{Cap(Name(false))} for the organisation ranks at percentile {text.Number(percentile, false, apartFrom: bound)} among {competitors.Count} competitor{(competitors.Count == 1 ? "" : "s")} {text.In(period.Key)}, below the bound of {text.Number(bound, false, apartFrom: percentile)}{(ahead.Count > 0 ? "; ahead of it: " + List(ahead, false) : "")}.";
            alerts.Add(new Alert
            {
                Kind = rule.Kind, RuleId = rule.RuleId, Indicator = row.Indicator, Scope = Scope.Org, Grain = period.Grain, Period = period.Key, Value = percentile,
                Threshold = bound, Severity = rule.Severity, Competitor = ahead.FirstOrDefault().Name, Message = Sentence(false), MessageFa = Sentence(true),
            });
        }
        else if (rule.GapWidening is { } widening && rule.Competitor is { } competitor)
        {
            var gapScope = Scope.Competitor(competitor);
            var row = byKey.GetValueOrDefault(("bench.gap." + x, gapScope));
            if (row?.Value is not { } gap || inputs.Previous(row.Indicator, gapScope) is not { } before) return;
            // A higher-is-better gap (own − theirs) worsens as it falls; a lower-is-better one as it rises.
            var worsened = higher ? before - gap : gap - before;
            var key = Alert.ConditionKeyOf(rule.Kind, rule.RuleId, null, row.Indicator, gapScope, period.Grain, period.Key);
            if (worsened <= widening)
            {
                recover(key, gap, null,
                    $"Resolved: the gap in {Name(false)} between the organisation and {competitor} is {text.Difference(gap, unit, false)} {text.In(period.Key)}, no longer more than {text.Difference(widening, unit, false, worsened)} worse than the period before.",
                    $"رفع شد: فاصله {Name(true)} کل سازمان با {competitor} در {P(true)} برابر {text.Difference(gap, unit, true)} است و دیگر بیش از {text.Difference(widening, unit, true, worsened)} بدتر از دوره قبل نیست.");
                return;
            }
            string Sentence(bool fa) => fa
                ? $"فاصله {Name(true)} کل سازمان با {competitor} در {P(true)} از {text.Difference(before, unit, true)} به {text.Difference(gap, unit, true)} رسید و {text.Difference(worsened, unit, true, widening)} بدتر شد که بیش از حد {text.Difference(widening, unit, true, worsened)} است."
                : $"The gap in {Name(false)} between the organisation and {competitor} went from {text.Difference(before, unit, false)} to {text.Difference(gap, unit, false)} {text.In(period.Key)}, {text.Difference(worsened, unit, false, widening)} worse, more than the {text.Difference(widening, unit, false, worsened)} bound.";
            alerts.Add(new Alert
            {
                Kind = rule.Kind, RuleId = rule.RuleId, Indicator = row.Indicator, Scope = gapScope, Grain = period.Grain, Period = period.Key, Value = gap,
                Threshold = widening, Severity = rule.Severity, Competitor = competitor, Message = Sentence(false), MessageFa = Sentence(true),
            });
        }
    }

    /// <summary>The weakest child of a composite (lowest capped attainment), as a clause for its messages.</summary>
    private string Weakest(JsonObject details, string member, bool fa)
    {
        if (details["children"] is not JsonArray children) return "";
        var weakest = children.OfType<JsonObject>()
            .Select(c => (Name: (fa ? c["nameFa"]?.GetValue<string>() : null) ?? c["name"]?.GetValue<string>() ?? c["goalId"]?.GetValue<string>() ?? "", Value: Num(c, member)))
            .Where(c => c.Value is not null).OrderBy(c => c.Value).FirstOrDefault();
        if (weakest.Value is not { } v) return "";
        return fa ? $"؛ ضعیف‌ترین جزء: «{weakest.Name}» با {text.Value(v, "%", true)}" : $"; weakest part: “{weakest.Name}” at {text.Value(v, "%", false)}";
    }

    /// <summary>The condition a goal rule's alert for this goal and period stands for.</summary>
    private static string GoalRuleKey(AlertRule rule, Goal goal, SnapshotRow goalRow)
    {
        var (indicator, scope) = GoalSubject(goal);
        return Alert.ConditionKeyOf(rule.Kind, rule.RuleId, goal.GoalId, indicator, scope, goalRow.Grain, goalRow.Period);
    }

    /// <summary>What a goal's alerts are about: its indicator and scope, or for a composite its attainment row.</summary>
    internal static (string Indicator, string Scope) GoalSubject(Goal goal) =>
        goal.Indicator is { } indicator && !goal.IsComposite ? (indicator, goal.Scope) : ("goal.attainment", Scope.Goal(goal.GoalId));

    private static Alert Build(AlertRule rule, SnapshotRow row, double value, Severity severity, string message, string messageFa, double? threshold = null) => new()
    {
        Kind = rule.Kind, RuleId = rule.RuleId, Indicator = row.Indicator, Scope = row.Scope, Grain = row.Grain, Period = row.Period,
        Value = value, Threshold = threshold, Severity = severity, Message = message, MessageFa = messageFa,
    };

    private static Alert BuildGoal(AlertRule rule, Goal goal, SnapshotRow goalRow, double? actual, double? attainment, Severity severity, string message, string messageFa)
    {
        var (indicator, scope) = GoalSubject(goal);
        return new Alert
        {
            Kind = rule.Kind, RuleId = rule.RuleId, Indicator = indicator, Scope = scope, Grain = goalRow.Grain, Period = goalRow.Period,
            Value = actual, Target = goal.Target, Threshold = (double)goal.Threshold, Attainment = attainment, Severity = severity, GoalId = goal.GoalId,
            Message = message, MessageFa = messageFa,
        };
    }

    private static double? Num(JsonObject? details, string member) =>
        details?[member] is JsonValue n && n.GetValueKind() == System.Text.Json.JsonValueKind.Number ? double.Parse(n.ToJsonString(), CultureInfo.InvariantCulture) : null;

    private static string Cap(string s) => s.Length == 0 || !char.IsLower(s[0]) ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
