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

    /// <summary>The condition without its severity: a worse severity of it raises a new alert, the same or a milder one does not.</summary>
    public string ConditionKey => Hash($"{Kind}|{RuleId}|{GoalId}|{Indicator}|{Scope}|{Grains.Key(Grain)}|{Period}");

    public string Id => "crm-" + Hash($"{Kind}|{RuleId}|{GoalId}|{Indicator}|{Scope}|{Grains.Key(Grain)}|{Period}|{AlertRule.Name(Severity)}");

    public string Subject => $"{Indicator}/{Scope}/{Period}";

    /// <summary>The structured CloudEvents 1.0 message (contract/alerts.md).</summary>
    public JsonObject ToCloudEvent(string deploymentName, DateTimeOffset raisedAt, string snapshotLink) => new()
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
    };

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];
}
