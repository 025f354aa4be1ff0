using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// The last days of a run send its periods once, and never lose them: the map step is called as the
/// host calls it, over a real Azurite, with the app's services in this process.
/// </summary>
public class PeriodFanOutTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly PeriodCalendar Calendar = new(ReportingCalendar.Gregorian, TimeZoneInfo.Utc);

    private static Task<string> PlannedRunAsync(IServiceProvider services, string name, Period month, IReadOnlyCollection<DateOnly> days) =>
        services.GetRequiredService<RunStore>().PlannedAsync(name, days, [month], requested: month.Key);

    private static Task<string[]?> DeliverAsync(AggregateDayFunction function, string runId, DateOnly day, int dequeueCount = 1) =>
        function.RunAsync(JobMessages.Write(new DayJob(runId, day)), dequeueCount, default);

    [Fact]
    public async Task The_days_of_a_run_finishing_together_send_its_periods_once()
    {
        // Found by probing: many last days saw every day done at once and each sent every period (one was
        // finalised up to 13 times in one run, its alerts evaluated as often).
        await using var services = await InProcessApp.StartAsync(azurite);
        var june = Calendar.Parse("2026-06", Grain.Month);
        var days = Enumerable.Range(1, 16).Select(d => new DateOnly(2026, 6, d)).ToList();
        var runId = await PlannedRunAsync(services, "together", june, days);
        var function = ActivatorUtilities.CreateInstance<AggregateDayFunction>(services);

        // As the host runs them: all 16 day messages at once.
        var sent = await Task.WhenAll(days.Select(d => Task.Run(() => DeliverAsync(function, runId, d))));

        Assert.Equal([JobMessages.Write(new PeriodJob(runId, Grain.Month, june.Key))], Assert.Single(sent, s => s is not null)!);
        Assert.All((await services.GetRequiredService<RunStore>().GetAsync(runId, default))!.Days, d => Assert.Equal(StepState.Done, d.State));

        // At the extreme, every day is recorded done before any of them looks: each sees every day done.
        var extreme = await PlannedRunAsync(services, "together-extreme", june, days);
        foreach (var day in days) Assert.True(await services.GetRequiredService<RunStore>().CompleteDayAsync(extreme, day, 0, default));
        sent = await Task.WhenAll(days.Select(d => Task.Run(() => DeliverAsync(function, extreme, d))));
        Assert.Equal([JobMessages.Write(new PeriodJob(extreme, Grain.Month, june.Key))], Assert.Single(sent, s => s is not null)!);
    }

    [Fact]
    public async Task The_day_that_sent_the_periods_sends_them_again_when_its_message_comes_back_and_no_other_day_does()
    {
        // The host writes the period messages after the function returns: a worker that died in between leaves
        // the claim taken and nothing sent, and the day's message comes back.
        await using var services = await InProcessApp.StartAsync(azurite);
        var july = Calendar.Parse("2026-07", Grain.Month);
        var (first, second, last) = (new DateOnly(2026, 7, 1), new DateOnly(2026, 7, 2), new DateOnly(2026, 7, 3));
        var runId = await PlannedRunAsync(services, "retried", july, [first, second, last]);
        var function = ActivatorUtilities.CreateInstance<AggregateDayFunction>(services);
        string[] periods = [JobMessages.Write(new PeriodJob(runId, Grain.Month, july.Key))];

        Assert.Null(await DeliverAsync(function, runId, first));
        Assert.Null(await DeliverAsync(function, runId, second));
        Assert.Equal(periods, await DeliverAsync(function, runId, last));

        // Another day's message delivered again (its lease ran out while it finished) finds every day done: it sends nothing.
        Assert.Null(await DeliverAsync(function, runId, first, dequeueCount: 2));
        // The last day's message, back after its output was lost, sends them again.
        Assert.Equal(periods, await DeliverAsync(function, runId, last, dequeueCount: 2));
        Assert.Null(await DeliverAsync(function, runId, second, dequeueCount: 2));
    }
}
