using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using Azure.Data.Tables;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// A scheduled run's start message delivered again: the latest scheduled run stays the one created last, so an
/// unfinished run keeps holding the next occurrence back. <c>StartRun</c> is called as the host calls it, over a
/// real Azurite, with the app's services in this process.
/// </summary>
public class RetriedScheduledStartTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly PeriodCalendar Calendar = new(ReportingCalendar.Gregorian, TimeZoneInfo.Utc);

    private static Task<RunJobs> DeliverAsync(StartRunFunction function, string runId, int dequeueCount) =>
        function.RunAsync(JobMessages.Write(new StartRunJob(runId, RunPlanner.ScheduleTrigger)), dequeueCount, default);

    [Fact]
    public async Task A_finished_run_delivered_again_does_not_take_latest_from_a_past_due_run_created_after_it()
    {
        // Found in review: run ids name occurrences, and a past-due occurrence runs after a later one. Compared by
        // id, the finished 00:28 run retried took "latest" from the 00:27 run still going, and the 00:30
        // occurrence started beside it.
        await using var services = await InProcessApp.StartAsync(azurite);
        var runs = services.GetRequiredService<RunStore>();
        var function = ActivatorUtilities.CreateInstance<StartRunFunction>(services);
        const string onTime = "sched-20200101T002800", pastDue = "sched-20200101T002700", next = "sched-20200101T003000";

        // 00:28 ran on time and finished (nothing to do); 00:27, missed during a handover, started after it and is running.
        await runs.ScheduledAsync(onTime, record: true, planned: []);
        await runs.ScheduledAsync(pastDue, record: true, planned: [Calendar.Parse("2020-01", Grain.Month)]);
        Assert.Equal("succeeded", (await runs.GetAsync(onTime, default))!.State);
        Assert.Equal("running", (await runs.GetAsync(pastDue, default))!.State);

        // 00:28's start message comes back (its lease ran out while it finished): it goes on with its run, nothing pending.
        var again = await DeliverAsync(function, onTime, dequeueCount: 2);
        Assert.Empty(again.Days ?? []);
        Assert.Empty(again.Periods ?? []);
        Assert.Equal(pastDue, await runs.LatestScheduledAsync(default));

        // So the next occurrence is held back while 00:27 runs.
        Assert.Same(RunJobs.None, await DeliverAsync(function, next, dequeueCount: 1));
        Assert.Null(await runs.GetAsync(next, default));
    }

    [Fact]
    public async Task A_run_whose_recording_a_crash_prevented_is_recorded_by_its_retry()
    {
        // The first delivery created the run and died before recording it: the retry records it, as the latest
        // recorded run was created before it.
        await using var services = await InProcessApp.StartAsync(azurite);
        var runs = services.GetRequiredService<RunStore>();
        var function = ActivatorUtilities.CreateInstance<StartRunFunction>(services);
        const string earlier = "sched-20210101T000000", crashed = "sched-20210101T001500";
        await runs.ScheduledAsync(earlier, record: true, planned: []);
        await runs.ScheduledAsync(crashed, record: false);

        await DeliverAsync(function, crashed, dequeueCount: 2);

        Assert.Equal(crashed, await runs.LatestScheduledAsync(default));
        Assert.True((await runs.GetAsync(crashed, default))!.Planned);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_run_created_and_recorded_while_a_retry_records_its_own_stays_latest(bool recordedBefore)
    {
        // The retry reads the record, then writes its own: an occurrence created and recorded in between is
        // created after it, and must not be overwritten (the write is conditional on what was read, or an add
        // when there was no record yet).
        var tag = recordedBefore ? "1" : "0";
        string earlier = $"sched-2022010{tag}T000000", retried = $"sched-2022010{tag}T001500", later = $"sched-2022010{tag}T003000";
        await using var other = await InProcessApp.StartAsync(azurite);
        var otherRuns = other.GetRequiredService<RunStore>();
        var schedule = other.GetRequiredService<StorageAccount>().Table(StorageNames.Tables.Runs);
        await schedule.DeleteEntityAsync("schedule", "latest");
        if (recordedBefore) await otherRuns.ScheduledAsync(earlier, record: true);
        await otherRuns.ScheduledAsync(retried, record: false);

        var interceptor = new Interceptor();
        await using var services = await InterceptedApp.StartAsync(azurite.ConnectionString, interceptor);
        var function = ActivatorUtilities.CreateInstance<StartRunFunction>(services);
        var interleaved = false;
        // The retry's first write is its record (everything before it reads): the later occurrence goes just before it.
        interceptor.Before = async m =>
        {
            if (interleaved || m.Request.Method == Azure.Core.RequestMethod.Get || !Interceptor.Is(m, "/" + StorageNames.Tables.Runs)) return;
            interleaved = true;
            await otherRuns.ScheduledAsync(later, record: true);
        };

        await DeliverAsync(function, retried, dequeueCount: 2);

        Assert.True(interleaved);
        Assert.Equal(later, await otherRuns.LatestScheduledAsync(default));
        Assert.True((await otherRuns.GetAsync(retried, default))!.Planned);
    }
}
