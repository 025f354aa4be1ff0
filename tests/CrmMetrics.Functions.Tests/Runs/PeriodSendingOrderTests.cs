using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// A run sends its period jobs newest first: every grain's current period, then every grain's one before, and so on.
/// Found by a soak: a first scheduled run after the demo finalised some 700 periods by grain and date, and the
/// current ones, which the scorecard shows, came out among the last after about 11 minutes.
/// </summary>
public class PeriodSendingOrderTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly PeriodCalendar Calendar = new(ReportingCalendar.Gregorian, TimeZoneInfo.Utc);
    private static readonly DateTimeOffset Now = new(2026, 8, 15, 12, 0, 0, TimeSpan.Zero);

    private static List<string> Keys(IEnumerable<string> messages) =>
        messages.Select(JobMessages.ReadPeriod).Select(p => $"{Grains.Key(p.Grain)} {p.Period}").ToList();

    private static List<string> CurrentAndBefore(IEnumerable<Grain> grains, int before) =>
        grains.Order().Select(g =>
        {
            var period = Calendar.PeriodOf(g, Now);
            for (var i = 0; i < before; i++) period = period.Previous();
            return $"{Grains.Key(g)} {period.Key}";
        }).ToList();

    [Fact]
    public async Task A_catch_up_run_sends_the_current_periods_first_then_the_just_closed_ones_then_the_rest_newest_first()
    {
        await using var services = await InProcessApp.StartAsync(azurite);
        var grains = services.GetRequiredService<CrmMetricsSettings>().Grains.ToList();
        Assert.True(grains.Count > 1, "the test needs more than one grain configured");
        var planner = ActivatorUtilities.CreateInstance<RunPlanner>(services, (TimeProvider)new FixedClock(Now));
        var runs = services.GetRequiredService<RunStore>();
        // Late facts in March and May, as after a bulk load: their periods of every grain join the run.
        DateOnly[] lateDays = [new(2026, 3, 10), new(2026, 5, 20)];
        await services.GetRequiredService<DirtyDayStore>().MarkAsync(lateDays, default);
        Assert.True(await runs.CreateAsync("sched-catch-up", RunPlanner.ScheduleTrigger, null, null, default));
        var plan = await planner.PlanAsync("sched-catch-up", default);

        // The days go first; the last of them sends the periods.
        var aggregate = ActivatorUtilities.CreateInstance<AggregateDayFunction>(services);
        string[]? sent = null;
        foreach (var day in plan.Days) sent = await aggregate.RunAsync(JobMessages.Write(new DayJob(plan.RunId, day)), 1, default) ?? sent;
        var order = Keys(Assert.IsType<string[]>(sent));

        Assert.Equal(plan.Periods.Select(p => $"{Grains.Key(p.Grain)} {p.Key}").Order(), order.Order());
        Assert.Equal(CurrentAndBefore(grains, 0), order[..grains.Count]);
        Assert.Equal(CurrentAndBefore(grains, 1), order[grains.Count..(2 * grains.Count)]);
        // The rest, within each grain, newest first: March's day is the last day sent.
        foreach (var grain in grains)
        {
            var ofGrain = order.Where(k => k.StartsWith(Grains.Key(grain) + " ", StringComparison.Ordinal)).ToList();
            var starts = ofGrain.Select(k => Calendar.Parse(k[(k.IndexOf(' ') + 1)..], grain).Start).ToList();
            Assert.Equal(starts.OrderDescending(), starts);
        }
        Assert.Equal($"{Grains.Key(Grain.Day)} 2026-03-10", order.Last(k => k.StartsWith(Grains.Key(Grain.Day) + " ", StringComparison.Ordinal)));

        // A run with no day to aggregate sends its periods at once, in the same order.
        var periodsOnly = RunJobs.FirstStep(plan with { Days = [] });
        Assert.Equal(order, Keys(periodsOnly.Periods!));
    }

    [Fact]
    public void A_key_that_no_longer_parses_goes_last_and_the_grains_stay_interleaved()
    {
        (Grain Grain, string Key)[] recorded =
            [(Grain.Day, "2026-08-13"), (Grain.Day, "2026-08-15"), (Grain.Day, "1405-13-01"), (Grain.Day, "2026-08-14"), (Grain.Month, "2026-07"), (Grain.Month, "2026-08")];
        var ordered = RunPlanner.NewestFirst(recorded, p => p.Grain, p => Calendar.TryParse(p.Key, p.Grain, out var period, out _) ? period : null);
        Assert.Equal(
            [(Grain.Day, "2026-08-15"), (Grain.Month, "2026-08"), (Grain.Day, "2026-08-14"), (Grain.Month, "2026-07"), (Grain.Day, "2026-08-13"), (Grain.Day, "1405-13-01")],
            ordered);
    }
}
