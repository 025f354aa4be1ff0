using CrmMetrics.Domain.Goals;

namespace CrmMetrics.Domain.Alerts;

/// <summary>
/// Open alerts that nothing watches any more: their rule or their goal was deleted. No computation
/// checks their condition again, so they would stay open for good; the recomputation of their period
/// resolves them, saying why. A disabled rule's alerts stay open: it is paused, and once enabled again
/// it would not raise an alert it had resolved.
/// </summary>
public sealed class UnwatchedAlerts(IReadOnlyList<AlertRule> rules, IReadOnlyList<Goal> goals, AlertText text)
{
    private readonly HashSet<string> _rules = rules.Select(r => r.RuleId).ToHashSet(StringComparer.Ordinal);
    private readonly HashSet<string> _goals = goals.Select(g => g.GoalId).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The recovery of an open alert nothing watches (from its recorded rule and goal ids), or null
    /// while something does. Alerts of a goal's default rules (and its no-data alerts) are watched as
    /// long as the goal exists.
    /// </summary>
    public Recovery? Of(string conditionKey, string kind, string? ruleId, string? goalId, string indicator, string scope, string period, double? value)
    {
        if (kind == AlertKinds.Resolved) return null;
        string en, fa;
        if (goalId is not null && !_goals.Contains(goalId))
            (en, fa) = ($"goal “{goalId}” was deleted", $"هدف «{goalId}» حذف شد");
        else if (ruleId is { Length: > 0 } && !AlertRule.IsReserved(ruleId) && !_rules.Contains(ruleId))
            (en, fa) = ($"alert rule “{ruleId}” was deleted", $"قاعده هشدار «{ruleId}» حذف شد");
        else
            return null;
        return new Recovery(conditionKey, value, null,
            $"Resolved: {text.Indicator(indicator, false)} for {text.Scope(scope, false)} {text.In(period)} is no longer watched: {en}.",
            $"رفع شد: {text.Indicator(indicator, true)} {text.InScopeFa(scope)} در {text.Period(period, true)} دیگر پایش نمی‌شود: {fa}.");
    }

}
