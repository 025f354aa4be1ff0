using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Snapshots;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// Which of a run's periods it is still recomputing, around one it has finalised (what its anomaly and trend
/// rules wait for), against a real Azurite.
/// </summary>
public class RunPeriodsInFlightTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly PeriodCalendar Calendar = new(ReportingCalendar.Gregorian, TimeZoneInfo.Utc);

    [Fact]
    public async Task A_period_counts_recomputed_once_its_version_or_a_newer_one_is_the_latest_or_the_run_closed_it()
    {
        var account = await azurite.AccountAsync();
        var (runs, snapshots) = (new RunStore(account), new SnapshotStore(account));
        var months = new[] { "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09" }.Select(k => Calendar.Parse(k, Grain.Month)).ToList();
        var week = Calendar.Parse("2026-W28", Grain.Week);
        Assert.True(await runs.CreateAsync("run-flight", "schedule", null, null, default));
        // March is not the run's; the week is another grain.
        await runs.PlanAsync("run-flight", [], [.. months.Skip(1), week], default);
        async Task<int> ReserveAsync(Period p, string runId = "run-flight") =>
            (await runs.ReservationForAsync(runId, p.Grain, p.Key, () => snapshots.ReserveVersionAsync(p.Grain, p.Key, runId, default), DateTimeOffset.UtcNow, default)).Version;
        async Task PromoteAsync(Period p, int version, string runId = "run-flight") =>
            Assert.True(await snapshots.PromoteAsync(p, version, runId, DateTimeOffset.UtcNow, 1, default));

        var (april, may, june, july, august, september) = (months[1], months[2], months[3], months[4], months[5], months[6]);
        // April failed; May is done; June's reserved version is the latest; July, the one just finalised, too;
        // August has a version reserved, not yet promoted; September has none yet.
        Assert.True(await runs.FailPeriodAsync("run-flight", april.Grain, april.Key, "refused", default));
        await PromoteAsync(may, await ReserveAsync(may));
        Assert.True(await runs.CompletePeriodAsync("run-flight", may.Grain, may.Key, 1, 1, default));
        await PromoteAsync(june, await ReserveAsync(june));
        await PromoteAsync(july, await ReserveAsync(july));
        var augustVersion = await ReserveAsync(august);
        var inFlight = new RunPeriodsInFlight(runs, snapshots);

        Assert.Equal(["2026-08", "2026-09"], (await inFlight.AroundAsync("run-flight", july, 2, default)).Order());
        Assert.Equal(["2026-08"], await inFlight.AroundAsync("run-flight", july, 1, default));
        Assert.Empty(await inFlight.AroundAsync("run-flight", april, 2, default));

        // Another run promoting a newer version of August, before this one promoted its own, also ends the wait:
        // the figures the rules would read are the newest.
        var newer = await ReserveAsync(august, "run-other");
        Assert.True(newer > augustVersion);
        await PromoteAsync(august, newer, "run-other");
        Assert.Equal(["2026-09"], await inFlight.AroundAsync("run-flight", july, 2, default));
        await PromoteAsync(september, await ReserveAsync(september));
        Assert.Empty(await inFlight.AroundAsync("run-flight", july, 2, default));
    }
}
