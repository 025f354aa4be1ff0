using CrmMetrics.Domain.Aggregation;
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
/// The map step's <see cref="CustomerDirectory"/> read only the state feed's buckets of the last
/// <see cref="StateFeed.Lookback"/> (2 minutes) at each refresh, and it is refreshed only when a day is
/// aggregated. An instance that aggregated once, then again more than two minutes after a customer's
/// timeline or a complaint case changed (runs are 15 minutes apart), never saw the change, and cleared
/// the day with what it held (found in review). The app's services run in this process over a real
/// Azurite; the directory's clock is moved ahead rather than waited for.
/// </summary>
public class DirectoryCatchUpTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    /// <summary>The system clock, <see cref="Ahead"/> of it: the directory's next refresh comes that much later.</summary>
    private sealed class AheadClock : TimeProvider
    {
        public TimeSpan Ahead { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Ahead;
    }

    private static DateTimeOffset At(DateOnly day, int hour) => new(day.ToDateTime(new TimeOnly(hour, 0)), TimeSpan.Zero);

    private static async Task<DayPartial> StoredAsync(IServiceProvider services, DateOnly day) =>
        (await services.GetRequiredService<PartialStore>().ReadManyAsync([day], new FactLabels(), default)).Partials.Single();

    /// <summary>The app's map step, its directory on <paramref name="clock"/>.</summary>
    private static DayAggregation Aggregation(IServiceProvider services, TimeProvider clock) =>
        ActivatorUtilities.CreateInstance<DayAggregation>(services, ActivatorUtilities.CreateInstance<CustomerDirectory>(services, clock));

    [Fact]
    public Task A_segment_move_older_than_the_feed_lookback_reaches_an_instance_that_aggregated_before_it() =>
        SegmentMoveReachesAsync(new DateOnly(2034, 5, 5), "DC-SD", StateFeed.Lookback + TimeSpan.FromSeconds(15));

    /// <summary>The control: the same steps within the lookback passed before the fix too.</summary>
    [Fact]
    public Task A_segment_move_within_the_feed_lookback_reaches_an_instance_that_aggregated_before_it() =>
        SegmentMoveReachesAsync(new DateOnly(2034, 6, 5), "DC-SC", TimeSpan.Zero);

    private async Task SegmentMoveReachesAsync(DateOnly orderDay, string customer, TimeSpan later)
    {
        await using var services = await InProcessApp.StartAsync(azurite);
        var ingestion = services.GetRequiredService<FactIngestion>();
        var clock = new AheadClock();
        var aggregation = Aggregation(services, clock);
        await ingestion.StoreAsync(
        [
            new Fact { Id = $"{customer}-old", Type = FactType.CustomerAcquired, Time = At(orderDay.AddDays(15), 12), CustomerId = customer, Segment = "old", Region = "north" },
            new Fact { Id = $"{customer}-order", Type = FactType.Order, Time = At(orderDay, 9), CustomerId = customer, Channel = "web", Amount = 100m, Currency = "EUR" },
        ], default);
        // A run: the directory of this instance is loaded, the customer in "old".
        await aggregation.AggregateAsync(orderDay, default);
        Assert.Contains("segment:old", (await StoredAsync(services, orderDay)).Scopes.Keys);
        Assert.Null(await services.GetRequiredService<DirtyDayStore>().GetAsync(orderDay, default));

        // An earlier acquisition arrives (through any instance): the customer moves to "new", and the order's day is marked.
        await ingestion.StoreAsync([new Fact { Id = $"{customer}-new", Type = FactType.CustomerAcquired, Time = At(orderDay.AddDays(5), 12), CustomerId = customer, Segment = "new", Region = "north" }], default);
        Assert.NotNull(await services.GetRequiredService<DirtyDayStore>().GetAsync(orderDay, default));

        // The next run on this instance.
        clock.Ahead = later;
        await aggregation.AggregateAsync(orderDay, default);

        var scopes = (await StoredAsync(services, orderDay)).Scopes.Keys;
        var mark = await services.GetRequiredService<DirtyDayStore>().GetAsync(orderDay, default);
        Assert.True(scopes.Contains("segment:new") || mark is not null,
            $"day {orderDay} was cleared with scopes [{string.Join(", ", scopes.Where(s => s.StartsWith("segment:", StringComparison.Ordinal)))}]: the order counts in the customer's old segment");
    }

    /// <summary>Complaint cases come through the same refresh: an open that arrives after its resolve was aggregated gives the resolve its time.</summary>
    [Fact]
    public async Task A_case_opened_longer_ago_than_the_feed_lookback_reaches_an_instance_that_aggregated_its_resolve_before()
    {
        var day = new DateOnly(2034, 8, 8);
        await using var services = await InProcessApp.StartAsync(azurite);
        var ingestion = services.GetRequiredService<FactIngestion>();
        var clock = new AheadClock();
        var aggregation = Aggregation(services, clock);
        await ingestion.StoreAsync(
        [
            new Fact { Id = "dc-k-acq", Type = FactType.CustomerAcquired, Time = At(day.AddDays(-9), 9), CustomerId = "DC-K", Segment = "smb", Region = "north" },
            new Fact { Id = "dc-k-resolve", Type = FactType.ComplaintResolved, Time = At(day, 10), CustomerId = "DC-K", CaseId = "dc-k-case", Channel = "email" },
        ], default);
        // A run: the case is held with its resolve alone, which counts no resolution yet.
        await aggregation.AggregateAsync(day, default);
        Assert.Equal(0, (await StoredAsync(services, day)).Scopes["org"].Resolved);

        // The case's open arrives, and marks the resolve's day.
        await ingestion.StoreAsync([new Fact { Id = "dc-k-open", Type = FactType.ComplaintOpened, Time = At(day.AddDays(-1), 10), CustomerId = "DC-K", CaseId = "dc-k-case", Channel = "email", Severity = "high" }], default);
        Assert.NotNull(await services.GetRequiredService<DirtyDayStore>().GetAsync(day, default));

        // The next run on this instance, later than the lookback.
        clock.Ahead = StateFeed.Lookback + TimeSpan.FromSeconds(15);
        await aggregation.AggregateAsync(day, default);

        var resolved = (await StoredAsync(services, day)).Scopes["org"].Resolved;
        var mark = await services.GetRequiredService<DirtyDayStore>().GetAsync(day, default);
        Assert.True(resolved == 1 || mark is not null, $"day {day} was cleared with {resolved} resolutions: the resolve of a case whose open is stored counts none");
    }
}
