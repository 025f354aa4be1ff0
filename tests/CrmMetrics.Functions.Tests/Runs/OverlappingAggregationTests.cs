using CrmMetrics.Domain.Facts;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Aggregates;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// Two aggregations of one day that overlap (a slow one, or one that saw an older mark) never leave
/// the older result stored behind a cleared day: the map step's two halves are run in the order under
/// test, over a real Azurite, with the app's services in this process. (An aggregation that began
/// before another stored its partial is refused at its partial; one whose ledger row another wrote
/// since it began, at its row.)
/// </summary>
public class OverlappingAggregationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static DateTimeOffset At(DateOnly day, int hour) => new(day.ToDateTime(new TimeOnly(hour, 0)), TimeSpan.Zero);

    private readonly LogCapture _logs = new();

    private Task<ServiceProvider> StartAsync() => InProcessApp.StartAsync(azurite, _logs);

    private static Fact Order(DateOnly day, string id, int hour, decimal amount) =>
        new() { Id = id, Type = FactType.Order, Time = At(day, hour), CustomerId = "OV-1", Channel = "web", Amount = amount, Currency = "EUR" };

    private static async Task<long?> StoredFactCountAsync(IServiceProvider services, DateOnly day) =>
        (await services.GetRequiredService<PartialStore>().ReadManyAsync([day], new FactLabels(), default)).Partials.SingleOrDefault()?.FactCount;

    [Fact]
    public async Task An_aggregation_that_began_before_another_stored_its_partial_stores_nothing_and_marks_the_day()
    {
        var day = new DateOnly(2031, 4, 20);
        await using var services = await StartAsync();
        var ingestion = services.GetRequiredService<FactIngestion>();
        var aggregation = services.GetRequiredService<DayAggregation>();
        var dirtyDays = services.GetRequiredService<DirtyDayStore>();
        await ingestion.StoreAsync([Order(day, "ov-o1", 9, 10m)], default);

        var slow = await aggregation.BeginAsync(day, default);
        await ingestion.StoreAsync([Order(day, "ov-o2", 10, 20m)], default);
        var fast = await aggregation.BeginAsync(day, default);
        Assert.Equal(1, slow.Partial.FactCount);
        Assert.Equal(2, fast.Partial.FactCount);

        await aggregation.FinishAsync(fast, default);
        Assert.Equal(2, await StoredFactCountAsync(services, day));
        Assert.Null(await dirtyDays.GetAsync(day, default));

        await aggregation.FinishAsync(slow, default);
        // The slow one's older partial did not replace the newer one; had it, only its clear would
        // have marked the day again, and a crash before that clear would have left the fact out.
        Assert.Equal(2, await StoredFactCountAsync(services, day));
        Assert.NotNull(await dirtyDays.GetAsync(day, default));
        // The log names the day as an operator searches for it, whatever the process's culture.
        Assert.True(_logs.Contains("Day 2031-04-20: another aggregation wrote its partial while this one ran"), _logs.Tail());

        await aggregation.AggregateAsync(day, default);
        Assert.Equal(2, await StoredFactCountAsync(services, day));
        Assert.Null(await dirtyDays.GetAsync(day, default));
    }

    [Fact]
    public async Task When_the_older_aggregation_stores_first_the_newer_one_is_refused_and_the_day_stays_dirty()
    {
        var day = new DateOnly(2031, 4, 21);
        await using var services = await StartAsync();
        var ingestion = services.GetRequiredService<FactIngestion>();
        var aggregation = services.GetRequiredService<DayAggregation>();
        var dirtyDays = services.GetRequiredService<DirtyDayStore>();
        await ingestion.StoreAsync([Order(day, "ov-o3", 9, 10m)], default);

        var older = await aggregation.BeginAsync(day, default);
        await ingestion.StoreAsync([Order(day, "ov-o4", 10, 20m)], default);
        var newer = await aggregation.BeginAsync(day, default);

        await aggregation.FinishAsync(older, default);
        Assert.Equal(1, await StoredFactCountAsync(services, day));
        Assert.NotNull(await dirtyDays.GetAsync(day, default)); // marked again while it ran: not cleared

        await aggregation.FinishAsync(newer, default);
        Assert.Equal(1, await StoredFactCountAsync(services, day));
        Assert.NotNull(await dirtyDays.GetAsync(day, default));

        await aggregation.AggregateAsync(day, default);
        Assert.Equal(2, await StoredFactCountAsync(services, day));
        Assert.Null(await dirtyDays.GetAsync(day, default));
    }

    [Fact]
    public async Task A_day_left_without_facts_is_not_removed_over_a_partial_stored_since()
    {
        var day = new DateOnly(2031, 4, 22);
        await using var services = await StartAsync();
        var aggregation = services.GetRequiredService<DayAggregation>();
        var partials = services.GetRequiredService<PartialStore>();
        var dirtyDays = services.GetRequiredService<DirtyDayStore>();
        await services.GetRequiredService<FactIngestion>().StoreAsync([Order(day, "ov-o5", 9, 10m)], default);
        await aggregation.AggregateAsync(day, default);
        await dirtyDays.MarkAsync([day], default);

        // An aggregation that read the stored partial's version, then another that stored one since.
        var begun = await aggregation.BeginAsync(day, default);
        var refreshed = await aggregation.BeginAsync(day, default);
        await aggregation.FinishAsync(refreshed, default);
        var emptied = begun with { Partial = new CrmMetrics.Domain.Aggregation.DayPartial { Day = day, Orders = new CrmMetrics.Domain.Aggregation.OrderCells(new FactLabels()) } };

        await aggregation.FinishAsync(emptied, default);

        Assert.Equal(1, await StoredFactCountAsync(services, day));
        Assert.NotNull(await partials.VersionAsync(day, default));
        Assert.NotNull(await dirtyDays.GetAsync(day, default));
    }

    [Fact]
    public async Task A_ledger_row_another_aggregation_wrote_after_this_one_began_is_not_replaced()
    {
        var day = new DateOnly(2031, 4, 23);
        await using var services = await StartAsync();
        var aggregation = services.GetRequiredService<DayAggregation>();
        var ledger = services.GetRequiredService<LifecycleLedger>();
        var dirtyDays = services.GetRequiredService<DirtyDayStore>();
        await services.GetRequiredService<FactIngestion>().StoreAsync([Acquired(day, "ov-a1", "OV-2")], default);

        var begun = await aggregation.BeginAsync(day, default);
        Assert.Null(begun.Ledger.Version);
        // Another aggregation's row lands after this one began (its partial stored before this one
        // read the partial's version, so this one's partial, read later, holds every fact of that one).
        var other = new Dictionary<string, CrmMetrics.Domain.Aggregation.ActiveDelta> { ["org"] = new() { Activated = 5 } };
        Assert.True(await ledger.TryWriteAsync(day, other, null, default));
        // Ingestion's mark goes (as the other aggregation's clear would take it), so the refusal's own mark is what stays.
        Assert.True(await dirtyDays.ClearAsync((await dirtyDays.GetAsync(day, default))!, default));

        await aggregation.FinishAsync(begun, default);

        // The row is not replaced and the day is marked, though the newer partial went in.
        Assert.False((await ledger.ReadAsync(day, default)).Differs(other));
        Assert.Equal(1, await StoredFactCountAsync(services, day));
        Assert.NotNull(await dirtyDays.GetAsync(day, default));
        await aggregation.AggregateAsync(day, default);
        Assert.False((await ledger.ReadAsync(day, default)).Differs(begun.Partial.ActiveDeltas));
        Assert.Null(await dirtyDays.GetAsync(day, default));
    }

    [Fact]
    public async Task An_aggregation_that_saw_no_facts_leaves_the_ledger_row_of_one_that_saw_an_acquisition()
    {
        var day = new DateOnly(2031, 4, 24);
        await using var services = await StartAsync();
        var aggregation = services.GetRequiredService<DayAggregation>();
        var ledger = services.GetRequiredService<LifecycleLedger>();
        var dirtyDays = services.GetRequiredService<DirtyDayStore>();
        await dirtyDays.MarkAsync([day], default);

        var empty = await aggregation.BeginAsync(day, default);
        await services.GetRequiredService<FactIngestion>().StoreAsync([Acquired(day, "ov-a2", "OV-3")], default);
        var acquired = await aggregation.BeginAsync(day, default);
        Assert.Equal(0, empty.Partial.FactCount);
        Assert.NotEmpty(acquired.Partial.ActiveDeltas);
        await aggregation.FinishAsync(acquired, default);
        Assert.Null(await dirtyDays.GetAsync(day, default));

        await aggregation.FinishAsync(empty, default);

        // The empty one would have removed the row; the acquisition stays counted.
        Assert.False((await ledger.ReadAsync(day, default)).Differs(acquired.Partial.ActiveDeltas));
        Assert.Equal(1, await StoredFactCountAsync(services, day));
        Assert.NotNull(await dirtyDays.GetAsync(day, default));
    }

    [Fact]
    public async Task Every_stored_partial_moves_the_ledger_rows_version_even_when_the_row_is_unchanged()
    {
        // An older aggregation that stored its partial, then paused before its ledger row, must not be
        // able to write that row after a newer one stored its partial and cleared the day, even when
        // the newer one's row says the same as the one both read.
        var day = new DateOnly(2031, 4, 25);
        await using var services = await StartAsync();
        var aggregation = services.GetRequiredService<DayAggregation>();
        var ledger = services.GetRequiredService<LifecycleLedger>();
        var dirtyDays = services.GetRequiredService<DirtyDayStore>();
        await services.GetRequiredService<FactIngestion>().StoreAsync([Acquired(day, "ov-a6", "OV-6")], default);
        await aggregation.AggregateAsync(day, default);
        var before = await ledger.ReadAsync(day, default);
        Assert.NotNull(before.Deltas);
        await dirtyDays.MarkAsync([day], default);

        await aggregation.AggregateAsync(day, default);

        var after = await ledger.ReadAsync(day, default);
        Assert.NotEqual(before.Version, after.Version);
        Assert.Equal(before.Deltas, after.Deltas);
        Assert.Null(await dirtyDays.GetAsync(day, default));
    }

    private static Fact Acquired(DateOnly day, string id, string customer) =>
        new() { Id = id, Type = FactType.CustomerAcquired, Time = At(day, 8), CustomerId = customer, Segment = "smb", Region = "north" };
}
