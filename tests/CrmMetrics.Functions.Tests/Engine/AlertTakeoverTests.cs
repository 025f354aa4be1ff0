using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Domain.Alerts;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Alerts;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Engine;

/// <summary>
/// Two deliveries of one period's job (sent again after a crash, or delivered again while the first runs): the
/// first claims an alert, or records a recovery, and dies before sending it. The second, which
/// completes the period, sends it, so the run succeeds only with its alerts out; it does not wait for
/// the dead one's retry.
/// </summary>
public class AlertTakeoverTests(AlertTakeoverTests.Fixture app) : IClassFixture<AlertTakeoverTests.Fixture>
{
    public sealed class Fixture : AppFixture
    {
        protected override IEnumerable<KeyValuePair<string, string?>> Settings() => [new("CrmMetrics:DeploymentName", "test")];

        private static JsonObject Fact(string id, string type, string time, JsonObject data) => new()
        {
            ["id"] = id, ["type"] = type, ["time"] = time, ["customerId"] = "C-1", ["channel"] = "web", ["data"] = data,
        };

        protected override async Task AfterStartAsync()
        {
            // September 2026: CSAT 0 % against a rule that warns below 75.
            await ApiDriver.IngestAsync(this,
            [
                Fact("acq-1", "customer.acquired", "2026-09-01T08:00:00Z", new JsonObject { ["segment"] = "smb", ["region"] = "north" }),
                Fact("s-1", "survey.response", "2026-09-04T10:00:00Z", new JsonObject { ["metric"] = "csat", ["score"] = 2 }),
                Fact("s-2", "survey.response", "2026-09-05T10:00:00Z", new JsonObject { ["metric"] = "csat", ["score"] = 1 }),
            ]);
            var response = await SendAsync(HttpMethod.Put, "/api/alert-rules/csat", TestKeys.Admin, JsonContent.Create(new { kind = "threshold", indicator = "cx.csat", below = 75 }));
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException(await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task An_alert_a_dead_delivery_claimed_is_sent_by_the_delivery_that_completes_the_period_and_only_once()
    {
        // The alert the run will raise, claimed by a delivery that then died without sending it.
        var alert = new Alert
        {
            Kind = AlertKinds.Threshold, RuleId = "csat", Indicator = "cx.csat", Scope = "org", Grain = Grain.Month, Period = "2026-09",
            Severity = Severity.Warning, Message = "planted", MessageFa = "planted",
        };
        var claimedAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        var ledger = app.Services.GetRequiredService<AlertLedger>();
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync(alert.Id, alert.ConditionKey, (int)alert.Severity, "dead-delivery",
            alert.ToCloudEvent("test", claimedAt, "http://localhost/planted"), claimedAt, "month|2026-09", default));
        // And a recovery: an earlier alert of the month, sent and confirmed, which a dead delivery resolved
        // (so it is no longer open for the run to meet) and whose recovery it claimed but never sent.
        JsonObject Planted(string id) => new() { ["specversion"] = "1.0", ["id"] = id, ["type"] = "crm.metrics.alert.resolved", ["data"] = new JsonObject { ["period"] = "2026-09" } };
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-earlier", "cond-earlier", 1, "earlier-delivery", Planted("crm-earlier"), claimedAt, "month|2026-09", default));
        await ledger.MarkDeliveredAsync("earlier-delivery", default);
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-recovery", "cond-recovery", 0, "dead-resolver", Planted("crm-recovery"), claimedAt, default));
        await ledger.MarkResolvedAsync("month|2026-09", "crm-earlier", "crm-recovery", default);

        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-09" });
        var queued = await app.QueueAsync();
        Assert.Equal(new[] { alert.Id, "crm-recovery" }.Order(), queued.Select(m => m.GetProperty("id").GetString()).Order());
        // What was sent is the event as first claimed (what the alert log shows), not one built again now.
        var sent = queued.Single(m => m.GetProperty("id").GetString() == alert.Id);
        Assert.Equal(alert.ToCloudEvent("test", claimedAt, "")["time"]!.GetValue<string>(), sent.GetProperty("time").GetString());
        Assert.Equal("planted", sent.GetProperty("data").GetProperty("message").GetString());
        // The alert log shows it once, raised when it was first claimed.
        var (listed, _) = await ledger.ListAsync(null, 100, null, default);
        Assert.Equal(claimedAt, Assert.Single(listed, a => a.Id == alert.Id).RaisedAt);

        // Its delivery was confirmed: a later run of the month, and the dead delivery's late retry, send nothing.
        var rerun = (await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-09" })).GetProperty("runId").GetString()!;
        Assert.Equal(2, (await app.QueueAsync()).Count);
        Assert.Empty(await ledger.ClaimedByAsync("dead-delivery", default));
        Assert.Empty(await ledger.ClaimedByAsync("dead-resolver", default));

        // A late delivery of a period its run completed meanwhile sends what it alone had claimed, and
        // records that sent: no later run of the month takes it over to send it again.
        var periods = app.Storage.Queue("kpi-periods");
        var late = (await periods.SendMessageAsync($$"""{"runId":"{{rerun}}","grain":"month","period":"2026-09"}""", visibilityTimeout: TimeSpan.FromSeconds(10))).Value.MessageId;
        var worse = alert with { Severity = Severity.Critical };
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync(worse.Id, worse.ConditionKey, (int)worse.Severity, late,
            worse.ToCloudEvent("test", claimedAt, "http://localhost/planted"), claimedAt, "month|2026-09", default));
        await Eventually.WaitAsync(async () => (await ledger.ClaimedByAsync(late, default)).Count == 0, TimeSpan.FromSeconds(60), "the late delivery to send what it claimed");
        Assert.Equal(new[] { alert.Id, "crm-recovery", worse.Id }.Order(), (await app.QueueAsync()).Select(m => m.GetProperty("id").GetString()).Order());
        Assert.Equal(AlertDecision.Suppress, await ledger.ClaimAsync(worse.Id, worse.ConditionKey, (int)worse.Severity, "a-later-run",
            worse.ToCloudEvent("test", claimedAt, "http://localhost/planted"), claimedAt, "month|2026-09", default));
    }
}
