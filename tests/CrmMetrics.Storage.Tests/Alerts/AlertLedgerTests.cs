using System.Text.Json.Nodes;
using CrmMetrics.Storage.Alerts;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Alerts;

public class AlertLedgerTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static JsonObject Event(string id) => new() { ["specversion"] = "1.0", ["id"] = id };

    [Fact]
    public async Task What_a_delivery_claimed_stays_findable_for_its_retry_and_the_quiet_rival_claims_nothing()
    {
        var ledger = new AlertLedger(await azurite.AccountAsync());
        var at = DateTimeOffset.UtcNow;
        // Two deliveries of one period's job (m|1 and m|2) meet the same alert; the first claims it.
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-a1", "cond-1", 1, "m|1", Event("crm-a1"), at, default));
        Assert.Equal(AlertDecision.Suppress, await ledger.ClaimAsync("crm-a1", "cond-1", 1, "m|2", Event("crm-a1"), at, default));
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-a2", "cond-2", 2, "m|1", Event("crm-a2"), at, default));

        // m|1 dies; m|2 completes the period. The retry of m|1 finds what it has to send.
        Assert.Equal(["crm-a1", "crm-a2"], (await ledger.ClaimedByAsync("m|1", default)).Select(e => e["id"]!.GetValue<string>()).Order());
        Assert.Empty(await ledger.ClaimedByAsync("m|2", default));
        Assert.Empty(await ledger.ClaimedByAsync("m", default));
        Assert.Equal(AlertDecision.Resend, await ledger.ClaimAsync("crm-a1", "cond-1", 1, "m|1", Event("crm-a1"), at, default));

        // Once m|1's done message confirms its alerts went out, a late retry of it sends nothing.
        await ledger.MarkDeliveredAsync("m|1", default);
        Assert.Empty(await ledger.ClaimedByAsync("m|1", default));
        Assert.Equal(AlertDecision.Suppress, await ledger.ClaimAsync("crm-a1", "cond-1", 1, "m|1", Event("crm-a1"), at, default));
    }
}
