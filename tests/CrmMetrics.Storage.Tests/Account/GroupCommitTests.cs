using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Tests.Account;

public class GroupCommitTests
{
    [Fact]
    public async Task Callers_that_come_while_a_write_is_in_flight_share_the_next_write_and_return_once_it_is_done()
    {
        var writes = new List<List<int>>();
        var firstStarted = new TaskCompletionSource();
        var releaseFirst = new TaskCompletionSource();
        var group = new GroupCommit<int>(async items =>
        {
            lock (writes) writes.Add(items);
            if (writes.Count == 1)
            {
                firstStarted.SetResult();
                await releaseFirst.Task;
            }
        });

        var first = group.AddAsync([1], default);
        await firstStarted.Task;
        var later = Enumerable.Range(2, 5).Select(i => group.AddAsync([i, i * 10], default)).ToList();
        Assert.All(later, t => Assert.False(t.IsCompleted));
        Assert.False(first.IsCompleted);

        releaseFirst.SetResult();
        await first;
        await Task.WhenAll(later);
        Assert.Equal(2, writes.Count);
        Assert.Equal([1], writes[0]);
        Assert.Equal([2, 3, 4, 5, 6, 20, 30, 40, 50, 60], writes[1].Order());
    }

    [Fact]
    public async Task A_failed_write_fails_its_callers_and_the_next_callers_get_a_write_of_their_own()
    {
        var fail = true;
        var written = new List<int>();
        var group = new GroupCommit<int>(items =>
        {
            if (fail) throw new InvalidOperationException("storage said no");
            written.AddRange(items);
            return Task.CompletedTask;
        });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => group.AddAsync([1], default));
        Assert.Equal("storage said no", error.Message);
        fail = false;
        await group.AddAsync([2], default);
        Assert.Equal([2], written);
    }

    [Fact]
    public async Task Nothing_to_write_returns_at_once_without_a_write()
    {
        var writes = 0;
        var group = new GroupCommit<int>(_ => { writes++; return Task.CompletedTask; });
        await group.AddAsync([], default);
        Assert.Equal(0, writes);
    }

    [Fact]
    public async Task Callers_grouped_into_one_call_all_get_its_result()
    {
        var calls = new List<List<int>>();
        var firstStarted = new TaskCompletionSource();
        var releaseFirst = new TaskCompletionSource();
        var group = new GroupCall<int, IReadOnlyDictionary<int, string>>(async items =>
        {
            lock (calls) calls.Add(items);
            if (calls.Count == 1)
            {
                firstStarted.SetResult();
                await releaseFirst.Task;
            }
            return items.ToDictionary(i => i, i => $"row {i}");
        });

        var first = group.AddAsync([1], default);
        await firstStarted.Task;
        var later = Enumerable.Range(2, 4).Select(i => group.AddAsync([i], default)).ToList();
        releaseFirst.SetResult();

        Assert.Equal("row 1", (await first)[1]);
        for (var i = 0; i < later.Count; i++) Assert.Equal($"row {i + 2}", (await later[i])[i + 2]);
        Assert.Equal(2, calls.Count);
        Assert.Equal([2, 3, 4, 5], calls[1].Order());
    }

    [Fact]
    public async Task When_a_shared_call_fails_each_caller_is_tried_alone_and_only_the_bad_one_fails()
    {
        var firstStarted = new TaskCompletionSource();
        var releaseFirst = new TaskCompletionSource();
        var calls = 0;
        var group = new GroupCall<int, int>(async items =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                firstStarted.SetResult();
                await releaseFirst.Task;
            }
            if (items.Contains(13)) throw new Azure.RequestFailedException(400, "item 13 is refused");
            return items.Sum();
        });

        var first = group.AddAsync([1], default);
        await firstStarted.Task;
        var good = group.AddAsync([2, 3], default);
        var bad = group.AddAsync([13], default);
        var alsoGood = group.AddAsync([4], default);
        releaseFirst.SetResult();

        Assert.Equal(1, await first);
        Assert.Equal(5, await good);
        Assert.Equal(4, await alsoGood);
        Assert.Equal("item 13 is refused", (await Assert.ThrowsAsync<Azure.RequestFailedException>(() => bad)).Message);
    }

    [Fact]
    public async Task When_storage_fails_a_shared_call_its_callers_get_the_failure_without_calls_of_their_own()
    {
        var firstStarted = new TaskCompletionSource();
        var releaseFirst = new TaskCompletionSource();
        var calls = 0;
        var group = new GroupCall<int, int>(async items =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                firstStarted.SetResult();
                await releaseFirst.Task;
                return items.Sum();
            }
            throw new Azure.RequestFailedException(503, "server busy");
        });

        var first = group.AddAsync([1], default);
        await firstStarted.Task;
        var later = new[] { group.AddAsync([2], default), group.AddAsync([3], default) };
        releaseFirst.SetResult();

        Assert.Equal(1, await first);
        foreach (var call in later) Assert.Equal(503, (await Assert.ThrowsAsync<Azure.RequestFailedException>(() => call)).Status);
        Assert.Equal(2, calls); // the first call and one shared call: an outage is not tried once per caller
    }
}
