using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Storage.Aggregates;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Aggregates;

public class LifecycleLedgerTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static Dictionary<string, ActiveDelta> Deltas(long activated, long deactivated) =>
        new() { ["org"] = new ActiveDelta { Activated = activated, Deactivated = deactivated } };

    /// <summary>Writes the day's deltas from the row as it is now.</summary>
    private static async Task WriteAsync(LifecycleLedger ledger, DateOnly day, Dictionary<string, ActiveDelta> deltas) =>
        Assert.True(await ledger.TryWriteAsync(day, deltas, (await ledger.ReadAsync(day, default)).Version, default));

    [Fact]
    public async Task A_day_differs_until_its_deltas_are_written_and_again_when_they_change()
    {
        var ledger = new LifecycleLedger(await azurite.AccountAsync());
        var day = new DateOnly(2032, 3, 10);
        Assert.False((await ledger.ReadAsync(day, default)).Differs(new Dictionary<string, ActiveDelta>()));
        Assert.True((await ledger.ReadAsync(day, default)).Differs(Deltas(3, 1)));
        await WriteAsync(ledger, day, Deltas(3, 1));
        Assert.False((await ledger.ReadAsync(day, default)).Differs(Deltas(3, 1)));
        Assert.True((await ledger.ReadAsync(day, default)).Differs(Deltas(3, 2)));

        var active = await ledger.ActiveAsync(new DateOnly(2032, 3, 11), new DateOnly(2032, 3, 31), default);
        Assert.Equal(2, active.AtStart["org"]);

        // A day that lost all its changes keeps an empty row, which counts nothing.
        Assert.True((await ledger.ReadAsync(day, default)).Differs(new Dictionary<string, ActiveDelta>()));
        await WriteAsync(ledger, day, new Dictionary<string, ActiveDelta>());
        Assert.False((await ledger.ReadAsync(day, default)).Differs(new Dictionary<string, ActiveDelta>()));
        Assert.Equal(0, (await ledger.ActiveAsync(new DateOnly(2032, 3, 11), new DateOnly(2032, 3, 31), default)).AtStart.GetValueOrDefault("org"));
    }

    [Fact]
    public async Task Scopes_compare_in_the_order_they_are_written_whatever_their_case()
    {
        var ledger = new LifecycleLedger(await azurite.AccountAsync());
        var day = new DateOnly(2032, 3, 20);
        // Ordinal and culture order disagree on these: a row read back in culture order would always differ.
        var deltas = new Dictionary<string, ActiveDelta>
        {
            ["segment:SMB"] = new() { Activated = 1 },
            ["segment:enterprise"] = new() { Activated = 2 },
            ["region:Nord"] = new() { Deactivated = 1 },
            ["region:east"] = new() { Activated = 1 },
        };
        await WriteAsync(ledger, day, deltas);
        Assert.False((await ledger.ReadAsync(day, default)).Differs(deltas));
    }

    [Fact]
    public async Task Days_compared_and_written_at_the_same_time_keep_their_own_deltas()
    {
        var ledger = new LifecycleLedger(await azurite.AccountAsync());
        var days = Enumerable.Range(0, 20).Select(i => new DateOnly(2032, 5, 1).AddDays(i)).ToList();
        Assert.All(await Task.WhenAll(days.Select((day, i) => ledger.TryWriteAsync(day, Deltas(i + 1, 0), null, default))), Assert.True);

        var rows = await Task.WhenAll(days.Select(day => ledger.ReadAsync(day, default)));

        Assert.All(rows, (row, i) => Assert.False(row.Differs(Deltas(i + 1, 0))));
        Assert.All(rows, (row, i) => Assert.True(row.Differs(Deltas(i + 2, 0))));
        var active = await ledger.ActiveAsync(days[^1].AddDays(1), days[^1].AddDays(1), default);
        Assert.Equal(Enumerable.Range(1, 20).Sum(), active.AtStart["org"]);
    }

    [Fact]
    public async Task Of_two_writes_of_a_day_from_the_same_version_made_at_the_same_time_one_is_refused()
    {
        var ledger = new LifecycleLedger(await azurite.AccountAsync());
        var day = new DateOnly(2032, 7, 1);
        await WriteAsync(ledger, day, Deltas(1, 0));
        var seen = (await ledger.ReadAsync(day, default)).Version;

        var outcomes = await Task.WhenAll(ledger.TryWriteAsync(day, Deltas(5, 0), seen, default), ledger.TryWriteAsync(day, Deltas(7, 0), seen, default));

        Assert.Single(outcomes, stored => stored);
        Assert.False((await ledger.ReadAsync(day, default)).Differs(outcomes[0] ? Deltas(5, 0) : Deltas(7, 0)));
    }

    [Fact]
    public async Task A_row_is_written_only_from_the_version_it_was_read_at_and_its_version_moves_even_when_unchanged()
    {
        var ledger = new LifecycleLedger(await azurite.AccountAsync());
        var day = new DateOnly(2032, 8, 3);
        var none = new Dictionary<string, ActiveDelta>();

        var absent = await ledger.ReadAsync(day, default);
        Assert.Null(absent.Version);
        Assert.True(await ledger.TryWriteAsync(day, Deltas(1, 0), null, default));
        // Another aggregation that also saw no row is refused, and changes nothing.
        Assert.False(await ledger.TryWriteAsync(day, Deltas(2, 0), null, default));
        var first = await ledger.ReadAsync(day, default);
        Assert.False(first.Differs(Deltas(1, 0)));

        // The same deltas written again: the row's version moves, so one that read it before is refused.
        Assert.True(await ledger.TryWriteAsync(day, Deltas(1, 0), first.Version, default));
        var second = await ledger.ReadAsync(day, default);
        Assert.NotEqual(first.Version, second.Version);
        Assert.False(await ledger.TryWriteAsync(day, Deltas(4, 0), first.Version, default));
        Assert.False(second.Differs(Deltas(1, 0)));

        // A day left without changes keeps an empty row, which still has a version.
        Assert.True(await ledger.TryWriteAsync(day, none, second.Version, default));
        var empty = await ledger.ReadAsync(day, default);
        Assert.NotNull(empty.Version);
        Assert.False(empty.Differs(none));
        // and counts nothing: the active customers after the day are those before it.
        var active = await ledger.ActiveAsync(day, day, default);
        Assert.Equal(active.AtStart.GetValueOrDefault("org"), active.AtEnd.GetValueOrDefault("org"));
    }

    [Fact]
    public async Task Of_conditional_writes_made_at_the_same_time_only_the_one_whose_row_changed_is_refused()
    {
        var ledger = new LifecycleLedger(await azurite.AccountAsync());
        var days = Enumerable.Range(0, 6).Select(i => new DateOnly(2032, 9, 1).AddDays(i)).ToList();
        var seen = await Task.WhenAll(days.Select(day => ledger.ReadAsync(day, default)));
        await WriteAsync(ledger, days[2], Deltas(7, 7)); // another aggregation, since

        var outcomes = await Task.WhenAll(days.Select((day, i) => ledger.TryWriteAsync(day, Deltas(i + 1, 0), seen[i].Version, default)));

        Assert.Equal([true, true, false, true, true, true], outcomes);
        for (var i = 0; i < days.Count; i++)
        {
            Assert.False((await ledger.ReadAsync(days[i], default)).Differs(i == 2 ? Deltas(7, 7) : Deltas(i + 1, 0)));
        }
    }
}
