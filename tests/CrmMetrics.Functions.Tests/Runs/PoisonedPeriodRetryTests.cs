using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// <c>FinalizePeriodPoisoned</c> marks the period stale, then records it failed (README: "a failed period stale, so the
/// next run does them again"), as the step's own last attempt does. Found by a review: the other way round, a handler
/// killed between the two had its message retried (a poison queue has no poison queue), found the period failed rather
/// than pending, and returned without the mark, leaving the period neither stale nor computed.
/// </summary>
public class PoisonedPeriodRetryTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_poisoned_period_message_retried_after_its_handler_died_before_the_stale_mark_leaves_the_period_stale()
    {
        var month = new PeriodCalendar(ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse("2017-09", Grain.Month);
        await using var healthy = await InProcessApp.StartAsync(azurite);
        var runs = healthy.GetRequiredService<RunStore>();
        var stale = healthy.GetRequiredService<StalePeriodStore>();
        // The period's delivery promoted its version (clearing the mark), then died five times sending its alerts.
        var runId = await runs.PlannedAsync("poisoned-retry", [], [month], requested: month.Key);
        Assert.Null(await stale.GetAsync(month.Key, default));
        var message = JobMessages.Write(new PeriodJob(runId, month.Grain, month.Key));

        var interceptor = new Interceptor();
        await using (var dying = await InterceptedApp.StartAsync(azurite.ConnectionString, interceptor))
        {
            // Dies between its two writes, the stale mark and the failure, whichever comes first.
            var writes = 0;
            interceptor.Before = m => m.Request.Method != Azure.Core.RequestMethod.Get && ++writes == 2 ? throw new ProcessKilledException() : ValueTask.CompletedTask;
            await Assert.ThrowsAnyAsync<Exception>(() => ActivatorUtilities.CreateInstance<PoisonedJobFunctions>(dying).FinalizePeriodAsync(message, default));
            Assert.Equal(2, writes);
        }

        // The poison message comes back.
        await ActivatorUtilities.CreateInstance<PoisonedJobFunctions>(healthy).FinalizePeriodAsync(message, default);
        Assert.Equal("failed", (await runs.GetAsync(runId, default))!.State);
        Assert.True(await stale.GetAsync(month.Key, default) is not null, $"{month.Key} failed on run {runId} but is not stale: no run computes it again");
    }
}
