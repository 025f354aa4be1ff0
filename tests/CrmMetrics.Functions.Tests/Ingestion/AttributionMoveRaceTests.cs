using CrmMetrics.Domain.Facts;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Aggregates;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Ingestion;

/// <summary>
/// A customer's segment moves (an earlier acquisition arrives late) while a day holding their order is
/// being aggregated with the old timeline. That day had no stored partial when ingestion listed the
/// aggregated days before the move, so the listing alone missed it; it must still end up in the new
/// segment after the next run. The map step's halves and ingestion run in the order under test, over a
/// real Azurite, with the app's services in this process.
/// </summary>
public class AttributionMoveRaceTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static DateTimeOffset At(DateOnly day, int hour) => new(day.ToDateTime(new TimeOnly(hour, 0)), TimeSpan.Zero);

    private static Fact Acquired(string id, DateOnly day, string customer, string segment) =>
        new() { Id = id, Type = FactType.CustomerAcquired, Time = At(day, 12), CustomerId = customer, Segment = segment, Region = "north" };

    private static Fact Order(string id, DateOnly day, string customer) =>
        new() { Id = id, Type = FactType.Order, Time = At(day, 9), CustomerId = customer, Channel = "web", Amount = 100m, Currency = "EUR" };

    /// <summary>A customer acquired in "old" with an order on <paramref name="orderDay"/> (not aggregated yet), and the aggregation of that day begun with that timeline.</summary>
    private static async Task<StartedDay> BeginWithOldSegmentAsync(IServiceProvider services, string customer, DateOnly orderDay)
    {
        await services.GetRequiredService<FactIngestion>().StoreAsync(
            [Acquired($"{customer}-old", orderDay.AddDays(15), customer, "old"), Order($"{customer}-order", orderDay, customer)], default);
        var begun = await services.GetRequiredService<DayAggregation>().BeginAsync(orderDay, default);
        Assert.Contains("segment:old", begun.Partial.Scopes.Keys);
        return begun;
    }

    /// <summary>What a run does with the days: every dirty day aggregated.</summary>
    private static async Task RunAsync(IServiceProvider services)
    {
        var aggregation = services.GetRequiredService<DayAggregation>();
        foreach (var dirty in await services.GetRequiredService<DirtyDayStore>().ListAsync(default)) await aggregation.AggregateAsync(dirty.Day, default);
    }

    private static async Task<IReadOnlyCollection<string>> StoredScopesAsync(IServiceProvider services, DateOnly day) =>
        (await services.GetRequiredService<PartialStore>().ReadManyAsync([day], new FactLabels(), default)).Partials.Single().Scopes.Keys;

    [Fact]
    public async Task A_day_aggregated_with_the_old_segment_that_stores_its_partial_after_the_move_is_aggregated_again()
    {
        var orderDay = new DateOnly(2031, 6, 5);
        await using var services = await InProcessApp.StartAsync(azurite);
        var begun = await BeginWithOldSegmentAsync(services, "AR-1", orderDay);

        // The earlier acquisition moves the customer to "new"; the day has no stored partial yet, so
        // the listing of aggregated days before the move does not name it.
        await services.GetRequiredService<FactIngestion>().StoreAsync([Acquired("AR-1-new", orderDay.AddDays(5), "AR-1", "new")], default);
        await services.GetRequiredService<DayAggregation>().FinishAsync(begun, default);

        // The aggregation was in flight with the old timeline: its clear must not have taken the day's mark.
        Assert.NotNull(await services.GetRequiredService<DirtyDayStore>().GetAsync(orderDay, default));
        await RunAsync(services);
        var scopes = await StoredScopesAsync(services, orderDay);
        Assert.Contains("segment:new", scopes);
        Assert.DoesNotContain("segment:old", scopes);
    }

    [Fact]
    public async Task A_day_aggregated_with_the_old_segment_that_stores_its_partial_between_the_listing_and_the_timeline_write_is_aggregated_again()
    {
        var orderDay = new DateOnly(2031, 7, 5);
        await using var services = await InProcessApp.StartAsync(azurite);
        var begun = await BeginWithOldSegmentAsync(services, "AR-2", orderDay);
        var ingestion = services.GetRequiredService<FactIngestion>();
        var finished = false;
        // The aggregation stores its partial and clears the day's mark after the aggregated days were
        // listed and before the customer's new timeline is written.
        ingestion.AttributionMoveListed = async () =>
        {
            if (finished) return;
            finished = true;
            await services.GetRequiredService<DayAggregation>().FinishAsync(begun, default);
        };

        await ingestion.StoreAsync([Acquired("AR-2-new", orderDay.AddDays(5), "AR-2", "new")], default);

        Assert.True(finished);
        Assert.Contains("segment:old", await StoredScopesAsync(services, orderDay));
        Assert.NotNull(await services.GetRequiredService<DirtyDayStore>().GetAsync(orderDay, default));
        await RunAsync(services);
        var scopes = await StoredScopesAsync(services, orderDay);
        Assert.Contains("segment:new", scopes);
        Assert.DoesNotContain("segment:old", scopes);
    }
}
