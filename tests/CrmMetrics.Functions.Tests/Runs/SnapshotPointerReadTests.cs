using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Snapshots;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// <c>GET /api/snapshots?period=</c> takes its ETag and <c>calendarChange</c> from a cached read of the period's latest
/// pointer; its rows are read where that same pointer says, so an answer cached under the ETag never pairs them with a
/// version promoted since (found in review: the rows came from a second, fresh read of the pointer).
/// </summary>
public class SnapshotPointerReadTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_read_given_the_pointer_behind_an_answer_reads_the_version_it_names_and_without_one_the_latest()
    {
        await using var services = await InProcessApp.StartAsync(azurite);
        var snapshots = services.GetRequiredService<SnapshotStore>();
        var reader = services.GetRequiredService<SnapshotReader>();
        var period = new PeriodCalendar(ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse("2031-05", Grain.Month);
        // Two runs, two versions.
        async Task PromoteAsync(string runId, double revenue)
        {
            var version = await snapshots.ReserveVersionAsync(period.Grain, period.Key, runId, default);
            var row = SnapshotRow.From(IndicatorCatalog.Find("com.revenue")!, "org", period, new IndicatorValue(revenue, 1))
                with { Version = version, RunId = runId, ComputedAt = DateTimeOffset.UtcNow };
            await snapshots.WriteAsync([row], null, default);
            Assert.True(await snapshots.PromoteAsync(period, version, runId, DateTimeOffset.UtcNow, 1, default));
        }

        await PromoteAsync("pointer-read-1", 100);
        var seen = await snapshots.LatestAsync(period.Grain, period.Key, default);
        await PromoteAsync("pointer-read-2", 200);
        Assert.Equal(seen!.Version + 1, (await snapshots.LatestAsync(period.Grain, period.Key, default))!.Version);

        var answered = await reader.ReadLatestAsync(new SnapshotQuery(period.Grain, period, new SnapshotFilter(), 100, null, null, seen), default);
        Assert.Equal(100, Assert.Single(answered.Rows).Value);
        var fresh = await reader.ReadLatestAsync(new SnapshotQuery(period.Grain, period, new SnapshotFilter(), 100, null), default);
        Assert.Equal(200, Assert.Single(fresh.Rows).Value);
    }
}
