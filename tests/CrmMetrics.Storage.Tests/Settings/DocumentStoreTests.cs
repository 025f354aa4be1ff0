using CrmMetrics.Domain.Alerts;
using CrmMetrics.Storage.Settings;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Settings;

/// <summary>Versioned documents with their append-only change record, against a real Azurite.</summary>
public class DocumentStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static AlertRule Rule(string id, double below) =>
        AlertRule.Read(id, System.Text.Json.JsonDocument.Parse($$"""{ "kind": "threshold", "indicator": "cx.csat", "below": {{below}} }""").RootElement, _ => false, new CrmMetrics.Domain.Validation.ValidationErrors())!;

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
}
