using CrmMetrics.Domain.Alerts;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Settings;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Settings;

/// <summary>Versioned documents with their append-only change record, against a real Azurite.</summary>
public class DocumentStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static AlertRule Rule(string id, double below) =>
        AlertRule.Read(id, System.Text.Json.JsonDocument.Parse($$"""{ "kind": "threshold", "indicator": "cx.csat", "below": {{below}} }""").RootElement, _ => null, new CrmMetrics.Domain.Validation.ValidationErrors())!;

    [Fact]
    public async Task Concurrent_changes_each_get_their_own_version_and_none_is_missing_from_the_record()
    {
        var store = new AlertRuleStore(await azurite.AccountAsync());
        var actor = new ChangeActor("ops", "admin");
        await Task.WhenAll(Enumerable.Range(1, 8).Select(i => store.PutAsync("busy", Rule("busy", i), actor, default)));

        var current = await store.GetVersionedAsync("busy", default);
        Assert.Equal(8, current!.Value.Version);
        var history = (await store.HistoryAsync(default)).Where(c => c.Id == "busy").ToList();
        Assert.Equal(Enumerable.Range(1, 8), history.Select(c => c.Version).Order());
        // Each change's "before" is exactly the previous change's "after".
        var byVersion = history.OrderBy(c => c.Version).ToList();
        for (var i = 1; i < byVersion.Count; i++) Assert.Equal(byVersion[i - 1].After!.ToJsonString(), byVersion[i].Before!.ToJsonString());
    }

    [Fact]
    public async Task A_document_deleted_and_defined_again_goes_on_from_its_last_version()
    {
        var store = new AlertRuleStore(await azurite.AccountAsync());
        var actor = new ChangeActor("ops", "admin");
        Assert.True(await store.PutAsync("again", Rule("again", 50), actor, default));
        Assert.True(await store.DeleteAsync("again", actor, default));
        Assert.False(await store.DeleteAsync("again", actor, default));
        Assert.True(await store.PutAsync("again", Rule("again", 60), actor, default));
        Assert.Equal(3, (await store.GetVersionedAsync("again", default))!.Value.Version);
        Assert.Equal(["create", "delete", "create"], (await store.HistoryAsync(default)).Where(c => c.Id == "again").Select(c => c.Action));
        // The record is not a document: listing shows only what is defined.
        Assert.DoesNotContain(await store.ListAsync(default), r => r.RuleId.StartsWith('~'));
    }

    [Fact]
    public async Task Documents_and_their_record_spell_enums_as_the_api_does_even_when_written_the_earlier_way()
    {
        var account = await azurite.AccountAsync();
        var store = new GoalStore(account);
        var table = account.Table(StorageNames.Tables.Goals);
        await table.CreateIfNotExistsAsync();
        // A goal stored before documents spelled enums as the API does: its row and its record say "Month".
        const string old = """{"goalId":"old","name":"Old","indicator":"com.revenue","scope":"org","grain":"Month","target":100,"threshold":90}""";
        await table.AddEntityAsync(new Azure.Data.Tables.TableEntity("doc", "old") { ["Version"] = 1, ["Doc0"] = old });
        await table.AddEntityAsync(new Azure.Data.Tables.TableEntity("doc", "~h~old~0000000001")
        {
            ["Id"] = "old", ["Version"] = 1, ["Action"] = "create", ["At"] = DateTimeOffset.UtcNow, ["ActorName"] = "ops", ["ActorRole"] = "admin", ["After0"] = old,
        });

        var goal = await store.GetAsync("old", default);
        Assert.Equal(CrmMetrics.Domain.Periods.Grain.Month, goal!.Grain);
        await store.PutAsync("old", goal with { Target = 200 }, new ChangeActor("ops", "admin"), default);

        var history = (await store.HistoryAsync(default)).Where(c => c.Id == "old").ToList();
        Assert.Equal([1, 2], history.Select(c => c.Version));
        Assert.Equal("month", history[0].After!["grain"]!.GetValue<string>());
        // Only the spelling changes: a member the record never had is not added with today's default.
        Assert.False(history[0].After!.AsObject().ContainsKey("maxContribution"));
        Assert.Equal(90m, history[0].After!["threshold"]!.GetValue<decimal>());
        Assert.Equal("month", history[1].Before!["grain"]!.GetValue<string>());
        Assert.Equal("month", history[1].After!["grain"]!.GetValue<string>());
        Assert.Equal(200m, history[1].After!["target"]!.GetValue<decimal>());
        var row = await table.GetEntityAsync<Azure.Data.Tables.TableEntity>("doc", "old");
        Assert.Contains("\"grain\":\"month\"", row.Value.GetString("Doc0"), StringComparison.Ordinal);
    }
}
