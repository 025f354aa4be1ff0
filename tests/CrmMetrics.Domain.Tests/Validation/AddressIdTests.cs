using System.Text.Json;
using CrmMetrics.Domain.Alerts;
using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Incentives;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Tests.Validation;

/// <summary>
/// A definition's id is its address: the id member a GET shows may be sent back, but naming another id is
/// refused (found by a contract probe: a goal sent to /goals/a with "goalId": "b" was saved as 'a' without a word).
/// </summary>
public class AddressIdTests
{
    private static readonly PeriodCalendar Utc = PeriodCalendar.TryCreate("gregorian", "UTC", out var c, out _) ? c! : throw new InvalidOperationException();

    private static ValidationErrors Read(string kind, string id, string json)
    {
        using var doc = JsonDocument.Parse(json);
        var errors = new ValidationErrors();
        _ = kind switch
        {
            "goal" => (object?)Goal.Read(id, doc.RootElement, Utc, new Dictionary<string, Goal>(), IndicatorResolver.Catalog, errors),
            "plan" => IncentivePlan.Read(id, doc.RootElement, Utc, IndicatorResolver.Catalog, errors),
            "rule" => AlertRule.Read(id, doc.RootElement, _ => Grain.Month, errors),
            _ => DerivedIndicator.Read(id, doc.RootElement, new Dictionary<string, DerivedIndicator>(), errors),
        };
        return errors;
    }

    [Theory]
    [InlineData("goal", "goalId", "revenue", """{"name":"Revenue","indicator":"com.revenue","grain":"month","target":100000}""")]
    [InlineData("plan", "planId", "sales", """{"name":"Sales","grain":"month","participants":[{"staffId":"S-01","quota":5000}],"tiers":[{"from":0,"rate":0.05}]}""")]
    [InlineData("rule", "ruleId", "csat", """{"kind":"threshold","indicator":"cx.csat","below":80}""")]
    [InlineData("derived", "id", "derived.per-order", """{"name":"Per order","expression":"com.revenue / com.orders","unit":"currency","direction":"higher"}""")]
    public void The_id_member_may_repeat_the_address_but_not_name_another(string kind, string member, string id, string body)
    {
        Assert.True(Read(kind, id, body).IsEmpty);
        var same = body.Insert(1, $"\"{member}\":\"{id}\",");
        Assert.True(Read(kind, id, same).IsEmpty, Read(kind, id, same).ToString());
        var other = body.Insert(1, $"\"{member}\":\"{(kind == "derived" ? "derived.other" : "other")}\",");
        var errors = Read(kind, id, other);
        Assert.True(errors.Has(member), errors.ToString());
        Assert.Contains("the address names", errors.ToString());
    }
}
