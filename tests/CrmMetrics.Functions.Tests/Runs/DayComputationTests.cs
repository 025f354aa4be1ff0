using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Aggregates;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// The map step's computing alone (<see cref="DayAggregation.ComputeAsync"/>, which the aggregate
/// benchmark times apart from the bookkeeping) writes nothing, and gives the very partial the whole
/// step then stores. The app's services run in this process over a real Azurite.
/// </summary>
public class DayComputationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly DateOnly Day = new(2031, 3, 14);

    private static DateTimeOffset At(int hour) => new(Day.ToDateTime(new TimeOnly(hour, 0)), TimeSpan.Zero);

    [Fact]
    public async Task Computing_a_day_writes_nothing_and_gives_the_partial_the_map_step_stores()
    {
        await using var services = await InProcessApp.StartAsync(azurite);
        Fact[] facts =
        [
            new() { Id = "dc-acq", Type = FactType.CustomerAcquired, Time = At(8), CustomerId = "DC-1", Segment = "smb", Region = "north" },
            new() { Id = "dc-o1", Type = FactType.Order, Time = At(9), CustomerId = "DC-1", Channel = "web", Amount = 120m, Currency = "EUR" },
            // A customer with no known acquisition: attributed to the unknown segment, and recorded as such only by the whole step.
            new() { Id = "dc-o2", Type = FactType.Order, Time = At(10), CustomerId = "DC-2", Channel = "web", Amount = 30m, Currency = "EUR" },
        ];
        await services.GetRequiredService<FactIngestion>().StoreAsync(facts, default);
        var aggregation = services.GetRequiredService<DayAggregation>();
        var dirtyDays = services.GetRequiredService<DirtyDayStore>();
        var partials = services.GetRequiredService<PartialStore>();
        var stalePeriods = services.GetRequiredService<StalePeriodStore>();
        var customers = services.GetRequiredService<CustomerStore>();
        var ledger = services.GetRequiredService<LifecycleLedger>();
        await services.GetRequiredService<CustomerDirectory>().RefreshAsync(default);

        var computed = await aggregation.ComputeAsync(Day, default);

        Assert.Equal(3, computed.Partial.FactCount);
        Assert.Equal(["DC-2"], computed.Unresolved);
        Assert.NotNull(await dirtyDays.GetAsync(Day, default));
        Assert.Empty((await partials.ReadManyAsync([Day], new FactLabels(), default)).Partials);
        Assert.Empty(await stalePeriods.ListAsync(default));
        Assert.Null(await customers.GetTimelineAsync("DC-2", default));
        Assert.True((await ledger.ReadAsync(Day, default)).Differs(computed.Partial.ActiveDeltas)); // the acquisition's delta is not stored yet

        var stored = await aggregation.AggregateAsync(Day, default);

        // Byte for byte, the partial the computing gave is the one the whole step stored.
        Assert.Equal(PartialStore.Encode(computed.Partial).ToArray(), PartialStore.Encode(stored).ToArray());
        Assert.Equal(Describe(stored), Describe(Assert.Single((await partials.ReadManyAsync([Day], new FactLabels(), default)).Partials)));
        Assert.False((await ledger.ReadAsync(Day, default)).Differs(computed.Partial.ActiveDeltas));
        Assert.Null(await dirtyDays.GetAsync(Day, default));
        Assert.Contains("2031-03", (await stalePeriods.ListAsync(default)).Select(s => s.Key));
        Assert.NotNull(await customers.GetTimelineAsync("DC-2", default));
    }

    /// <summary>What a partial says, as text: its facts, and every scope with its counts and totals.</summary>
    private static string Describe(DayPartial partial) =>
        $"{partial.Day} {partial.FactCount}: " + string.Join("; ", partial.Scopes.OrderBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => $"{s.Key} facts={s.Value.FactCount} orders={s.Value.Orders} revenue={s.Value.Revenue}"));
}
