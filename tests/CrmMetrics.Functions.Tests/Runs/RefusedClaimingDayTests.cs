using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// The day that sends a run's periods, refused for a changed reporting zone when its message comes back after the
/// day was aggregated, ends its run failed, naming the day and the zone change: before, nothing ever sent the
/// periods and the run read running for ever (found in review). The map step is called as the host calls it,
/// in two processes of the app over one real Azurite, before and after <c>CrmMetrics:TimeZone</c> changed
/// (its own Azurite: the zone it records would refuse other tests' runs).
/// </summary>
public class RefusedClaimingDayTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Period July = new PeriodCalendar(ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse("2026-07", Grain.Month);
    private static readonly DateOnly First = new(2026, 7, 1);
    private static readonly DateOnly Last = new(2026, 7, 2);

    private static Task<string> PlannedRunAsync(IServiceProvider services, string name) =>
        services.GetRequiredService<RunStore>().PlannedAsync(name, [First, Last], [July], requested: July.Key);

    private static Task<string[]?> DeliverAsync(AggregateDayFunction function, string runId, DateOnly day, int dequeueCount = 1) =>
        function.RunAsync(JobMessages.Write(new DayJob(runId, day)), dequeueCount, default);

    [Fact]
    public async Task A_run_whose_day_sending_its_periods_is_refused_for_a_changed_zone_fails_naming_the_day_and_the_change()
    {
        string claimed, unclaimed;
        await using (var utc = await InProcessApp.StartAsync(azurite))
        {
            // A day with a fact is computed in UTC: a process in another zone is refused from then on.
            await utc.GetRequiredService<FactIngestion>().StoreAsync(
                [new Fact { Id = "rz-o1", Type = FactType.Order, Time = new DateTimeOffset(2026, 7, 2, 10, 0, 0, TimeSpan.Zero), CustomerId = "RZ-1", Channel = "web", Amount = 50m, Currency = "EUR" }], default);
            var function = ActivatorUtilities.CreateInstance<AggregateDayFunction>(utc);
            var runs = utc.GetRequiredService<RunStore>();

            // The last day claimed and returned the periods; the worker died before the host wrote them.
            claimed = await PlannedRunAsync(utc, "refused-claimed");
            Assert.Null(await DeliverAsync(function, claimed, First));
            Assert.NotNull(await DeliverAsync(function, claimed, Last));

            // The last day was aggregated and recorded done; the worker died before it claimed them.
            unclaimed = await PlannedRunAsync(utc, "refused-unclaimed");
            Assert.Null(await DeliverAsync(function, unclaimed, First));
            var partial = await utc.GetRequiredService<DayAggregation>().AggregateAsync(Last, default);
            Assert.True(await runs.CompleteDayAsync(unclaimed, Last, partial.FactCount, default));
        }

        await using var moved = await InProcessApp.StartAsync(azurite, zone: "America/New_York");
        var refusing = ActivatorUtilities.CreateInstance<AggregateDayFunction>(moved);
        var store = moved.GetRequiredService<RunStore>();
        // Another day's message, back too, changes nothing: the periods are the last day's to send.
        Assert.Null(await DeliverAsync(refusing, claimed, First, dequeueCount: 2));
        Assert.Equal("running", (await store.GetAsync(claimed, default))!.State);

        foreach (var runId in new[] { claimed, unclaimed })
        {
            // The last day's message comes back, and is refused: it sends nothing, and the run ends.
            Assert.Null(await DeliverAsync(refusing, runId, Last, dequeueCount: 2));
            var run = (await store.GetAsync(runId, default))!;
            Assert.Equal("failed", run.State);
            Assert.All(run.Days, d => Assert.Equal(StepState.Done, d.State));
            var period = Assert.Single(run.Periods);
            Assert.Equal(StepState.Failed, period.State);
            Assert.StartsWith("not finalised: day 2026-07-02, whose message sends the run's periods, came back after it was aggregated and was refused: ", period.Error);
            Assert.Contains("CrmMetrics:TimeZone is America/New_York, but the stored days were computed in UTC", period.Error);
            // The refused day holds the claim: no other day's message (from the poison queue, say) sends the periods later.
            Assert.False(await store.ClaimPeriodsAsync(runId, First, default));
        }
    }
}
