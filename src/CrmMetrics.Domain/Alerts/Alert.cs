using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CrmMetrics.Domain.Periods;

namespace CrmMetrics.Domain.Alerts;

/// <summary>
/// One alert: a condition of a rule on an indicator, scope and period at a severity. Its id is a
/// hash of exactly those, so the same condition always gets the same id (and broker dedupe works).
/// </summary>
public sealed record Alert
{
    public required string Kind { get; init; }
    public required string RuleId { get; init; }
    public required string Indicator { get; init; }
    public required string Scope { get; init; }
    public required Grain Grain { get; init; }
    public required string Period { get; init; }
    public double? Value { get; init; }
    public decimal? Target { get; init; }
    public double? Threshold { get; init; }
    public double? Attainment { get; init; }
    public required Severity Severity { get; init; }
    public string? GoalId { get; init; }
    public required string Message { get; init; }
    public required string MessageFa { get; init; }

    /// <summary>For a <c>resolved</c> alert: the id of the alert whose condition no longer holds.</summary>
    public string? Resolves { get; init; }

    /// <summary>For a <c>resolved</c> alert: the kind of the alert it resolves.</summary>
    public string? ResolvedKind { get; init; }

    /// <summary>
    /// For a <c>resolved</c> alert: <c>recovered</c> when a computation found its condition no longer
    /// holding, <c>unwatched</c> when nothing checks it any more (its rule or goal deleted or changed).
    /// </summary>
    public string? Reason { get; init; }

    /// <summary>For a benchmark alert: the competitor it speaks of, when one.</summary>
    public string? Competitor { get; init; }

    /// <summary>
    /// For a goal-at-risk alert: the projected attainment its condition is about (<c>attainment</c> is the
    /// attainment so far), exact, as <c>data.projectedAttainment</c>.
    /// </summary>
    public double? ProjectedAttainment { get; init; }

    /// <summary>For a goal-at-risk alert on an indicator (not a composite): the indicator's projected value at the period's end, as <c>data.projected</c>.</summary>
    public double? Projected { get; init; }

    /// <summary>The condition without its severity: a worse severity of it raises a new alert, the same or a milder one does not.</summary>
    public string ConditionKey => Resolves is { } resolved ? Hash("resolved|" + resolved) : ConditionKeyOf(Kind, RuleId, GoalId, Indicator, Scope, Grain, Period);

    /// <summary>
    /// Deterministic: the same condition, period and severity always get the same id; a recovery's id
    /// is derived from the id of the alert it resolves, so there is at most one per alert.
    /// </summary>
    public string Id => Resolves is { } resolved
        ? "crm-" + Hash("resolved|" + resolved)
        : "crm-" + Hash($"{Kind}|{RuleId}|{GoalId}|{Indicator}|{Scope}|{Grains.Key(Grain)}|{Period}|{AlertRule.Name(Severity)}");

    /// <summary>
    /// The id of a condition's next occurrence in a period, after the alert <paramref name="resolvedId"/>
    /// was resolved: the same condition coming back is said again (found by probing: a value back in its
    /// bounds, then critical again, raised nothing for the rest of the period), under an id of its own
    /// so the broker's duplicate detection does not drop it, and as deterministic as the first.
    /// </summary>
    public static string RelapseIdOf(string resolvedId) => "crm-" + Hash("relapse|" + resolvedId);

    public static string ConditionKeyOf(string kind, string ruleId, string? goalId, string indicator, string scope, Grain grain, string period) =>
        Hash($"{kind}|{ruleId}|{goalId}|{indicator}|{scope}|{Grains.Key(grain)}|{period}");

    /// <summary>The recovery of <paramref name="resolved"/> (an alert sent before), as the evaluator worded it.</summary>
    public static Alert Resolution(string resolvedId, string resolvedKind, string ruleId, string? goalId, string indicator, string scope, Grain grain, string period,
        Recovery recovery) => new()
    {
        Kind = AlertKinds.Resolved, RuleId = ruleId, GoalId = goalId, Indicator = indicator, Scope = scope, Grain = grain, Period = period,
        Value = recovery.Value, Attainment = recovery.Attainment, Severity = Severity.Info, Message = recovery.Message, MessageFa = recovery.MessageFa,
        Resolves = resolvedId, ResolvedKind = resolvedKind, Reason = recovery.Unwatched ? ResolutionReasons.Unwatched : ResolutionReasons.Recovered,
    };

    public string Subject => $"{Indicator}/{Scope}/{Period}";

    /// <summary>The structured CloudEvents 1.0 message (contract/alerts.md).</summary>
    public JsonObject ToCloudEvent(string deploymentName, DateTimeOffset raisedAt, string snapshotLink) => new JsonObject
    {
        ["specversion"] = "1.0",
        ["id"] = Id,
        ["source"] = "/crm-metrics/" + deploymentName,
        ["type"] = "crm.metrics.alert." + Kind,
        ["time"] = raisedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        ["subject"] = Subject,
        ["datacontenttype"] = "application/json",
        ["data"] = new JsonObject
        {
            ["indicator"] = Indicator,
            ["scope"] = Scope,
            ["grain"] = Grains.Key(Grain),
            ["period"] = Period,
            ["value"] = Value,
            ["target"] = Target,
            ["threshold"] = Threshold,
            ["attainment"] = Attainment,
            ["severity"] = AlertRule.Name(Severity),
            ["kind"] = Kind,
            ["message"] = Message,
            ["messageFa"] = MessageFa,
            ["ruleId"] = RuleId,
            ["goalId"] = GoalId,
            ["links"] = new JsonObject { ["snapshot"] = snapshotLink },
        },
    }.WithOptional(Resolves, ResolvedKind, Reason, Competitor, ProjectedAttainment, Projected);

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];
}

internal static class CloudEventMembers
{
    /// <summary>
    /// Members only some kinds carry: <c>resolves</c>, <c>resolvedKind</c> and <c>reason</c> on recoveries,
    /// <c>competitor</c> on benchmark alerts, <c>projectedAttainment</c> (and, for a goal on an indicator, <c>projected</c>) on goal-at-risk alerts.
    /// </summary>
    public static JsonObject WithOptional(this JsonObject cloudEvent, string? resolves, string? resolvedKind, string? reason, string? competitor,
        double? projectedAttainment = null, double? projected = null)
    {
        var data = cloudEvent["data"]!.AsObject();
        if (resolves is not null) data["resolves"] = resolves;
        if (resolvedKind is not null) data["resolvedKind"] = resolvedKind;
        if (reason is not null) data["reason"] = reason;
        if (competitor is not null) data["competitor"] = competitor;
        if (projectedAttainment is not null) data["projectedAttainment"] = projectedAttainment;
        if (projected is not null) data["projected"] = projected;
        return cloudEvent;
    }
}

/// <summary>Why an alert was resolved (<c>data.reason</c> of a <c>resolved</c> alert).</summary>
public static class ResolutionReasons
{
    /// <summary>A later computation found the condition no longer holding (contract/alerts.md).</summary>
    public const string Recovered = "recovered";

    /// <summary>Nothing checks the condition any more: the rule or goal was deleted or changed.</summary>
    public const string Unwatched = "unwatched";
}
