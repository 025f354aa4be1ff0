using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// The timer's run leaves out a just-closed period computed since it ended, unless a dirty day falls in it or it is
/// marked stale (found by a soak: every 5-minute run rewrote the closed day, week and month with the same figures).
/// A run requested without a period still computes it, as api.md's "current and just-closed" says. The planner runs
/// in this process, at a fixed time, with the app's services over Azurite.
/// </summary>
public class ClosedPeriodPlanTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Period July = new PeriodCalendar(ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse("2026-07", Grain.Month);

    [Fact]
    public async Task A_closed_period_computed_since_it_ended_is_planned_by_the_timer_only_when_something_changed_it()
    {
        await using var services = await InProcessApp.StartAsync(azurite);
        var runs = services.GetRequiredService<RunStore>();
        var planner = ActivatorUtilities.CreateInstance<RunPlanner>(services, (TimeProvider)new FixedClock(new DateTimeOffset(2026, 8, 15, 12, 0, 0, TimeSpan.Zero)));
        async Task<List<string>> PlannedMonthsAsync(string runId, string trigger)
        {
            Assert.True(await runs.CreateAsync(runId, trigger, null, null, default));
            return (await planner.PlanAsync(runId, default)).Periods.Where(p => p.Grain == Grain.Month).Select(p => p.Key).ToList();
        }

        // Not computed yet: the timer computes July.
        Assert.Equal(["2026-07", "2026-08"], await PlannedMonthsAsync("sched-first", RunPlanner.ScheduleTrigger));
        // July computed after it ended (the finalisation's clock is today's).
        var computing = await runs.PlannedAsync("july", [], [July], requested: July.Key);
        var done = await ActivatorUtilities.CreateInstance<FinalizePeriodFunction>(services).RunAsync(JobMessages.Write(new PeriodJob(computing, Grain.Month, July.Key)), 1, "finalise-july", default);
        Assert.NotNull(done);

        Assert.Equal(["2026-08"], await PlannedMonthsAsync("sched-second", RunPlanner.ScheduleTrigger));
        Assert.Equal(["2026-07", "2026-08"], await PlannedMonthsAsync("api-compute-now", RunPlanner.ApiTrigger));
        // A late fact's day in July brings it back.
        await services.GetRequiredService<DirtyDayStore>().MarkAsync([new DateOnly(2026, 7, 20)], default);
        Assert.Equal(["2026-07", "2026-08"], await PlannedMonthsAsync("sched-third", RunPlanner.ScheduleTrigger));
    }
}
