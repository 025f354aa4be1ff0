using System.Text.Json;
using CrmMetrics.Domain.Alerts;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Tests.Alerts;

/// <summary>What the alert tests share: the UTC Gregorian calendar and rules read as an admin's PUT body is.</summary>
internal static class AlertFixtures
{
    public static readonly PeriodCalendar Utc = PeriodCalendar.TryCreate("gregorian", "UTC", out var c, out _) ? c! : throw new InvalidOperationException();

    /// <summary>A rule read from its JSON body (every goal taken to exist); throws with the errors when it is refused.</summary>
    public static AlertRule Rule(string json, string id = "r1")
    {
        using var doc = JsonDocument.Parse(json);
        var errors = new ValidationErrors();
        return AlertRule.Read(id, doc.RootElement, _ => Grain.Month, errors) ?? throw new InvalidOperationException(errors.ToString());
    }
}
