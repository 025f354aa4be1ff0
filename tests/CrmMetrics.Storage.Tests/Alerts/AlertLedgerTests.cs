using System.Text.Json.Nodes;
using Azure.Data.Tables;
using CrmMetrics.Storage.Account;
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
        Assert.Equal(AlertDecision.Resend, await ledger.ClaimAsync("crm-a1", "cond-1", 1, "m|2", Event("crm-a1"), at.AddMinutes(5), default));
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
    public async Task A_claim_older_than_the_takeover_window_is_left_to_its_delivery()
    {
        var ledger = new AlertLedger(await azurite.AccountAsync());
        var at = DateTimeOffset.UtcNow;
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-w1", "cond-w1", 1, "w|1", Event("crm-w1"), at, default));
        // Whether an old unconfirmed claim went out is unknown, and a resend would pass the broker's duplicate window.
        Assert.Equal(AlertDecision.Suppress, await ledger.ClaimAsync("crm-w1", "cond-w1", 1, "w|2", Event("crm-w1"), at + AlertLedger.TakeoverWindow + TimeSpan.FromMinutes(1), default));
        Assert.Equal(["crm-w1"], (await ledger.ClaimedByAsync("w|1", default)).Select(e => e["id"]!.GetValue<string>()));
        Assert.Equal(AlertDecision.Resend, await ledger.ClaimAsync("crm-w1", "cond-w1", 1, "w|2", Event("crm-w1"), at + AlertLedger.TakeoverWindow - TimeSpan.FromMinutes(1), default));
    }

    [Fact]
    public async Task A_retry_resends_the_event_as_claimed_even_when_a_losing_attempt_rewrote_its_index_entry()
    {
        var account = await azurite.AccountAsync();
        var ledger = new AlertLedger(account);
        var at = DateTimeOffset.UtcNow;
        var claimed = Event("crm-d1");
        claimed["data"] = new JsonObject { ["window"] = "first" };
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-d1", "cond-d1", 1, "d|1", claimed, at, default));
        // A second attempt of the same delivery (a day's digest fired twice) wrote its index entry before its claim lost
        // the race: the entry now holds what that attempt built, with its window moved on.
        var rebuilt = new TableEntity(AlertLedger.InvocationPartition, AlertLedger.InvocationKey("d|1", "crm-d1"));
        StorageJson.Write(rebuilt, "Event", new JsonObject { ["specversion"] = "1.0", ["id"] = "crm-d1", ["data"] = new JsonObject { ["window"] = "second" } });
        await account.Table(StorageNames.Tables.Alerts).UpsertEntityAsync(rebuilt, TableUpdateMode.Replace);

        var resent = Assert.Single(await ledger.ClaimedByAsync("d|1", default));
        Assert.Equal(claimed.ToJsonString(), resent.ToJsonString());
        var (listed, _) = await ledger.ListAsync(at.AddSeconds(-1), 100, null, default);
        Assert.Equal(claimed.ToJsonString(), Assert.Single(listed, a => a.Id == "crm-d1").CloudEvent.ToJsonString());
    }

    [Fact]
    public async Task Two_deliveries_claiming_one_alert_at_once_both_send_it_and_only_one_raised_it()
    {
        var ledger = new AlertLedger(await azurite.AccountAsync());
        var at = DateTimeOffset.UtcNow;
        for (var i = 0; i < 10; i++)
        {
            var id = $"crm-c{i}-{Guid.NewGuid():N}";
            var decisions = await Task.WhenAll(
                ledger.ClaimAsync(id, "cond-" + id, 1, id + "|1", Event(id), at, "month|2026-07|" + id, default),
                ledger.ClaimAsync(id, "cond-" + id, 1, id + "|2", Event(id), at, "month|2026-07|" + id, default));
            // Whichever came second, whatever the interleaving, it sends too: the first may die before sending.
            Assert.Equal([AlertDecision.Raise, AlertDecision.Resend], decisions.Order());
            // One of them holds it: the retry of the other, should it die, has nothing of it to send.
            Assert.Equal(1, (await ledger.ClaimedByAsync(id + "|1", default)).Count + (await ledger.ClaimedByAsync(id + "|2", default)).Count);
        }
    }

    [Fact]
    public async Task A_recovery_a_rival_claimed_and_recorded_without_confirming_is_taken_over()
    {
        var ledger = new AlertLedger(await azurite.AccountAsync());
        var at = DateTimeOffset.UtcNow;
        var period = "month|2026-07|" + Guid.NewGuid().ToString("N");
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-x1", "cond-x1", 1, "xr|0", Event("crm-x1"), at, period, default));
        await ledger.MarkDeliveredAsync("xr|0", default);
        // Delivery xr|1 claims the recovery and records it, then dies before sending it: the alert is no longer open for xr|2 to meet.
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-rx1", "cond-rx1", 0, "xr|1", Event("crm-rx1"), at, default));
        await ledger.MarkResolvedAsync(period, "crm-x1", "crm-rx1", default);
        Assert.Empty(await ledger.OpenAsync(period, default));

        Assert.Equal([("crm-x1", "crm-rx1")], await ledger.RecentlyResolvedAsync(period, default));
        Assert.Equal("crm-rx1", (await ledger.TakeOverUnconfirmedAsync("crm-rx1", "xr|2", at, default))?["id"]?.GetValue<string>());
        // Once xr|2 confirms it, nobody takes it over again; its own delivery finds nothing to take over.
        await ledger.MarkDeliveredAsync("xr|2", default);
        Assert.Null(await ledger.TakeOverUnconfirmedAsync("crm-rx1", "xr|3", at, default));
        Assert.Null(await ledger.TakeOverUnconfirmedAsync("crm-rx1", "xr|2", at, default));
        Assert.Empty((await ledger.ClaimedByAsync("xr|1", default)).Select(e => e.ToJsonString()));

        // The same gap within one delivery: its attempt recorded a recovery and died; its retry no longer meets the resolved alert.
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-x2", "cond-x2", 1, "xr|0", Event("crm-x2"), at, period, default));
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-rx2", "cond-rx2", 0, "xr|4", Event("crm-rx2"), at, default));
        await ledger.MarkResolvedAsync(period, "crm-x2", "crm-rx2", default);
        Assert.Equal("crm-rx2", (await ledger.TakeOverUnconfirmedAsync("crm-rx2", "xr|4", at, default))?["id"]?.GetValue<string>());
        await ledger.MarkDeliveredAsync("xr|4", default);
        Assert.Null(await ledger.TakeOverUnconfirmedAsync("crm-rx2", "xr|4", at, default));
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

    [Fact]
    public async Task A_condition_back_after_its_recovery_is_said_at_a_milder_severity_and_at_the_same_as_its_next_occurrence()
    {
        // Found by probing: a goal critical at risk, back on track, then at risk at warning level: nothing was raised.
        var ledger = new AlertLedger(await azurite.AccountAsync());
        var at = DateTimeOffset.UtcNow;
        var period = "month|2026-12|" + Guid.NewGuid().ToString("N");
        var condition = "cond-relapse-" + Guid.NewGuid().ToString("N");
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-rl-critical", condition, 2, "rl|1", Event("crm-rl-critical"), at, period, default));
        await ledger.MarkDeliveredAsync("rl|1", default);
        // While the critical alert is open, a warning of the same condition stays quiet.
        Assert.Equal(AlertDecision.Suppress, await ledger.ClaimAsync("crm-rl-warning", condition, 1, "rl|2", Event("crm-rl-warning"), at, period, default));

        await ledger.MarkResolvedAsync(period, "crm-rl-critical", "crm-rl-resolved", default);
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-rl-warning", condition, 1, "rl|3", Event("crm-rl-warning"), at, period, default));
        await ledger.MarkDeliveredAsync("rl|3", default);
        Assert.Equal(["crm-rl-warning"], (await ledger.OpenAsync(period, default)).Select(o => o.Id));
        // The critical severity again: said as the condition's next occurrence, under an id of its own (its first id was
        // sent already, and the broker would drop it); found by probing: a value critical, back in bounds, critical again raised nothing.
        var relapse = await ledger.ClaimToSendAsync("crm-rl-critical", condition, 2, "rl|4", Event("crm-rl-critical"), at, period, default);
        Assert.Equal(AlertDecision.Raise, relapse.Decision);
        var relapseId = CrmMetrics.Domain.Alerts.Alert.RelapseIdOf("crm-rl-critical");
        Assert.Equal(relapseId, relapse.Event!["id"]!.GetValue<string>());
        await ledger.MarkDeliveredAsync("rl|4", default);
        Assert.Equal(new[] { "crm-rl-warning", relapseId }.Order(StringComparer.Ordinal), (await ledger.OpenAsync(period, default)).Select(o => o.Id).Order(StringComparer.Ordinal));
        // While it persists, the next computation says nothing, and the retry of its delivery resends nothing confirmed out.
        Assert.Equal(AlertDecision.Suppress, await ledger.ClaimAsync("crm-rl-critical", condition, 2, "rl|5", Event("crm-rl-critical"), at, period, default));
        Assert.Equal(AlertDecision.Suppress, await ledger.ClaimAsync("crm-rl-critical", condition, 2, "rl|4", Event("crm-rl-critical"), at, period, default));
        // Resolved and back once more: the occurrence after that.
        await ledger.MarkResolvedAsync(period, relapseId, "crm-rl-resolved-2", default);
        var third = await ledger.ClaimToSendAsync("crm-rl-critical", condition, 2, "rl|6", Event("crm-rl-critical"), at, period, default);
        Assert.Equal(CrmMetrics.Domain.Alerts.Alert.RelapseIdOf(relapseId), third.Event!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_retry_resending_its_alert_resolved_meanwhile_leaves_it_resolved_and_its_condition_free_to_come_back()
    {
        // Found in review: the retry's resend made the resolved alert's severity the condition's again, so its relapses stayed quiet.
        var ledger = new AlertLedger(await azurite.AccountAsync());
        var at = DateTimeOffset.UtcNow;
        var period = "month|2026-11|" + Guid.NewGuid().ToString("N");
        var condition = "cond-retry-" + Guid.NewGuid().ToString("N");
        var (first, delivery) = ("crm-rr-" + Guid.NewGuid().ToString("N"), "rr|" + Guid.NewGuid().ToString("N"));
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync(first, condition, 2, delivery, Event(first), at, period, default));
        // A later computation resolved it before the delivery confirmed it out; the delivery's retry sends it again.
        await ledger.MarkResolvedAsync(period, first, "crm-rr-resolution", default);
        var resent = await ledger.ClaimToSendAsync(first, condition, 2, delivery, Event(first), at, period, default);
        Assert.Equal((AlertDecision.Resend, first), (resent.Decision, resent.Event!["id"]!.GetValue<string>()));
        Assert.Empty(await ledger.OpenAsync(period, default));
        var (listed, _) = await ledger.ListAsync(at.AddSeconds(-1), 100, null, default);
        Assert.Equal("crm-rr-resolution", listed.Single(a => a.Id == first).ResolvedBy);
        // The condition back, milder or as bad: said.
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync("crm-rr-w-" + condition, condition, 1, "rr|later", Event("w"), at, period, default));
        Assert.Equal(AlertDecision.Raise, await ledger.ClaimAsync(first, condition, 2, "rr|later", Event(first), at, period, default));
    }
}
