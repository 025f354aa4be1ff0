using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Periods;

namespace CrmMetrics.Domain.Alerts;

/// <summary>
/// Open alerts that nothing watches any more, so no computation checks their condition again and
/// they would stay open for good; the recomputation of their period resolves them, saying why:
/// their rule or goal was deleted, or changed so that it watches another figure, kind or grain, or a
/// goal's default alert was replaced by a rule of its kind for the goal's grain naming the goal (or all
/// goals). A disabled rule's alerts stay open: it is paused, and once enabled again it would not raise
/// an alert it had resolved.
/// </summary>
public sealed class UnwatchedAlerts(IReadOnlyList<AlertRule> rules, IReadOnlyList<Goal> goals, AlertText text)
{
    private readonly Dictionary<string, AlertRule> _rules = rules.ToDictionary(r => r.RuleId, StringComparer.Ordinal);
    private readonly Dictionary<string, Goal> _goals = goals.ToDictionary(g => g.GoalId, StringComparer.Ordinal);

    /// <summary>
    /// The recovery of an open alert nothing watches (from its recorded kind, rule, goal, indicator and
    /// scope), or null while something does.
    /// </summary>
    public Recovery? Of(string conditionKey, string kind, string? ruleId, string? goalId, string indicator, string scope, Period period, double? value)
    {
        if (kind == AlertKinds.Resolved || Why(kind, ruleId, goalId, indicator, scope, period) is not var (en, fa)) return null;
        return new Recovery(conditionKey, value, null,
            $"Resolved: {text.Indicator(indicator, false)} for {text.Scope(scope, false)} {text.In(period.Key)} is no longer watched: {en}.",
            $"رفع شد: {text.Indicator(indicator, true)} {text.InScopeFa(scope)} در {text.Period(period.Key, true)} دیگر پایش نمی‌شود: {fa}.", Unwatched: true);
    }

    /// <summary>Why nothing watches the alert any more (English, Persian), or null while something does.</summary>
    private (string En, string Fa)? Why(string kind, string? ruleId, string? goalId, string indicator, string scope, Period period)
    {
        if (goalId is not null)
        {
            if (!_goals.TryGetValue(goalId, out var goal)) return ($"goal “{goalId}” was deleted", $"هدف «{goalId}» حذف شد");
            if (!goal.AppliesTo(period) || AlertEvaluator.GoalSubject(goal) != (indicator, scope))
                // Named as its other alerts name it (a deleted goal's name is gone with it: its id says which).
                return ($"goal “{goal.NameIn(false)}” was changed and no longer measures it", $"هدف «{goal.NameIn(true)}» تغییر کرد و دیگر آن را نمی‌سنجد");
        }
        if (ruleId is not { Length: > 0 }) return null;
        if (AlertRule.IsReserved(ruleId))
        {
            // A goal's default alert is watched until a rule of its kind for the goal's grain names the goal or all goals.
            var replacement = goalId is null || !AlertKinds.IsGoal(kind) ? null : rules.FirstOrDefault(r => r.ReplacesGoalDefault(kind, goalId, period.Grain));
            return replacement is null ? null
                : ($"its default alert was replaced by alert rule “{replacement.RuleId}”", $"هشدار پیش‌فرض آن با قاعده هشدار «{replacement.RuleId}» جایگزین شد");
        }
        if (!_rules.TryGetValue(ruleId, out var rule)) return ($"alert rule “{ruleId}” was deleted", $"قاعده هشدار «{ruleId}» حذف شد");
        return rule.Watches(kind, goalId, indicator, scope, period.Grain) ? null
            : ($"alert rule “{ruleId}” was changed and no longer watches it", $"قاعده هشدار «{ruleId}» تغییر کرد و دیگر آن را پایش نمی‌کند");
    }
}
