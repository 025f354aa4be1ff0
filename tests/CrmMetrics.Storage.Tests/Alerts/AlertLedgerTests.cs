using System.Text.Json.Nodes;
using CrmMetrics.Storage.Alerts;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Alerts;

public class AlertLedgerTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static JsonObject Event(string id) => new() { ["specversion"] = "1.0", ["id"] = id };

    [Fact]
    public async Task A_claim_not_confirmed_out_is_taken_over_by_a_rival_delivery_and_a_confirmed_one_keeps_everyone_quiet()
    {
        var ledger = new AlertLedger(await azurite.AccountAsync());
        var at = DateTimeOffset.UtcNow;
        // Two deliveries of one period's job (m|1 and m|2) meet the same alerts; the first claims them.
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-a1", "cond-1", 1, "m|1", Event("crm-a1"), at, default));
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-a2", "cond-2", 2, "m|1", Event("crm-a2"), at, default));
        Assert.Equal(["crm-a1", "crm-a2"], (await ledger.ClaimedByAsync("m|1", default)).Select(e => e["id"]!.GetValue<string>()).Order());

        // m|1 may have died before sending: m|2 takes crm-a1 over and sends it, so the period it completes has its alerts out.
        Assert.Equal(AlertDecision.Resend, await ledger.ClaimAsync("crm-a1", "cond-1", 1, "m|2", Event("crm-a1"), at, default));
        Assert.Equal(["crm-a1"], (await ledger.ClaimedByAsync("m|2", default)).Select(e => e["id"]!.GetValue<string>()));
        // The retry of m|1 still finds what it holds, and no longer what was taken from it.
        Assert.Equal(["crm-a2"], (await ledger.ClaimedByAsync("m|1", default)).Select(e => e["id"]!.GetValue<string>()));
        Assert.Empty(await ledger.ClaimedByAsync("m", default));

        // Once m|2's done message confirms its alerts went out, its late retry, m|1's and a later run's delivery send nothing.
        await ledger.MarkDeliveredAsync("m|2", default);
        Assert.Empty(await ledger.ClaimedByAsync("m|2", default));
        Assert.Equal(AlertDecision.Suppress, await ledger.ClaimAsync("crm-a1", "cond-1", 1, "m|2", Event("crm-a1"), at, default));
        Assert.Equal(AlertDecision.Suppress, await ledger.ClaimAsync("crm-a1", "cond-1", 1, "m|1", Event("crm-a1"), at, default));
        Assert.Equal(AlertDecision.Suppress, await ledger.ClaimAsync("crm-a1", "cond-1", 1, "r|9", Event("crm-a1"), at, default));
        // The log shows the alert once, raised when it was first claimed.
        var (listed, _) = await ledger.ListAsync(at.AddSeconds(-1), 100, null, default);
        Assert.Equal(at, Assert.Single(listed, a => a.Id == "crm-a1").RaisedAt);
    }

    [Fact]
    public async Task A_periods_alerts_stay_open_until_resolved_and_the_log_shows_what_resolved_them()
    {
        var ledger = new AlertLedger(await azurite.AccountAsync());
        var at = DateTimeOffset.UtcNow;
        var period = "month|2026-07|" + Guid.NewGuid().ToString("N");
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-o1", "cond-o1", 1, "r|1", Event("crm-o1"), at, period, default));
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-o2", "cond-o2", 2, "r|1", Event("crm-o2"), at, period, default));
        // A milder severity of a condition raised already is suppressed, and so never tracked as open.
        Assert.Equal(AlertDecision.Suppress, await ledger.ClaimAsync("crm-o2w", "cond-o2", 1, "r|1", Event("crm-o2w"), at, period, default));
        Assert.Equal(["crm-o1", "crm-o2"], (await ledger.OpenAsync(period, default)).Select(o => o.Id).Order());
        Assert.Equal("cond-o1", (await ledger.OpenAsync(period, default)).Single(o => o.Id == "crm-o1").ConditionKey);

        await ledger.MarkResolvedAsync(period, "crm-o1", "crm-r1", default);
        await ledger.MarkResolvedAsync(period, "crm-o1", "crm-r1", default); // idempotent
        Assert.Equal(["crm-o2"], (await ledger.OpenAsync(period, default)).Select(o => o.Id));
        // A retry of the delivery that raised it resends it but does not reopen it.
        Assert.Equal(AlertDecision.Resend, await ledger.ClaimAsync("crm-o1", "cond-o1", 1, "r|1", Event("crm-o1"), at, period, default));
        Assert.Equal(["crm-o2"], (await ledger.OpenAsync(period, default)).Select(o => o.Id));

        var (listed, _) = await ledger.ListAsync(at.AddSeconds(-1), 100, null, default);
        Assert.Equal("crm-r1", listed.Single(a => a.Id == "crm-o1").ResolvedBy);
        Assert.Null(listed.Single(a => a.Id == "crm-o2").ResolvedBy);
    }
}
