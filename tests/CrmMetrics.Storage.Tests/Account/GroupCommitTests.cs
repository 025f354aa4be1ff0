using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Tests.Account;

public class GroupCommitTests
{
    /// <summary>
    /// A storage call whose first run waits until released, so the callers that come meanwhile
    /// gather into the next call. Records every call's items; the body gets the call's number (1-based).
    /// </summary>
    private sealed class FirstCallHeld
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<List<int>> Calls { get; } = [];
        public Task Started => _started.Task;
        public void Release() => _release.SetResult();

        public Func<List<int>, Task<T>> Around<T>(Func<List<int>, int, T> body) => async items =>
        {
            int number;
            lock (Calls)
            {
                Calls.Add(items);
                number = Calls.Count;
            }
            if (number == 1)
            {
                _started.SetResult();
                await _release.Task;
            }
            return body(items, number);
        };
    }

    [Fact]
    public async Task Callers_that_come_while_a_write_is_in_flight_share_the_next_write_and_return_once_it_is_done()
    {
        var held = new FirstCallHeld();
        var group = new GroupCommit<int>(held.Around((_, _) => true));

        var first = group.AddAsync([1], default);
        await held.Started;
        var later = Enumerable.Range(2, 5).Select(i => group.AddAsync([i, i * 10], default)).ToList();
        Assert.All(later, t => Assert.False(t.IsCompleted));
        Assert.False(first.IsCompleted);

        held.Release();
        await first;
        await Task.WhenAll(later);
        Assert.Equal(2, held.Calls.Count);
        Assert.Equal([1], held.Calls[0]);
        Assert.Equal([2, 3, 4, 5, 6, 20, 30, 40, 50, 60], held.Calls[1].Order());
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
        var held = new FirstCallHeld();
        var group = new GroupCall<int, IReadOnlyDictionary<int, string>>(held.Around<IReadOnlyDictionary<int, string>>((items, _) => items.ToDictionary(i => i, i => $"row {i}")));

        var first = group.AddAsync([1], default);
        await held.Started;
        var later = Enumerable.Range(2, 4).Select(i => group.AddAsync([i], default)).ToList();
        held.Release();

        Assert.Equal("row 1", (await first)[1]);
        for (var i = 0; i < later.Count; i++) Assert.Equal($"row {i + 2}", (await later[i])[i + 2]);
        Assert.Equal(2, held.Calls.Count);
        Assert.Equal([2, 3, 4, 5], held.Calls[1].Order());
    }

    [Fact]
    public async Task When_a_shared_call_fails_each_caller_is_tried_alone_and_only_the_bad_one_fails()
    {
        var held = new FirstCallHeld();
        var group = new GroupCall<int, int>(held.Around((items, _) =>
            items.Contains(13) ? throw new Azure.RequestFailedException(400, "item 13 is refused") : items.Sum()));

        var first = group.AddAsync([1], default);
        await held.Started;
        var good = group.AddAsync([2, 3], default);
        var bad = group.AddAsync([13], default);
        var alsoGood = group.AddAsync([4], default);
        held.Release();

        Assert.Equal(1, await first);
        Assert.Equal(5, await good);
        Assert.Equal(4, await alsoGood);
        Assert.Equal("item 13 is refused", (await Assert.ThrowsAsync<Azure.RequestFailedException>(() => bad)).Message);
    }

    [Fact]
    public async Task When_storage_fails_a_shared_call_its_callers_get_the_failure_without_calls_of_their_own()
    {
        var held = new FirstCallHeld();
        var group = new GroupCall<int, int>(held.Around((items, number) =>
            number == 1 ? items.Sum() : throw new Azure.RequestFailedException(503, "server busy")));

        var first = group.AddAsync([1], default);
        await held.Started;
        var later = new[] { group.AddAsync([2], default), group.AddAsync([3], default) };
        held.Release();

        Assert.Equal(1, await first);
        foreach (var call in later) Assert.Equal(503, (await Assert.ThrowsAsync<Azure.RequestFailedException>(() => call)).Status);
        Assert.Equal(2, held.Calls.Count); // the first call and one shared call: an outage is not tried once per caller
    }
}
