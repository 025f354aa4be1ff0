using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Alerts;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// A period that fails is stale again, so the next run does it again: its version may have been promoted (which
/// clears the mark) before what failed, sending its alerts, and then no run would have judged its alerts, nor the
/// anomaly and trend rules of later periods that wait for it (found in review). Called as the host calls the
/// functions, over a real Azurite, with the app's services in this process.
/// </summary>
public class FailedPeriodStaleTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private sealed class UnreachableSender : IAlertSender
    {
        public Task SendAsync(IReadOnlyList<string> cloudEvents, string delivery, CancellationToken ct) =>
            throw new InvalidOperationException("The alerts topic refused the messages.");
    }

    private static readonly PeriodCalendar Calendar = new(ReportingCalendar.Gregorian, TimeZoneInfo.Utc);

    /// <summary>A run requested and planned for the month alone (no day to aggregate).</summary>
    private static Task<string> PlannedRunAsync(RunStore runs, Period month) => runs.PlannedAsync("stale", [], [month], requested: month.Key);

    [Fact]
    public async Task A_period_whose_last_attempt_fails_after_promoting_its_version_is_stale_again()
    {
        await using var services = await InProcessApp.StartAsync(azurite);
        var month = Calendar.Parse("2017-05", Grain.Month);
        var runs = services.GetRequiredService<RunStore>();
        var stale = services.GetRequiredService<StalePeriodStore>();
        var runId = await PlannedRunAsync(runs, month);
        await stale.MarkAsync([month.Key], default);

        var finalize = ActivatorUtilities.CreateInstance<FinalizePeriodFunction>(services, (IAlertSender)new UnreachableSender());
        var lastAttempt = services.GetRequiredService<HostJsonSettings>().MaxDequeueCount;
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            finalize.RunAsync(JobMessages.Write(new PeriodJob(runId, month.Grain, month.Key)), lastAttempt, $"{runId}-last", default));

        Assert.Equal("failed", (await runs.GetAsync(runId, default))!.State);
        Assert.NotNull(await stale.GetAsync(month.Key, default));
    }

    [Fact]
    public async Task A_period_whose_message_went_to_the_poison_queue_is_stale_again()
    {
        await using var services = await InProcessApp.StartAsync(azurite);
        var month = Calendar.Parse("2017-06", Grain.Month);
        var runs = services.GetRequiredService<RunStore>();
        var runId = await PlannedRunAsync(runs, month);

        await ActivatorUtilities.CreateInstance<PoisonedJobFunctions>(services).FinalizePeriodAsync(JobMessages.Write(new PeriodJob(runId, month.Grain, month.Key)), default);

        Assert.Equal("failed", (await runs.GetAsync(runId, default))!.State);
        Assert.NotNull(await services.GetRequiredService<StalePeriodStore>().GetAsync(month.Key, default));
    }
}
