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

    /// <summary>The system clock, <see cref="Ahead"/> of it: a directory's next refresh comes that much later.</summary>
    private sealed class AheadClock : TimeProvider
    {
        public TimeSpan Ahead { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Ahead;
    }

    /// <summary>Counts the requests sent through the clients it is added to.</summary>
    private sealed class Requests : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        private int _sent;

        public int Sent => Volatile.Read(ref _sent);

        public override void OnSendingRequest(Azure.Core.HttpMessage message) => Interlocked.Increment(ref _sent);
    }

    /// <summary>
    /// Runs are 15 minutes apart, and a directory is refreshed only when its instance aggregates a day:
    /// a refresh reads what changed since the last one, not only the feed's last minutes (found in
    /// review: a timeline or case changed more than <see cref="StateFeed.Lookback"/> before the next
    /// run never reached the directory). Back to back, a refresh still makes its one request.
    /// </summary>
    [Fact]
    public async Task A_refresh_a_run_later_reads_what_changed_since_the_last_one_and_back_to_back_lists_the_heads_alone()
    {
        var account = await azurite.AccountAsync();
        var requests = new Requests();
        var counted = new StorageAccount(
            new TableServiceClient(azurite.ConnectionString, Through(new TableClientOptions(), requests)), account.Queues, account.RawQueues,
            new Azure.Storage.Blobs.BlobServiceClient(azurite.ConnectionString, Through(new Azure.Storage.Blobs.BlobClientOptions(), requests)), "counted");
        var customers = new CustomerStore(account);
        var complaints = new ComplaintStore(account, customers.Feed);
        var clock = new AheadClock();
        var directory = new CustomerDirectory(new CustomerStore(counted), new ComplaintStore(counted), clock);
        await customers.ApplyAsync([Lifecycle("r2", FactType.CustomerAcquired, Day(5, 20), "R-1", "smb")], Utc, Today, _ => Task.CompletedTask, default);
        await complaints.ApplyAsync([new Fact { Id = "rr1", Type = FactType.ComplaintResolved, Time = Day(5, 12), CustomerId = "R-1", CaseId = "RK-1" }], Utc, _ => Task.CompletedTask, default);
        await directory.RefreshAsync(default);
        Assert.Equal("smb", directory.Find("R-1")!.Value.Segment);
        Assert.Null((await directory.CasesAsync(["RK-1"], default))["RK-1"].Opened);

        // Back to back, nothing changed: the heads are listed, no bucket is read.
        clock.Ahead = TimeSpan.FromSeconds(1);
        var before = requests.Sent;
        await directory.RefreshAsync(default);
        Assert.Equal(1, requests.Sent - before);

        // An earlier acquisition and the case's open, then the next run 15 minutes later.
        await customers.ApplyAsync([Lifecycle("r1", FactType.CustomerAcquired, Day(5, 1), "R-1", "ent")], Utc, Today, _ => Task.CompletedTask, default);
        await complaints.ApplyAsync([new Fact { Id = "ro1", Type = FactType.ComplaintOpened, Time = Day(5, 10), CustomerId = "R-1", CaseId = "RK-1", Severity = "low" }],
            Utc, _ => Task.CompletedTask, default);
        clock.Ahead = TimeSpan.FromMinutes(15);
        await directory.RefreshAsync(default);
        Assert.Equal("ent", directory.Find("R-1")!.Value.Segment);
        Assert.Equal("ro1", (await directory.CasesAsync(["RK-1"], default))["RK-1"].Opened!.Id);
    }

    /// <summary>
    /// After a gap longer than <see cref="CustomerDirectory.MaxCatchUp"/> (two idle days here) a refresh
    /// scans the table instead of reading every bucket since, and reads the cases it held again.
    /// </summary>
    [Fact]
    public async Task A_refresh_after_a_long_gap_scans_the_table_and_reads_the_cases_it_held_again()
    {
        var account = await azurite.AccountAsync();
        var customers = new CustomerStore(account);
        var complaints = new ComplaintStore(account, customers.Feed);
        var clock = new AheadClock();
        var directory = new CustomerDirectory(customers, complaints, clock);
        await customers.ApplyAsync([Lifecycle("g2", FactType.CustomerAcquired, Day(6, 20), "G-1", "smb")], Utc, Today, _ => Task.CompletedTask, default);
        await complaints.ApplyAsync([new Fact { Id = "gr1", Type = FactType.ComplaintResolved, Time = Day(6, 12), CustomerId = "G-1", CaseId = "GK-1" }], Utc, _ => Task.CompletedTask, default);
        await directory.RefreshAsync(default);
        Assert.Null((await directory.CasesAsync(["GK-1"], default))["GK-1"].Opened);

        await customers.ApplyAsync([Lifecycle("g1", FactType.CustomerAcquired, Day(6, 1), "G-1", "ent")], Utc, Today, _ => Task.CompletedTask, default);
        await complaints.ApplyAsync([new Fact { Id = "go1", Type = FactType.ComplaintOpened, Time = Day(6, 10), CustomerId = "G-1", CaseId = "GK-1", Severity = "low" }],
            Utc, _ => Task.CompletedTask, default);
        clock.Ahead = TimeSpan.FromDays(2);
        var reads = directory.Reads;
        await directory.RefreshAsync(default);
        Assert.Equal(reads + 1, directory.Reads);
        Assert.Equal("ent", directory.Find("G-1")!.Value.Segment);
        Assert.Equal("go1", (await directory.CasesAsync(["GK-1"], default))["GK-1"].Opened!.Id);
    }

    /// <summary>Fails the <paramref name="nth"/> (from 0) of the requests that <paramref name="picks"/>, as storage answering 503 would; the others go through.</summary>
    private sealed class FailingRequest(Func<Azure.Core.HttpMessage, bool> picks, int nth) : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        private int _picked;

        public override void OnSendingRequest(Azure.Core.HttpMessage message)
        {
            if (picks(message) && Interlocked.Increment(ref _picked) - 1 == nth) throw new Azure.RequestFailedException(503, "injected: the scan fails here");
        }
    }

    /// <summary>
    /// A first load (or a rescan) reads the feed, then scans the table. One whose scan failed part-way kept the
    /// feed position it had reached, and its entries were dropped: the next load skipped the buckets it had read.
    /// A write that had put a changed timeline in the feed and not yet in its row (the feed entry goes first)
    /// then reached neither the next load's feed read nor its scan, and no later refresh read that bucket again
    /// (found in review; until the next rescan, an hour without refreshes, or a restart).
    /// </summary>
    [Fact]
    public async Task A_load_whose_table_scan_failed_part_way_does_not_keep_the_feed_it_read_from_the_next_load()
    {
        var account = await azurite.AccountAsync();
        var scanFails = new FailingRequest(m => m.Request.Method == Azure.Core.RequestMethod.Get && m.Request.Uri.Path.EndsWith("/Customers()", StringComparison.Ordinal), nth: 2);
        var failing = new StorageAccount(
            new TableServiceClient(azurite.ConnectionString, Through(new TableClientOptions(), scanFails)), account.Queues, account.RawQueues, account.Blobs, "failing");
        var customers = new CustomerStore(account);
        var clock = new AheadClock();
        var directory = new CustomerDirectory(new CustomerStore(failing), new ComplaintStore(failing), clock);
        await customers.ApplyAsync([Lifecycle("p2", FactType.CustomerAcquired, Day(7, 20), "P-1", "smb")], Utc, Today, _ => Task.CompletedTask, default);

        // An earlier acquisition is being written: its timeline is in the feed, its row not yet (held while its days are marked).
        var inFeed = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var writing = customers.ApplyAsync([Lifecycle("p1", FactType.CustomerAcquired, Day(7, 1), "P-1", "ent")], Utc, Today, async _ =>
        {
            inFeed.TrySetResult();
            await release.Task;
        }, default);
        await inFeed.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The first load reads the feed, then its scan fails part-way; the next load succeeds, the row still unwritten.
        await Assert.ThrowsAsync<Azure.RequestFailedException>(() => directory.RefreshAsync(default));
        await directory.RefreshAsync(default);
        release.SetResult();
        await writing.WaitAsync(TimeSpan.FromSeconds(30));

        // A run later (within MaxCatchUp, so the feed is read, not the table).
        clock.Ahead = TimeSpan.FromMinutes(15);
        await directory.RefreshAsync(default);
        Assert.Equal("ent", directory.Find("P-1")!.Value.Segment);
    }

    /// <summary>The app's client options, every request through <paramref name="policy"/>.</summary>
    private static T Through<T>(T options, Azure.Core.Pipeline.HttpPipelinePolicy policy) where T : Azure.Core.ClientOptions
    {
        StorageAccount.Configured(options);
        options.AddPolicy(policy, Azure.Core.HttpPipelinePosition.PerCall);
        return options;
    }


    private static TableEntity Case(string caseId, string openId)
    {
        var entity = new TableEntity(StorageKeys.CasePartition(caseId), caseId);
        StorageJson.Write(entity, "Events", new List<ComplaintEvent> { new(openId, FactType.ComplaintOpened, Day(4, 3), "M-2") });
        return entity;
    }
}
