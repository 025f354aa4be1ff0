using Azure.Data.Tables;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Runs;

/// <summary>
/// The index of runs behind <c>GET /api/runs</c>, against a real Azurite. The tests share one storage account, so each
/// lists its own runs by naming them in a year of its own and listing only that year.
/// </summary>
public class RunListingTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static DateTimeOffset At(int year, int minute) => new(year, 3, 1, 12, minute, 0, TimeSpan.Zero);

    private static async Task<IReadOnlyList<string>> AllAsync(RunStore runs, int year, string? trigger = null, int take = 2)
    {
        // Page by page, as a listing's caller goes on after the last key a page gave.
        var ids = new List<string>();
        string? after = null;
        for (var pages = 0; pages < 50; pages++)
        {
            var (page, more) = await runs.ListAsync(new DateTimeOffset(year, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(year + 1, 1, 1, 0, 0, 0, TimeSpan.Zero), trigger, after, take, default);
            ids.AddRange(page.Select(r => r.RunId));
            if (!more) return ids;
            after = page[^1].Key;
        }
        throw new InvalidOperationException("The listing did not end.");
    }

    [Fact]
    public async Task Runs_are_listed_newest_first_by_the_instant_their_ids_name_page_by_page()
    {
        var runs = new RunStore(await azurite.AccountAsync());
        // Created out of order: a past-due occurrence is created after a later request.
        string[] named = [RunIds.Requested(At(2031, 5)), RunIds.Scheduled(At(2031, 1)), RunIds.Requested(At(2031, 7)), RunIds.Scheduled(At(2031, 3)), RunIds.Scheduled(At(2031, 9))];
        foreach (var id in named) Assert.True(await runs.CreateAsync(id, id.StartsWith("sched-", StringComparison.Ordinal) ? "schedule" : "api", null, null, default));

        var expected = named.OrderByDescending(id => RunIds.NamedTime(id)).ToList();
        Assert.Equal(expected, await AllAsync(runs, 2031));
        Assert.Equal(expected, await AllAsync(runs, 2031, take: 5));
        Assert.Equal(expected.Where(id => id.StartsWith("sched-", StringComparison.Ordinal)), await AllAsync(runs, 2031, trigger: "schedule"));
        Assert.Equal(expected.Where(id => id.StartsWith("run-", StringComparison.Ordinal)), await AllAsync(runs, 2031, trigger: "api"));

        // A second creation of one run (a timer that fired twice) lists it once.
        Assert.False(await runs.CreateAsync(named[1], "schedule", null, null, default));
        Assert.Equal(expected, await AllAsync(runs, 2031));
    }

    [Fact]
    public async Task Since_takes_runs_named_at_it_and_until_leaves_out_runs_named_at_it()
    {
        var runs = new RunStore(await azurite.AccountAsync());
        var (before, at, inside, end) = (RunIds.Scheduled(At(2032, 0).AddSeconds(-1)), RunIds.Scheduled(At(2032, 0)), RunIds.Scheduled(At(2032, 10)), RunIds.Scheduled(At(2032, 20)));
        foreach (var id in new[] { before, at, inside, end }) await runs.CreateAsync(id, "schedule", null, null, default);

        var (listed, more) = await runs.ListAsync(At(2032, 0), At(2032, 20), null, null, 10, default);
        Assert.Equal([inside, at], listed.Select(r => r.RunId));
        Assert.False(more);
        // The extremes of the calendar are instants like any other.
        Assert.Empty((await runs.ListAsync(DateTimeOffset.MaxValue, null, null, null, 10, default)).Runs);
        Assert.Empty((await runs.ListAsync(null, DateTimeOffset.MinValue, null, null, 10, default)).Runs);
        Assert.Contains(inside, (await runs.ListAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, null, null, 1000, default)).Runs.Select(r => r.RunId));
    }

    [Fact]
    public async Task Runs_created_before_the_index_was_kept_are_indexed_by_the_first_listing()
    {
        var account = await azurite.AccountAsync();
        var table = account.Table(StorageNames.Tables.Runs);
        // As the app before the index left them: a run's row, nothing in the index, no mark that the index is complete.
        string[] earlier = [RunIds.Scheduled(At(2033, 1)), RunIds.Requested(At(2033, 2))];
        foreach (var id in earlier)
        {
            await table.AddEntityAsync(new TableEntity(StorageKeys.Encode(id), "run")
            {
                ["Trigger"] = id.StartsWith("sched-", StringComparison.Ordinal) ? "schedule" : "api", ["CreatedAt"] = DateTimeOffset.UtcNow, ["Planned"] = false,
            });
        }
        await table.DeleteEntityAsync("index", "~complete");
        var later = RunIds.Scheduled(At(2033, 3));
        Assert.True(await new RunStore(account).CreateAsync(later, "schedule", null, null, default));

        var runs = new RunStore(account);
        Assert.Equal([later, earlier[1], earlier[0]], await AllAsync(runs, 2033));
        Assert.Equal([later, earlier[0]], await AllAsync(runs, 2033, trigger: "schedule"));
        Assert.NotNull(await runs.GetAsync(earlier[0], default));
        // Once done, it is not done again: a run whose index row is gone stays unlisted.
        await table.DeleteEntityAsync("index", (await runs.ListAsync(At(2033, 1), At(2033, 2), null, null, 1, default)).Runs.Single().Key);
        Assert.Equal([later, earlier[1]], await AllAsync(new RunStore(account), 2033));
    }

    /// <summary>
    /// A creation that stops between its two writes (the second one fails, as a crash there would leave it) leaves no
    /// run that a listing misses: the index row is written first, so what is left is a row naming no run. Found in
    /// review: the other tests take a created run's row away afterwards, so they pass whichever write comes first.
    /// </summary>
    [Fact]
    public async Task A_creation_stopped_between_its_two_writes_leaves_no_run_a_listing_misses()
    {
        var account = await azurite.AccountAsync();
        var stop = new SecondWriteFails();
        var tables = new TableServiceClient(azurite.ConnectionString, StorageAccount.Configured(new TableClientOptions()));
        var stopping = new TableClientOptions();
        StorageAccount.Configured(stopping).AddPolicy(stop, Azure.Core.HttpPipelinePosition.PerCall);
        var runs = new RunStore(new StorageAccount(new TableServiceClient(azurite.ConnectionString, stopping), account.Queues, account.RawQueues, account.Blobs, "stopping"));
        var id = RunIds.Scheduled(At(2037, 1));

        await Assert.ThrowsAnyAsync<Exception>(() => runs.CreateAsync(id, "schedule", null, null, default));
        Assert.Equal(2, stop.Writes);
        var reader = new RunStore(new StorageAccount(tables, account.Queues, account.RawQueues, account.Blobs, "reader"));
        var listed = await AllAsync(reader, 2037);
        Assert.True(listed.Contains(id) || await reader.GetAsync(id, default) is null, $"{id} exists and is not listed");
    }

    /// <summary>Fails the second write (anything but a read) it sees, before it is sent.</summary>
    private sealed class SecondWriteFails : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        public int Writes;

        public override void OnSendingRequest(Azure.Core.HttpMessage message)
        {
            if (message.Request.Method == Azure.Core.RequestMethod.Get) return;
            if (Interlocked.Increment(ref Writes) == 2) throw new IOException("stopped before the second write");
        }
    }

    [Fact]
    public void An_index_key_has_nineteen_digits_a_bar_and_an_id()
    {
        Assert.True(RunStore.IsIndexKey("6843652343999999999|sched-20261207T041500"));
        Assert.False(RunStore.IsIndexKey("684365234399999999|sched-20261207T041500"));
        Assert.False(RunStore.IsIndexKey("684365234399999999a|x"));
        Assert.False(RunStore.IsIndexKey("6843652343999999999|"));
        Assert.False(RunStore.IsIndexKey("~complete"));
    }

    [Theory]
    [InlineData("run-20261207T041500-1a2b3c4d", "2026-12-07T04:15:00Z")]
    [InlineData("sched-20261207T041500", "2026-12-07T04:15:00Z")]
    [InlineData("sched-20261307T041500", null)]
    [InlineData("run-days", null)]
    [InlineData("held-20261207T041500", null)]
    public void A_run_id_names_the_second_it_stands_for(string runId, string? named) =>
        Assert.Equal(named is null ? null : DateTimeOffset.Parse(named, System.Globalization.CultureInfo.InvariantCulture), RunIds.NamedTime(runId));
}
