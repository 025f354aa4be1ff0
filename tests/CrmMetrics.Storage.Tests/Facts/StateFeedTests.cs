using Azure.Data.Tables;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Lifecycle;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Facts;

public class StateFeedTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly DateOnly Today = new(2026, 11, 23);
    private static DateTimeOffset Day(int month, int day) => new(2026, month, day, 12, 0, 0, TimeSpan.Zero);
    private static DateOnly Utc(DateTimeOffset t) => DateOnly.FromDateTime(t.UtcDateTime);

    private static Fact Lifecycle(string id, FactType type, DateTimeOffset time, string customer, string? segment = null) =>
        new() { Id = id, Type = type, Time = time, CustomerId = customer, Segment = segment };

    private static StateChange Timeline(string customer, params string[] ids) =>
        new(customer, ids.Select(id => new LifecycleEvent(id, FactType.CustomerAcquired, Day(1, 1))).ToList(), null, null);

    private static async Task<List<StateChange>> ReadAsync(StateFeed feed, FeedPosition position)
    {
        var read = new List<StateChange>();
        await foreach (var change in feed.ReadAsync(position, DateTimeOffset.UtcNow, default)) read.Add(change);
        return read;
    }

    [Fact]
    public async Task A_reader_reads_a_bucket_again_only_once_its_head_was_stamped_after_it_read_it()
    {
        var feed = new StateFeed(await azurite.AccountAsync());
        var position = new FeedPosition();
        await ReadAsync(feed, position);

        // A changed bucket is read whole, other tests' entries in it too: look for this test's own.
        await feed.AppendAsync([Timeline("F-1", "f1")], default);
        Assert.Contains(await ReadAsync(feed, position), c => c.CustomerId == "F-1");
        Assert.Empty(await ReadAsync(feed, position));

        // Another entry in the same (or the next) bucket: found through the head it stamps.
        await feed.AppendAsync([Timeline("F-2", "f2"), new StateChange(null, null, "K-9", [new ComplaintEvent("k9", FactType.ComplaintOpened, Day(1, 2))])], default);
        var again = await ReadAsync(feed, position);
        Assert.Contains(again, c => c.CustomerId == "F-2");
        Assert.Contains(again, c => c.CaseId == "K-9" && c.Case!.Single().Id == "k9");
    }

    [Fact]
    public async Task A_row_that_was_read_reaches_the_feed_before_it_is_written_and_a_new_row_right_after()
    {
        var account = await azurite.AccountAsync();
        var store = new CustomerStore(account);
        var position = new FeedPosition();
        await ReadAsync(store.Feed, position);
        await store.ApplyAsync([Lifecycle("w1", FactType.CustomerAcquired, Day(3, 1), "W-1", "smb"), Lifecycle("w3", FactType.CustomerAcquired, Day(3, 10), "W-1")],
            Utc, Today, _ => Task.CompletedTask, default);
        // A new customer is added without reading: in the feed once added.
        Assert.Contains(await ReadAsync(store.Feed, position), c => c.CustomerId == "W-1" && c.Timeline!.Count == 2);

        // A churn is merged into the row it read, and turns the second acquisition into a win-back.
        // When that day is marked, just before the write, the feed already holds the new timeline
        // and the row does not: a crash there leaves every reader knowing what the facts say.
        var checkedInTheWindow = false;
        await store.ApplyAsync([Lifecycle("w2", FactType.CustomerChurned, Day(3, 5), "W-1")], Utc, Today, async days =>
        {
            Assert.Equal([new DateOnly(2026, 3, 10)], days);
            Assert.Contains(await ReadAsync(store.Feed, position), c => c.CustomerId == "W-1" && c.Timeline!.Select(e => e.Id).Order().SequenceEqual(["w1", "w2", "w3"]));
            Assert.Equal(["w1", "w3"], (await store.GetTimelineAsync("W-1", default))!.Events.Select(e => e.Id));
            checkedInTheWindow = true;
        }, default);
        Assert.True(checkedInTheWindow);
        Assert.Equal(["w1", "w2", "w3"], (await store.GetTimelineAsync("W-1", default))!.Events.Select(e => e.Id));
    }

    [Fact]
    public async Task The_directory_serves_timelines_and_cases_from_memory_and_reads_what_it_does_not_hold()
    {
        var account = await azurite.AccountAsync();
        var customers = new CustomerStore(account);
        var complaints = new ComplaintStore(account);
        var directory = new CustomerDirectory(customers, complaints);
        await directory.RefreshAsync(default);
        await customers.ApplyAsync([Lifecycle("m1", FactType.CustomerAcquired, Day(4, 1), "M-1", "ent")], Utc, Today, _ => Task.CompletedTask, default);
        await complaints.ApplyAsync([new Fact { Id = "mo1", Type = FactType.ComplaintOpened, Time = Day(4, 2), CustomerId = "M-1", CaseId = "MK-1", Severity = "low" }],
            Utc, _ => Task.CompletedTask, default);
        await directory.RefreshAsync(default);

        // Gone from the tables, still known: the directory answers from what the feed told it.
        await account.Table(StorageNames.Tables.Customers).DeleteEntityAsync(StorageKeys.CustomerPartition("M-1"), "M-1");
        await account.Table(StorageNames.Tables.Complaints).DeleteEntityAsync(StorageKeys.CasePartition("MK-1"), "MK-1");
        Assert.Equal("ent", directory.Find("M-1")!.Value.Segment);
        Assert.Equal(["m1"], (await directory.TimelinesAsync(["M-1"], default))["M-1"].Events.Select(e => e.Id));
        Assert.Equal("mo1", (await directory.CasesAsync(["MK-1"], default))["MK-1"].Opened!.Id);

        // A case the feed never brought (written before this process looked) is read, and kept.
        await account.Table(StorageNames.Tables.Complaints).AddEntityAsync(Case("MK-2", "mo2"));
        Assert.Equal("mo2", (await directory.CasesAsync(["MK-2", "MK-none"], default)).Single().Value.Opened!.Id);
        await account.Table(StorageNames.Tables.Complaints).DeleteEntityAsync(StorageKeys.CasePartition("MK-2"), "MK-2");
        Assert.Equal("mo2", (await directory.CasesAsync(["MK-2"], default))["MK-2"].Opened!.Id);
    }

    private static TableEntity Case(string caseId, string openId)
    {
        var entity = new TableEntity(StorageKeys.CasePartition(caseId), caseId);
        StorageJson.Write(entity, "Events", new List<ComplaintEvent> { new(openId, FactType.ComplaintOpened, Day(4, 3), "M-2") });
        return entity;
    }
}
