using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Tests.Account;

public class PartitionTurnsTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_partitions_next_caller_waits_until_the_turn_before_it_ends()
    {
        var turns = new PartitionTurns();
        var first = await turns.EnterAsync("c01", default);
        var second = turns.EnterAsync("c01", default);
        Assert.False(second.IsCompleted);

        first.Dispose();
        using var next = await second.WaitAsync(Deadline);
    }

    [Fact]
    public async Task Other_partitions_do_not_wait_and_a_turn_ended_twice_frees_one_caller()
    {
        var turns = new PartitionTurns();
        var held = await turns.EnterAsync("c01", default);
        using (await turns.EnterAsync("c02", default).WaitAsync(Deadline))
        {
        }
        held.Dispose();
        held.Dispose();
        using var second = await turns.EnterAsync("c01", default).WaitAsync(Deadline);
        // A second Release of the gate would have thrown (it admits one caller), or let this caller in.
        Assert.False(turns.EnterAsync("c01", default).IsCompleted);
    }

    [Fact]
    public async Task A_caller_that_gives_up_waiting_does_not_take_the_turn()
    {
        var turns = new PartitionTurns();
        var held = await turns.EnterAsync("k03", default);
        using var cancel = new CancellationTokenSource();
        var waiting = turns.EnterAsync("k03", cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        held.Dispose();
        using var next = await turns.EnterAsync("k03", default).WaitAsync(Deadline);
    }
}
