using Azure;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// The last attempt of the day that sends a run's periods failed to send them, and said so on the run; its
/// message, from the poison queue, then sent them, and they completed. The run ended failed for ever, the
/// error still standing (found in review): now it reads running again once they are sent and succeeds, the
/// error listed as recovered. The steps are called as the host calls them, over a real Azurite, with the app's
/// services in this process; the failure comes from the clock the planner reads while it sends the periods.
/// </summary>
public class RecoveredPeriodSendingTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Period August = new PeriodCalendar(ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse("2026-08", Grain.Month);
    private static readonly DateOnly First = new(2026, 8, 1);
    private static readonly DateOnly Last = new(2026, 8, 2);

    /// <summary>The system clock, but its next reading fails as storage does when it goes away, once <see cref="FailNext"/> is set.</summary>
    private sealed class FailingOnceClock : TimeProvider
    {
        public bool FailNext { get; set; }

        public override DateTimeOffset GetUtcNow()
        {
            if (!FailNext) return base.GetUtcNow();
            FailNext = false;
            throw new RequestFailedException(503, "The server is busy.");
        }
    }

    private static string DayMessage(string runId, DateOnly day) => JobMessages.Write(new DayJob(runId, day));

    [Fact]
    public async Task A_run_whose_periods_were_sent_from_the_poison_queue_after_its_last_attempt_failed_to_succeeds()
    {
        await using var services = await InProcessApp.StartAsync(azurite);
        var runs = services.GetRequiredService<RunStore>();
        // A run without a period ("compute now" for months): sending its periods reads the stale ones, at the clock's time.
        var runId = await runs.PlannedAsync("recovered", [First, Last], [August], requested: null);
        var clock = new FailingOnceClock();
        var planner = ActivatorUtilities.CreateInstance<RunPlanner>(services, (TimeProvider)clock);
        var aggregateDay = ActivatorUtilities.CreateInstance<AggregateDayFunction>(services, planner);
        var lastAttempt = services.GetRequiredService<HostJsonSettings>().MaxDequeueCount;

        Assert.Null(await aggregateDay.RunAsync(DayMessage(runId, First), 1, default));
        // The last day's last attempt: it claims the periods, and fails to send them.
        clock.FailNext = true;
        await Assert.ThrowsAsync<RequestFailedException>(() => aggregateDay.RunAsync(DayMessage(runId, Last), lastAttempt, default));
        var stopped = (await runs.GetAsync(runId, default))!;
        Assert.Equal("failed", stopped.State);
        Assert.StartsWith("sending the periods to finalise after day 2026-08-02 failed: RequestFailedException: The server is busy.", Assert.Single(stopped.Errors));

        // The host moved its message to kpi-days-poison: AggregateDayPoisoned sends the periods, and the run goes on.
        var poisoned = ActivatorUtilities.CreateInstance<PoisonedJobFunctions>(services, planner);
        var periods = await poisoned.AggregateDayAsync(DayMessage(runId, Last), default);
        Assert.Equal([JobMessages.Write(new PeriodJob(runId, Grain.Month, August.Key))], periods!);
        Assert.Equal("running", (await runs.GetAsync(runId, default))!.State);

        // The period is finalised and recorded done, as the host runs its messages.
        var done = await ActivatorUtilities.CreateInstance<FinalizePeriodFunction>(services).RunAsync(periods![0], 1, $"finalise-{runId}", default);
        Assert.NotNull(done);
        await ActivatorUtilities.CreateInstance<CompletePeriodFunction>(services).RunAsync(done, default);

        var run = (await runs.GetAsync(runId, default))!;
        Assert.Equal("succeeded", run.State);
        Assert.Empty(run.Errors);
        // What went wrong is still told, with how it was got over.
        Assert.Equal("sending the periods to finalise after day 2026-08-02 failed: RequestFailedException: The server is busy. (recovered: day 2026-08-02's message sent them afterwards)",
            Assert.Single(run.Recovered));
    }
}
