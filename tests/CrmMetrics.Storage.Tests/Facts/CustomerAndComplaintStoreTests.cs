using CrmMetrics.Domain.Facts;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Facts;

public class CustomerAndComplaintStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly DateOnly Today = new(2026, 11, 23);
    private static DateOnly Utc(DateTimeOffset t) => DateOnly.FromDateTime(t.UtcDateTime);
    private static DateTimeOffset Day(int month, int day) => new(2026, month, day, 12, 0, 0, TimeSpan.Zero);

    // The stores report the days to re-aggregate through a callback that runs before their writes.
    private static async Task<List<DateOnly>> Apply(CustomerStore store, IEnumerable<Fact> facts)
    {
        var marked = new SortedSet<DateOnly>();
        await store.ApplyAsync(facts, Utc, Today, days => { marked.UnionWith(days); return Task.CompletedTask; }, default);
        return [.. marked];
    }

    private static async Task<List<DateOnly>> Apply(ComplaintStore store, IEnumerable<Fact> facts)
    {
        var marked = new SortedSet<DateOnly>();
        await store.ApplyAsync(facts, Utc, days => { marked.UnionWith(days); return Task.CompletedTask; }, default);
        return [.. marked];
    }

    private static Fact Lifecycle(string id, FactType type, DateTimeOffset time, string customer, string? segment = null) =>
        new() { Id = id, Type = type, Time = time, CustomerId = customer, Segment = segment };

    [Fact]
    public async Task Requests_of_one_instance_take_turns_on_a_partition_of_customers()
    {
        var store = new CustomerStore(await azurite.AccountAsync());
        var ids = Enumerable.Range(0, 100).Select(i => $"T-{i}").GroupBy(StorageKeys.CustomerPartition).First(g => g.Count() >= 2).Take(2).ToList();
        // A new customer's acquisition marks its day before the row is written.
        await AssertTakeTurnsAsync(
            mark => store.ApplyAsync([Lifecycle("t1", FactType.CustomerAcquired, Day(8, 1), ids[0], "smb")], Utc, Today, mark, default),
            mark => store.ApplyAsync([Lifecycle("t2", FactType.CustomerAcquired, Day(8, 2), ids[1], "smb")], Utc, Today, mark, default));
        Assert.NotNull(await store.GetTimelineAsync(ids[1], default));
    }

    [Fact]
    public async Task Requests_of_one_instance_take_turns_on_a_partition_of_cases()
    {
        var store = new ComplaintStore(await azurite.AccountAsync());
        var cases = Enumerable.Range(0, 100).Select(i => $"turn/{i}").GroupBy(StorageKeys.CasePartition).First(g => g.Count() >= 2).Take(2).ToList();
        // Resolves first: an open that arrives after its resolve marks the resolve's day before the row is written.
        for (var i = 0; i < 2; i++)
        {
            await Apply(store, [new Fact { Id = $"tr{i}", Type = FactType.ComplaintResolved, Time = Day(9, 20), CustomerId = "C", CaseId = cases[i] }]);
        }
        Fact Open(int i) => new() { Id = $"to{i}", Type = FactType.ComplaintOpened, Time = Day(9, 2), CustomerId = "C", CaseId = cases[i], Severity = "low" };
        await AssertTakeTurnsAsync(mark => store.ApplyAsync([Open(0)], Utc, mark, default), mark => store.ApplyAsync([Open(1)], Utc, mark, default));
        Assert.NotNull((await store.GetManyAsync([cases[1]], default))[cases[1]].Opened);
    }

    /// <summary>
    /// Holds the first request where it marks days (inside its write of the partition), then starts the
    /// second on the same partition: it must not reach its own mark until the first is let go.
    /// </summary>
    private static async Task AssertTakeTurnsAsync(Func<Func<IReadOnlyCollection<DateOnly>, Task>, Task> first, Func<Func<IReadOnlyCollection<DateOnly>, Task>, Task> second)
    {
        var (firstMarking, release, secondMarked) = (Signal(), Signal(), Signal());
        var held = first(async _ => { firstMarking.TrySetResult(); await release.Task; });
        await firstMarking.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var waiting = second(_ => { secondMarked.TrySetResult(); return Task.CompletedTask; });

        // Showing that something does not happen takes a bounded wait: a second request that did not
        // wait for the partition reaches its mark within milliseconds.
        Assert.NotSame(secondMarked.Task, await Task.WhenAny(secondMarked.Task, Task.Delay(TimeSpan.FromSeconds(1))));
        release.SetResult();
        await Task.WhenAll(held, waiting).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(secondMarked.Task.IsCompletedSuccessfully);
    }

    private static TaskCompletionSource Signal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public async Task A_late_churn_marks_the_day_of_the_acquisition_it_turns_into_a_win_back()
    {
        var store = new CustomerStore(await azurite.AccountAsync());
        // The first acquisition sets the dimension: its own day is marked (the segment scope counts it).
        Assert.Equal([new DateOnly(2026, 3, 1)], await Apply(store, [Lifecycle("a1", FactType.CustomerAcquired, Day(3, 1), "L-1", "smb")]));
        // Without the churn, the second acquisition means nothing; with it, it is a win-back.
        // (An acquisition is added blindly first; that attempt may name the fact's own day, which ingestion marks anyway.)
        Assert.All(await Apply(store, [Lifecycle("a2", FactType.CustomerAcquired, Day(5, 1), "L-1", "smb")]), d => Assert.Equal(new DateOnly(2026, 5, 1), d));
        var dirty = await Apply(store, [Lifecycle("c1", FactType.CustomerChurned, Day(4, 1), "L-1")]);
        Assert.Equal([new DateOnly(2026, 5, 1)], dirty);
        var timeline = (await store.GetTimelineAsync("L-1", default))!;
        Assert.Equal(3, timeline.Events.Count);
        Assert.Empty(await Apply(store, [Lifecycle("c1", FactType.CustomerChurned, Day(4, 1), "L-1")]));
    }

    [Fact]
    public async Task A_row_another_instance_changed_after_this_one_cached_it_is_read_again_before_merging()
    {
        var account = await azurite.AccountAsync();
        var first = new CustomerStore(account);
        var second = new CustomerStore(account);
        await Apply(first, [Lifecycle("x1", FactType.CustomerAcquired, Day(7, 1), "X-1", "smb")]);
        // Another instance adds a churn; the first one's cached row is now stale.
        await Apply(second, [Lifecycle("x2", FactType.CustomerChurned, Day(7, 5), "X-1")]);
        await Apply(first, [Lifecycle("x3", FactType.CustomerReactivated, Day(7, 9), "X-1")]);
        Assert.Equal(["x1", "x2", "x3"], (await first.GetTimelineAsync("X-1", default))!.Events.Select(e => e.Id));

        // And the map step's marks on the row survive a merge from the cache.
        await first.RecordUnresolvedAsync(["X-1"], new DateOnly(2026, 7, 2), default);
        await Apply(first, [Lifecycle("x4", FactType.CustomerChurned, Day(7, 20), "X-1")]);
        var row = (await account.Table(CrmMetrics.Storage.Account.StorageNames.Tables.Customers).GetEntityAsync<Azure.Data.Tables.TableEntity>(
            CrmMetrics.Storage.Account.StorageKeys.CustomerPartition("X-1"), "X-1")).Value;
        Assert.True(row.GetBoolean("U20260702"));
        Assert.Equal(4, CustomerStore.TimelineOf(row).Events.Count);
    }

    /// <summary>Customer ids that share <paramref name="customer"/>'s partition.</summary>
    private static List<string> Neighbours(string customer, int count) =>
        Enumerable.Range(1, 10_000).Select(i => $"{customer}-n{i}")
            .Where(id => CrmMetrics.Storage.Account.StorageKeys.CustomerPartition(id) == CrmMetrics.Storage.Account.StorageKeys.CustomerPartition(customer))
            .Take(count).ToList();

    private static async Task<List<string>> FeedCustomers(CustomerStore store)
    {
        var ids = new List<string>();
        await foreach (var change in store.Feed.ReadAsync(new FeedPosition(), DateTimeOffset.UtcNow, default))
        {
            if (change.CustomerId is { } id) ids.Add(id);
        }
        return ids;
    }

    [Fact]
    public async Task New_and_known_customers_of_one_partition_are_written_together_and_both_reach_the_feed()
    {
        var store = new CustomerStore(await azurite.AccountAsync());
        var known = "N-1";
        var newcomer = Neighbours(known, 1)[0];
        await Apply(store, [Lifecycle("n1", FactType.CustomerAcquired, Day(8, 1), known, "smb")]);

        // The newcomer is added blindly, the known customer merged from the cache: one partition, one write.
        var dirty = await Apply(store, [Lifecycle("n2", FactType.CustomerAcquired, Day(8, 3), newcomer, "smb"), Lifecycle("n3", FactType.CustomerChurned, Day(8, 5), known)]);

        Assert.Equal([new DateOnly(2026, 8, 3)], dirty); // the newcomer's dimension; the churn's own day is ingestion's to mark
        Assert.Equal(["n1", "n3"], (await store.GetTimelineAsync(known, default))!.Events.Select(e => e.Id));
        Assert.Equal(["n2"], (await store.GetTimelineAsync(newcomer, default))!.Events.Select(e => e.Id));
        Assert.Contains(newcomer, await FeedCustomers(store));
        Assert.Equal(2, (await FeedCustomers(store)).Count(id => id == known)); // its acquisition, then its churn
    }

    [Fact]
    public async Task New_customers_and_customers_this_instance_never_saw_share_a_partition_write_after_a_read()
    {
        var account = await azurite.AccountAsync();
        var elsewhere = new CustomerStore(account);
        var requests = new TableRequests();
        var options = new Azure.Data.Tables.TableClientOptions();
        options.AddPolicy(requests, Azure.Core.HttpPipelinePosition.PerCall);
        var counted = new StorageAccount(new Azure.Data.Tables.TableServiceClient(azurite.ConnectionString, options), account.Queues, account.RawQueues, account.Blobs, "counted");
        var fresh = new CustomerStore(counted); // an instance whose cache knows nobody
        var (stored, newcomer, rowless) = ("R-1", Neighbours("R-1", 2)[0], Neighbours("R-1", 2)[1]);
        await Apply(elsewhere, [Lifecycle("r1", FactType.CustomerAcquired, Day(10, 1), stored, "smb")]);

        // The newcomer is added blindly; the stored customer is read first and merged; the churned
        // customer without a row is added as the read path would add it. One partition, one write.
        var dirty = await Apply(fresh, [
            Lifecycle("r2", FactType.CustomerAcquired, Day(10, 3), newcomer, "smb"),
            Lifecycle("r3", FactType.CustomerChurned, Day(10, 5), stored),
            Lifecycle("r4", FactType.CustomerChurned, Day(10, 7), rowless),
        ]);

        Assert.Equal([new DateOnly(2026, 10, 3)], dirty); // the newcomer's dimension only
        Assert.Equal(1, requests.Transactions); // not a blind transaction and then another for the rows read
        Assert.Equal(2, requests.Reads); // the two customers that are not new, one found and one not
        Assert.Equal(["r1", "r3"], (await fresh.GetTimelineAsync(stored, default))!.Events.Select(e => e.Id));
        Assert.Equal(["r2"], (await fresh.GetTimelineAsync(newcomer, default))!.Events.Select(e => e.Id));
        Assert.Equal(["r4"], (await fresh.GetTimelineAsync(rowless, default))!.Events.Select(e => e.Id));
        var timelines = new List<string>();
        await foreach (var change in fresh.Feed.ReadAsync(new FeedPosition(), DateTimeOffset.UtcNow, default))
        {
            if (change.CustomerId is not null) timelines.Add($"{change.CustomerId}:{string.Join(",", change.Timeline!.Select(e => e.Id))}");
        }
        Assert.Contains($"{stored}:r1,r3", timelines);
        Assert.Contains($"{newcomer}:r2", timelines);
        Assert.Contains($"{rowless}:r4", timelines);
    }

    [Fact]
    public async Task When_a_known_customer_changed_elsewhere_the_shared_write_falls_back_and_loses_nothing()
    {
        var account = await azurite.AccountAsync();
        var first = new CustomerStore(account);
        var second = new CustomerStore(account);
        var known = "M-1";
        var newcomer = Neighbours(known, 1)[0];
        await Apply(first, [Lifecycle("m1", FactType.CustomerAcquired, Day(9, 1), known, "smb")]);
        await Apply(second, [Lifecycle("m2", FactType.CustomerChurned, Day(9, 4), known)]); // first's cached row is stale now

        await Apply(first, [Lifecycle("m3", FactType.CustomerAcquired, Day(9, 6), newcomer, "smb"), Lifecycle("m4", FactType.CustomerReactivated, Day(9, 8), known)]);

        Assert.Equal(["m1", "m2", "m4"], (await first.GetTimelineAsync(known, default))!.Events.Select(e => e.Id));
        Assert.Equal(["m3"], (await first.GetTimelineAsync(newcomer, default))!.Events.Select(e => e.Id));
        Assert.Contains(newcomer, await FeedCustomers(first));
        // The merge that was written after the fallback reached the feed too.
        var timelines = new List<string>();
        await foreach (var change in first.Feed.ReadAsync(new FeedPosition(), DateTimeOffset.UtcNow, default))
        {
            if (change.CustomerId == known) timelines.Add(string.Join(",", change.Timeline!.Select(e => e.Id)));
        }
        Assert.Contains("m1,m2,m4", timelines);
    }

    [Fact]
    public async Task A_first_acquisition_resolves_the_days_where_the_customer_was_unknown()
    {
        var account = await azurite.AccountAsync();
        var store = new CustomerStore(account);
        await store.RecordUnresolvedAsync(["U-1", "U-2"], new DateOnly(2026, 6, 3), default);
        await store.RecordUnresolvedAsync(["U-1"], new DateOnly(2026, 6, 9), default);
        var dirty = await Apply(store, [Lifecycle("u1a", FactType.CustomerAcquired, Day(6, 10), "U-1", "ent")]);
        Assert.Equal([new DateOnly(2026, 6, 3), new DateOnly(2026, 6, 9), new DateOnly(2026, 6, 10)], dirty.Order());
        // A later acquisition changes neither the dimension nor any effect: nothing to re-aggregate.
        Assert.All(await Apply(store, [Lifecycle("u1b", FactType.CustomerAcquired, Day(6, 20), "U-1", "smb")]), d => Assert.Equal(new DateOnly(2026, 6, 20), d));
        var directory = new CustomerDirectory(store, new ComplaintStore(account));
        await directory.RefreshAsync(default);
        Assert.Equal("ent", directory.Find("U-1")!.Value.Segment);
    }

    [Fact]
    public async Task An_earlier_acquisition_with_another_segment_marks_every_day_since()
    {
        var account = await azurite.AccountAsync();
        var store = new CustomerStore(account);
        await Apply(store, [Lifecycle("s2", FactType.CustomerAcquired, Day(11, 20), "S-1", "ent")]);
        var dirty = await Apply(store, [Lifecycle("s1", FactType.CustomerAcquired, Day(11, 10), "S-1", "smb")]);
        Assert.Equal(Enumerable.Range(10, 14).Select(d => new DateOnly(2026, 11, d)), dirty.Order());
        var directory = new CustomerDirectory(store, new ComplaintStore(account));
        await directory.RefreshAsync(default);
        Assert.Equal("smb", directory.Find("S-1")!.Value.Segment);
    }

    [Fact]
    public async Task The_directory_follows_changes_after_its_first_load()
    {
        var account = await azurite.AccountAsync();
        var store = new CustomerStore(account);
        var directory = new CustomerDirectory(store, new ComplaintStore(account));
        await Apply(store, [Lifecycle("d1", FactType.CustomerAcquired, Day(1, 1), "D-1", "gold")]);
        await directory.RefreshAsync(default);
        Assert.Equal("gold", directory.Find("D-1")!.Value.Segment);
        Assert.Null(directory.Find("D-2"));
        await Apply(store, [Lifecycle("d2", FactType.CustomerAcquired, Day(1, 2), "D-2", "silver")]);
        await directory.RefreshAsync(default);
        Assert.Equal("silver", directory.Find("D-2")!.Value.Segment);
    }

    [Fact]
    public async Task A_lookup_finds_a_customer_whose_change_never_reached_the_log()
    {
        var account = await azurite.AccountAsync();
        var store = new CustomerStore(account);
        var directory = new CustomerDirectory(store, new ComplaintStore(account));
        await directory.RefreshAsync(default);
        await Apply(store, [Lifecycle("lost1", FactType.CustomerAcquired, Day(2, 1), "LOST-1", "gold")]);
        // As if the process died between adding the row and appending it to the feed.
        // (The feed's buckets are deleted whole: the other tests of this class are done with theirs.)
        var feed = account.Container(CrmMetrics.Storage.Account.StorageNames.Containers.StateFeed);
        await foreach (var bucket in feed.GetBlobsAsync()) await feed.DeleteBlobAsync(bucket.Name);
        await directory.RefreshAsync(default);
        Assert.Null(directory.Find("LOST-1"));

        Assert.Equal(["LOST-1"], await directory.LookUpAsync(["LOST-1", "NEVER-ACQUIRED"], default));
        Assert.Equal("gold", directory.Find("LOST-1")!.Value.Segment);
        Assert.Null(directory.Find("NEVER-ACQUIRED"));
    }

    [Fact]
    public async Task Concurrent_refreshes_share_one_read_and_each_sees_what_was_written_before_it_asked()
    {
        var account = await azurite.AccountAsync();
        var store = new CustomerStore(account);
        var directory = new CustomerDirectory(store, new ComplaintStore(account));
        await directory.RefreshAsync(default);
        await Apply(store, [Lifecycle("sf1", FactType.CustomerAcquired, Day(3, 3), "SF-1", "gold")]);
        var before = directory.Reads;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => directory.RefreshAsync(default)));

        // The first caller reads; the others asked before it started, so one more read serves them all.
        Assert.InRange(directory.Reads - before, 1, 2);
        Assert.Equal("gold", directory.Find("SF-1")!.Value.Segment);
        await Apply(store, [Lifecycle("sf2", FactType.CustomerAcquired, Day(3, 4), "SF-2", "silver")]);
        await directory.RefreshAsync(default);
        Assert.Equal("silver", directory.Find("SF-2")!.Value.Segment);
    }

    [Fact]
    public async Task An_open_arriving_after_its_resolve_marks_the_resolve_day()
    {
        var store = new ComplaintStore(await azurite.AccountAsync());
        var resolved = new Fact { Id = "r1", Type = FactType.ComplaintResolved, Time = Day(7, 20), CustomerId = "C", CaseId = "case/1" };
        Assert.Empty(await Apply(store, [resolved]));
        var opened = new Fact { Id = "o1", Type = FactType.ComplaintOpened, Time = Day(7, 2), CustomerId = "C", CaseId = "case/1", Severity = "low" };
        Assert.Equal([new DateOnly(2026, 7, 20)], await Apply(store, [opened]));
        var complaint = (await store.GetManyAsync(["case/1"], default))["case/1"];
        Assert.Equal(18 * 24, complaint.ResolutionFor("r1", 48)!.Hours, 6);
    }

    /// <summary>Counts the table requests a store makes: entity-group transactions and point reads.</summary>
    private sealed class TableRequests : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        private int _transactions;
        private int _reads;

        public int Transactions => Volatile.Read(ref _transactions);
        public int Reads => Volatile.Read(ref _reads);

        public override void OnSendingRequest(Azure.Core.HttpMessage message)
        {
            var path = message.Request.Uri.Path;
            if (message.Request.Method == Azure.Core.RequestMethod.Post && path.EndsWith("$batch", StringComparison.Ordinal)) Interlocked.Increment(ref _transactions);
            else if (message.Request.Method == Azure.Core.RequestMethod.Get && path.Contains("Customers(", StringComparison.Ordinal)) Interlocked.Increment(ref _reads);
        }
    }
}
