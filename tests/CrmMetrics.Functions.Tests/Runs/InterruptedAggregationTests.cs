using CrmMetrics.Domain.Facts;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Aggregates;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// A map step that stops after its partial went in (a crash, storage failing) leaves the day dirty
/// whenever that partial needs another aggregation: the map step's halves run over a real Azurite with
/// the app's services in this process, and the ledger's table is taken away to make the step fail
/// after its partial.
/// </summary>
public class InterruptedAggregationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static DateTimeOffset At(DateOnly day, int hour) => new(day.ToDateTime(new TimeOnly(hour, 0)), TimeSpan.Zero);

    [Fact]
    public async Task A_day_without_a_mark_whose_customer_the_directory_missed_is_marked_before_its_partial_goes_in()
    {
        var day = new DateOnly(2031, 5, 12);
        await using var services = await InProcessApp.StartAsync(azurite);
        var ingestion = services.GetRequiredService<FactIngestion>();
        var dirtyDays = services.GetRequiredService<DirtyDayStore>();
        var aggregation = services.GetRequiredService<Functions.Runs.DayAggregation>();
        var account = services.GetRequiredService<StorageAccount>();
        await ingestion.StoreAsync([new Fact { Id = "ia-o1", Type = FactType.Order, Time = At(day, 9), CustomerId = "IA-1", Channel = "web", Amount = 10m, Currency = "EUR" }], default);
        // Aggregated without a mark (a redelivered message, a day of an older format redone).
        await ClearMarkAsync(dirtyDays, day);
        var begun = await aggregation.BeginAsync(day, default);
        Assert.Equal(["IA-1"], begun.Unresolved);
        Assert.Contains(begun.Partial.Scopes.Keys, scope => scope.Contains("unknown", StringComparison.Ordinal));
        // The customer's acquisition is stored after the directory was read, and its marks are lost
        // (as when its feed entry was): only the step's own lookup can tell the day needs another pass.
        await ingestion.StoreAsync([new Fact { Id = "ia-a1", Type = FactType.CustomerAcquired, Time = At(day.AddDays(-1), 8), CustomerId = "IA-1", Segment = "smb", Region = "north" }], default);
        await ClearMarkAsync(dirtyDays, day);

        await account.Tables.DeleteTableAsync(StorageNames.Tables.LifecycleLedger);
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => aggregation.FinishAsync(begun, default));
        }
        finally
        {
            await account.Tables.CreateTableIfNotExistsAsync(StorageNames.Tables.LifecycleLedger);
        }

        // The partial with the customer in the unknown segment went in; the day is marked, so it does not stay so.
        Assert.Equal(1, (await services.GetRequiredService<PartialStore>().ReadManyAsync([day], new FactLabels(), default)).Partials.Single().FactCount);
        Assert.NotNull(await dirtyDays.GetAsync(day, default));
        var again = await aggregation.AggregateAsync(day, default);
        Assert.DoesNotContain(again.Scopes.Keys, scope => scope.Contains("unknown", StringComparison.Ordinal));
        Assert.Null(await dirtyDays.GetAsync(day, default));
    }

    private static async Task ClearMarkAsync(DirtyDayStore dirtyDays, DateOnly day)
    {
        if (await dirtyDays.GetAsync(day, default) is { } mark) Assert.True(await dirtyDays.ClearAsync(mark, default));
    }
}
