using CrmMetrics.Domain.Periods;
using CrmMetrics.Storage.Snapshots;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Snapshots;

/// <summary>A period's latest pointer records the calendar its key was read in, so a reader can tell when the key means other days since.</summary>
public class SnapshotCalendarTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task The_latest_pointer_records_the_calendar_of_the_version_it_points_to()
    {
        var store = new SnapshotStore(await azurite.AccountAsync());
        var fiscal = new PeriodCalendar(ReportingCalendar.Fiscal(4), TimeZoneInfo.Utc).Parse("2026-Q1", Grain.Quarter);
        var first = await store.ReserveVersionAsync(Grain.Quarter, "2026-Q1", "run-fiscal", default);
        Assert.True(await store.PromoteAsync(fiscal, first, "run-fiscal", DateTimeOffset.UtcNow, 0, default));
        Assert.Equal("fiscal:4", (await store.LatestAsync(Grain.Quarter, "2026-Q1", default))!.Calendar);

        // A version promoted without its calendar (as before it was recorded) leaves it unknown, not the last one's.
        var second = await store.ReserveVersionAsync(Grain.Quarter, "2026-Q1", "run-unknown", default);
        Assert.True(await store.PromoteAsync(Grain.Quarter, "2026-Q1", second, "run-unknown", DateTimeOffset.UtcNow, 0, default));
        Assert.Null((await store.LatestAsync(Grain.Quarter, "2026-Q1", default))!.Calendar);
    }
}
