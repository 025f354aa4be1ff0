using CrmMetrics.Domain.Alerts;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Storage.Alerts;
using CrmMetrics.Storage.Settings;

namespace CrmMetrics.Functions.Alerts;

/// <summary>
/// Raises the alerts of a finalised period, after its snapshot rows are stored: evaluates the rules
/// (with default goal rules), asks the ledger what was sent already, and returns the CloudEvents to
/// send through the <see cref="IAlertSender"/>.
/// </summary>
public sealed class AlertService(
    AlertRuleStore rules,
    GoalStore goals,
    SnapshotReader reader,
    AlertLedger ledger,
    CrmMetricsSettings settings,
    TimeProvider clock,
    ILogger<AlertService> logger)
{
    /// <summary>What this delivery claimed before, to send again (its period was completed or superseded meanwhile).</summary>
    public async Task<IReadOnlyList<string>> ClaimedByAsync(string invocation, CancellationToken ct) =>
        (await ledger.ClaimedByAsync(invocation, ct)).Select(e => e.ToJsonString()).ToList();

    public async Task<IReadOnlyList<string>> RaiseAsync(Period period, IReadOnlyList<SnapshotRow> rows, string invocation, CancellationToken ct)
    {
        var allRules = await rules.ListAsync(ct);
        var allGoals = await goals.ListAsync(ct);
        var now = clock.GetUtcNow();

        // History for anomaly and trend rules: the latest values of the periods just before this one.
        var history = new Dictionary<(string, string), IReadOnlyList<double>>();
        foreach (var rule in allRules.Where(r => r.Enabled && r.AppliesTo(period.Grain) && r.Kind is AlertKinds.Anomaly or AlertKinds.Trend))
        {
            var key = (rule.Indicator!, rule.Scope);
            var depth = Math.Max(rule.N, rule.M);
            var from = period;
            for (var i = 0; i < depth; i++) from = from.Previous();
            var series = await reader.SeriesAsync(rule.Indicator!, rule.Scope, period.Grain, from, period.Previous(), ct);
            var values = series.Where(r => r.Value is not null).Select(r => r.Value!.Value).ToList();
            if (!history.TryGetValue(key, out var known) || known.Count < values.Count) history[key] = values;
        }

        var evaluator = new AlertEvaluator(new AlertText(settings.Calendar.Calendar, settings.ReportingCurrency));
        var candidates = evaluator.Evaluate(period, rows, allRules, allGoals, (i, s) => history.GetValueOrDefault((i, s)) ?? [], now);
        var messages = new List<string>();
        foreach (var alert in candidates)
        {
            var link = $"{settings.PublicBaseUrl}/api/snapshots?grain={Grains.Key(alert.Grain)}&period={Uri.EscapeDataString(alert.Period)}" +
                       $"&indicator={Uri.EscapeDataString(alert.GoalId is null ? alert.Indicator : "goal.attainment")}&scope={Uri.EscapeDataString(alert.GoalId is null ? alert.Scope : "goal:" + alert.GoalId)}";
            var cloudEvent = alert.ToCloudEvent(settings.DeploymentName, now, link);
            // The dashboard opened at the alert's figure; the reader brings their own key (the app holds only hashes).
            cloudEvent["data"]!["links"]!["dashboard"] = $"{settings.PublicBaseUrl}/dashboard?grain={Grains.Key(alert.Grain)}&period={Uri.EscapeDataString(alert.Period)}" +
                                                         $"&scope={Uri.EscapeDataString(alert.Scope)}&indicator={Uri.EscapeDataString(alert.Indicator)}";
            var decision = await ledger.ClaimAsync(alert.Id, alert.ConditionKey, (int)alert.Severity, invocation, cloudEvent, now, ct);
            if (decision == AlertDecision.Suppress) continue;
            messages.Add(cloudEvent.ToJsonString());
            logger.LogInformation("Alert {Id} ({Kind}, {Severity}) for {Subject}: {Message}", alert.Id, alert.Kind, alert.Severity, alert.Subject, alert.Message);
        }
        return messages;
    }
}
