using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Snapshots;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>A period's job delivered twice (a redelivery, or two at once): both compute the version the run reserved, as of one instant.</summary>
public class RepeatedFinalizationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Two_deliveries_of_a_periods_job_write_the_same_rows_stamped_with_the_same_instant()
    {
        // Found by probing: deliveries of one period's job stamped one version's rows with their own
        // times (an OData filter on ComputedAt then lost rows), and projected goals at their own instants.
        await using var services = await InProcessApp.StartAsync(azurite);
        var month = new PeriodCalendar(ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse("2031-05", Grain.Month);
        var runs = services.GetRequiredService<RunStore>();
        var runId = await runs.PlannedAsync("twice", [], [month], requested: month.Key);

        var finalizer = services.GetRequiredService<PeriodFinalizer>();
        var first = await finalizer.FinalizeAsync(runId, month, default);
        // The first took milliseconds of storage requests: the second begins at a later instant.
        var second = await finalizer.FinalizeAsync(runId, month, default);
        Assert.Equal(first.Version, second.Version);
        var instant = Assert.Single(first.Rows.Concat(second.Rows).Select(r => r.ComputedAt).Distinct());
        var stored = await services.GetRequiredService<SnapshotReader>().ReadAllAsync(month, new SnapshotFilter(), default);
        Assert.NotEmpty(stored);
        Assert.Equal(instant, Assert.Single(stored.Select(r => r.ComputedAt).Distinct()));
    }
}
