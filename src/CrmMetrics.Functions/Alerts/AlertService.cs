using System.Text.Json.Nodes;
using CrmMetrics.Domain.Alerts;
using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Indicators;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Storage.Alerts;
using CrmMetrics.Storage.Settings;

namespace CrmMetrics.Functions.Alerts;

/// <summary>
/// Raises the alerts of a finalised period, after its snapshot rows are stored: evaluates the rules
/// (with default goal rules), asks the ledger what was sent already, resolves the period's open
/// alerts whose conditions no longer hold, and returns the CloudEvents to send through the
/// <see cref="IAlertSender"/>.
/// </summary>
public sealed class AlertService(
    AlertRuleStore rules,
    GoalStore goals,
    DerivedIndicatorService derived,
    SnapshotReader reader,
    AlertLedger ledger,
    CrmMetricsSettings settings,
    TimeProvider clock,
    ILogger<AlertService> logger)
{
    /// <summary>What this delivery claimed before, to send again (its period was completed or superseded meanwhile).</summary>
    public async Task<IReadOnlyList<string>> ClaimedByAsync(string invocation, CancellationToken ct) =>
        (await ledger.ClaimedByAsync(invocation, ct)).Select(e => e.ToJsonString()).ToList();

    /// <summary>Records that what this delivery claimed went out, so that no later delivery sends it again.</summary>
    public Task MarkDeliveredAsync(string invocation, CancellationToken ct) => ledger.MarkDeliveredAsync(invocation, ct);

    /// <param name="recomputing">
    /// Keys of periods of the grain still being recomputed by the run (<see cref="RunPeriodsInFlight"/>):
    /// an anomaly or trend rule whose history includes one of them, or the period itself, is not judged now.
    /// </param>
    public async Task<IReadOnlyList<string>> RaiseAsync(Period period, IReadOnlyList<SnapshotRow> rows, string invocation, CancellationToken ct,
        IReadOnlySet<string>? recomputing = null) =>
        await RaiseAsync(period, rows, invocation, await rules.ListAsync(ct), await goals.ListAsync(ct), only: null, recomputing, ct);

    /// <summary>How many periods back the enabled anomaly and trend rules of a grain read (0: there are none).</summary>
    public async Task<int> HistoryDepthAsync(Grain grain, CancellationToken ct) =>
        (await rules.ListAsync(ct)).Where(r => IsHistoryRule(r, grain)).Select(HistoryDepth).DefaultIfEmpty(0).Max();

    /// <summary>
    /// Rules that read periods before the one they judge: anomaly and trend rules their trailing periods, and a benchmark
    /// rule on a widening gap the period before (found in review: a run sends its periods newest first, and a month
    /// finalised before the month preceding it judged its gap against that month's old gap, and nothing judged it again).
    /// </summary>
    private static bool IsHistoryRule(AlertRule rule, Grain grain) =>
        rule.Enabled && rule.AppliesTo(grain) && (ReadsTrailingValues(rule) || ReadsPreviousGap(rule));

    private static bool ReadsTrailingValues(AlertRule rule) => rule.Kind is AlertKinds.Anomaly or AlertKinds.Trend;

    private static bool ReadsPreviousGap(AlertRule rule) => rule is { Kind: AlertKinds.Benchmark, GapWidening: not null, Competitor: not null };

    private static int HistoryDepth(AlertRule rule) => ReadsPreviousGap(rule) ? 1 : Math.Max(rule.N, rule.M);

    /// <summary>The indicator and scope of the rows a history rule judges.</summary>
    private static (string Indicator, string Scope) Watched(AlertRule rule) => ReadsPreviousGap(rule) ? rule.BenchmarkSubject() : (rule.Indicator!, rule.Scope);

    /// <summary>Whether the rule reads the history of <paramref name="period"/> and any of it (or the period) is still being recomputed.</summary>
    private static bool AwaitsRecomputing(AlertRule rule, Period period, IReadOnlySet<string>? recomputing)
    {
        if (recomputing is not { Count: > 0 } || !IsHistoryRule(rule, period.Grain)) return false;
        var p = period;
        for (var k = 0; k <= HistoryDepth(rule); k++, p = p.Previous())
        {
            if (recomputing.Contains(p.Key)) return true;
        }
        return false;
    }

    /// <summary>
    /// The anomaly and trend alerts of the later periods already computed whose trailing periods this one
    /// is among (as many as their rules read), judged again now that its figures changed (found by probing:
    /// a run that finalised a month before the month preceding it left its trend unsaid, its history still
    /// holding the earlier figure, and a late fact's month changed no later month's anomaly). Only those
    /// rules are evaluated, against each later period's stored rows; nothing else of those periods changes.
    /// </summary>
    /// <param name="recomputing">As for <see cref="RaiseAsync(Period, IReadOnlyList{SnapshotRow}, string, CancellationToken, IReadOnlySet{string}?)"/>: a later period still being recomputed judges itself.</param>
    public async Task<IReadOnlyList<string>> RaiseForLaterPeriodsAsync(Period period, string invocation, CancellationToken ct, IReadOnlySet<string>? recomputing = null)
    {
        var allRules = await rules.ListAsync(ct);
        var historyRules = allRules.Where(r => IsHistoryRule(r, period.Grain)).ToList();
        if (historyRules.Count == 0) return [];
        var allGoals = await goals.ListAsync(ct);
        var depth = historyRules.Max(HistoryDepth);
        var watched = historyRules.Select(Watched).Distinct().ToList();
        var today = clock.GetUtcNow();
        var messages = new List<string>();
        var later = period;
        for (var k = 0; k < depth; k++)
        {
            later = later.Next();
            if (later.Start > today) break;
            // A later period the run still recomputes judges itself; one whose rules all wait is judged by a later finalisation.
            if (historyRules.All(r => AwaitsRecomputing(r, later, recomputing))) continue;
            var rows = new List<SnapshotRow>();
            foreach (var (indicator, scope) in watched) rows.AddRange(await reader.ReadAllAsync(later, new Storage.Snapshots.SnapshotFilter(Indicator: indicator, Scope: scope), ct));
            if (rows.Count == 0) continue;
            messages.AddRange(await RaiseAsync(later, rows, invocation, allRules, allGoals, historyRules, recomputing, ct));
        }
        return messages;
    }

    /// <param name="allRules">Every rule (and <paramref name="allGoals"/> every goal), as read for this computation: what watches the period's open alerts.</param>
    /// <param name="only">The rules to evaluate (no goal's own alerts then); null: every rule and goal.</param>
    /// <param name="recomputing">Periods still being recomputed: a rule that reads one of them is left out (its open alerts stay as they are).</param>
    private async Task<IReadOnlyList<string>> RaiseAsync(Period period, IReadOnlyList<SnapshotRow> rows, string invocation,
        IReadOnlyList<AlertRule> allRules, IReadOnlyList<Goal> allGoals, IReadOnlyList<AlertRule>? only, IReadOnlySet<string>? recomputing, CancellationToken ct)
    {
        IReadOnlyList<AlertRule> evaluatedRules = only ?? allRules;
        if (evaluatedRules.Where(r => AwaitsRecomputing(r, period, recomputing)).Select(r => r.RuleId).ToList() is { Count: > 0 } waiting)
        {
            evaluatedRules = evaluatedRules.Where(r => !waiting.Contains(r.RuleId)).ToList();
            logger.LogInformation("{Period}: {Rules} wait until the run has recomputed {Periods}, which they read",
                period.Key, string.Join(", ", waiting), string.Join(", ", recomputing!.Order(StringComparer.Ordinal)));
        }
        IReadOnlyList<Goal> evaluatedGoals = only is null ? allGoals : [];
        var indicators = await derived.ResolverAsync(ct);
        var now = clock.GetUtcNow();

        // History for anomaly and trend rules: the latest values of the periods just before this one, one
        // entry per period (null for a period without a value or never computed, so a trend is not read across it).
        var history = new Dictionary<(string, string), IReadOnlyList<double?>>();
        foreach (var rule in evaluatedRules.Where(r => IsHistoryRule(r, period.Grain) && ReadsTrailingValues(r)))
        {
            var key = (rule.Indicator!, rule.Scope);
            var depth = HistoryDepth(rule);
            if (history.TryGetValue(key, out var known) && known.Count >= depth) continue;
            var periods = new List<Period>(depth);
            for (var p = period.Previous(); periods.Count < depth; p = p.Previous()) periods.Insert(0, p);
            var series = await reader.SeriesAsync(rule.Indicator!, rule.Scope, period.Grain, periods[0], periods[^1], ct);
            var byPeriod = new Dictionary<string, double?>(StringComparer.Ordinal);
            foreach (var row in series) byPeriod[row.Period] = row.Value;
            history[key] = periods.Select(p => byPeriod.GetValueOrDefault(p.Key)).ToList();
        }
        // The period before, for benchmark rules on a widening gap.
        var previous = new Dictionary<(string, string), double?>();
        foreach (var rule in evaluatedRules.Where(r => r.Enabled && r.AppliesTo(period.Grain) && r is { Kind: AlertKinds.Benchmark, GapWidening: not null, Competitor: not null }))
        {
            var key = ("bench.gap." + rule.Indicator, "competitor:" + rule.Competitor);
            if (previous.ContainsKey(key)) continue;
            var before = period.Previous();
            previous[key] = (await reader.SeriesAsync(key.Item1, key.Item2, period.Grain, before, before, ct)).FirstOrDefault()?.Value;
        }

        var text = new AlertText(settings.Calendar.Calendar, settings.ReportingCurrency, indicators);
        var evaluator = new AlertEvaluator(text);
        var unwatched = new UnwatchedAlerts(allRules, allGoals, text);
        // Judged as of the instant the rows were computed at (their projections are of it), which every
        // delivery of the version shares; the alerts are raised now.
        var asOf = rows.Count > 0 && rows[0].ComputedAt != default ? rows[0].ComputedAt : now;
        var inputs = new AlertInputs
        {
            Period = period, Rows = rows, Rules = evaluatedRules, Goals = evaluatedGoals, Now = asOf,
            History = (i, s) => history.GetValueOrDefault((i, s)) ?? [],
            Previous = (i, s) => previous.GetValueOrDefault((i, s)),
            Horizon = settings.AlertHorizonDays is { } days ? TimeSpan.FromDays(days) : null,
        };
        var assessment = evaluator.Assess(inputs);
        if (inputs.PastHorizon)
            logger.LogDebug("Period {Period} ended more than {Days} days before it was computed (CrmMetrics:AlertHorizonDays): it raises no alerts", period.Key, settings.AlertHorizonDays);
        var openIn = OpenIn(period);
        var messages = new List<string>();
        var sending = new HashSet<string>(StringComparer.Ordinal);
        foreach (var alert in assessment.Alerts)
        {
            var cloudEvent = WithDashboardLink(alert.ToCloudEvent(settings.DeploymentName, now, Link(alert)), alert);
            var claim = await ledger.ClaimToSendAsync(alert.Id, alert.ConditionKey, (int)alert.Severity, invocation, cloudEvent, now, openIn, ct);
            if (claim.Event is null) continue;
            messages.Add(claim.Event.ToJsonString());
            // The claimed id: a condition back after its recovery is sent as its next occurrence.
            var id = claim.Event["id"]?.GetValue<string>() ?? alert.Id;
            sending.Add(id);
            logger.LogInformation("Alert {Id} ({Kind}, {Severity}) for {Subject}: {Message}", id, alert.Kind, alert.Severity, alert.Subject, alert.Message);
        }

        // Recoveries: the period's open alerts whose condition this computation checked and found not
        // holding, and those nothing watches any more (their rule or goal gone).
        UnwatchedAlerts? current = null;
        foreach (var open in await ledger.OpenAsync(openIn, ct))
        {
            var recovery = assessment.Recoveries.GetValueOrDefault(open.ConditionKey);
            if (recovery is null && Unwatched(open, period, unwatched) is not null)
            {
                // Read again before saying so: a rule or goal created since this run read them may have
                // raised this alert through another delivery of the period.
                current ??= new UnwatchedAlerts(await rules.ListAsync(ct), await goals.ListAsync(ct), text);
                recovery = Unwatched(open, period, current);
            }
            if (recovery is null || Resolution(open, period, recovery) is not { } resolution) continue;
            var cloudEvent = WithDashboardLink(resolution.ToCloudEvent(settings.DeploymentName, now, Link(resolution)), resolution);
            var claim = await ledger.ClaimToSendAsync(resolution.Id, resolution.ConditionKey, (int)resolution.Severity, invocation, cloudEvent, now, openIn: null, ct);
            // Recorded whatever the decision: a rival delivery that claimed the recovery may have died before recording it.
            await ledger.MarkResolvedAsync(openIn, open.Id, resolution.Id, ct);
            if (claim.Event is null) continue;
            messages.Add(claim.Event.ToJsonString());
            sending.Add(resolution.Id);
            logger.LogInformation("Alert {Id} resolves {Resolved} for {Subject}: {Message}", resolution.Id, open.Id, resolution.Subject, resolution.Message);
        }
        // Recoveries a rival delivery of the period claimed and recorded but has not confirmed sent: it
        // may have died before sending them, and the alerts they resolve are no longer open to meet above.
        // An earlier attempt of this delivery that died after recording a recovery left the same gap.
        foreach (var (alertId, resolvedBy) in await ledger.RecentlyResolvedAsync(openIn, ct))
        {
            if (sending.Contains(resolvedBy) || await ledger.TakeOverUnconfirmedAsync(resolvedBy, invocation, now, ct) is not { } claimed) continue;
            messages.Add(claimed.ToJsonString());
            logger.LogInformation("Alert {Id} resolves {Resolved}: recorded by a delivery that did not confirm sending it, sent now", resolvedBy, alertId);
        }
        return messages;
    }

    /// <summary>
    /// The keys of the periods holding an open alert that nothing watches now: its rule or goal was deleted,
    /// or changed so that it watches something else. Only a computation of its period resolves such an
    /// alert, and nothing else computes a closed period again, so a change to the definitions marks these
    /// periods stale (found by probing: a deleted rule's and a moved goal's alerts stayed open for good).
    /// </summary>
    public async Task<IReadOnlyList<string>> PeriodsWithUnwatchedAlertsAsync(CancellationToken ct)
    {
        var text = new AlertText(settings.Calendar.Calendar, settings.ReportingCurrency, await derived.ResolverAsync(ct));
        var unwatched = new UnwatchedAlerts(await rules.ListAsync(ct), await goals.ListAsync(ct), text);
        var openIn = await ledger.PeriodsWithOpenAlertsAsync((key, open) => PeriodOf(key) is { } period && Unwatched(open, period, unwatched) is not null, ct);
        return openIn.Select(key => PeriodOf(key)!.Key).ToList();
    }

    /// <summary>The period an alert is kept open in, from its key (<c>month|2026-10</c>); null for one of another calendar.</summary>
    private Period? PeriodOf(string openIn) =>
        openIn.Split('|') is [var grainKey, var key] && Grains.TryParse(grainKey, out var grain) && settings.Calendar.TryParse(key, grain, out var period, out _) ? period : null;

    private static string OpenIn(Period period) => $"{Grains.Key(period.Grain)}|{period.Key}";

    /// <summary>The recovery of an open alert whose rule or goal is gone, from its recorded CloudEvent; null while it is watched.</summary>
    private static Recovery? Unwatched(OpenAlert open, Period period, UnwatchedAlerts unwatched)
    {
        var data = open.CloudEvent["data"] as JsonObject;
        if (Text(data, "indicator") is not { } indicator || Text(data, "scope") is not { } scope || Text(data, "kind") is not { } kind) return null;
        var value = data?["value"] is JsonValue n && n.TryGetValue<double>(out var d) ? d : (double?)null;
        return unwatched.Of(open.ConditionKey, kind, Text(data, "ruleId"), Text(data, "goalId"), indicator, scope, period, value);
    }

    /// <summary>The recovery of an alert sent before, from its recorded CloudEvent.</summary>
    private static Alert? Resolution(OpenAlert open, Period period, Recovery recovery)
    {
        var data = open.CloudEvent["data"] as JsonObject;
        if (Text(data, "indicator") is not { } indicator || Text(data, "scope") is not { } scope || Text(data, "kind") is not { } kind) return null;
        return Alert.Resolution(open.Id, kind, Text(data, "ruleId") ?? "", Text(data, "goalId"), indicator, scope, period.Grain, period.Key, recovery);
    }

    /// <summary>A text member of a recorded alert's data, or null.</summary>
    private static string? Text(JsonObject? data, string member) => data?[member] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private string Link(Alert alert) =>
        $"{settings.PublicBaseUrl}/api/snapshots?grain={Grains.Key(alert.Grain)}&period={Uri.EscapeDataString(alert.Period)}" +
        $"&indicator={Uri.EscapeDataString(alert.GoalId is null ? alert.Indicator : "goal.attainment")}&scope={Uri.EscapeDataString(alert.GoalId is null ? alert.Scope : Domain.Aggregation.Scope.Goal(alert.GoalId))}";

    /// <summary>
    /// The dashboard opened at the alert's figure; the reader brings their own key (the app holds only
    /// hashes). A composite goal (scope <c>goal:&lt;id&gt;</c>) has no figure of its own there: its
    /// alerts open the period at the organisation, where the goals panel shows it and its parts.
    /// </summary>
    private System.Text.Json.Nodes.JsonObject WithDashboardLink(System.Text.Json.Nodes.JsonObject cloudEvent, Alert alert)
    {
        var aboutGoal = Domain.Aggregation.Scope.KindOf(alert.Scope) == Domain.Aggregation.Scope.GoalKind;
        cloudEvent["data"]!["links"]!["dashboard"] = $"{settings.PublicBaseUrl}/dashboard?grain={Grains.Key(alert.Grain)}&period={Uri.EscapeDataString(alert.Period)}" +
                                                     $"&scope={Uri.EscapeDataString(aboutGoal ? Domain.Aggregation.Scope.Org : alert.Scope)}" +
                                                     (aboutGoal ? "" : $"&indicator={Uri.EscapeDataString(alert.Indicator)}");
        return cloudEvent;
    }
}
