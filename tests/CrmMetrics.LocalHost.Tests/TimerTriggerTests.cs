using System.Text.Json;
using Azure.Storage.Blobs;
using CrmMetrics.Testing;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>Timer triggers as the Functions host runs them: NCRONTAB from a setting, one host at a time, RunOnStartup, past-due occurrences.</summary>
public sealed class TimerTriggerTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_timer_runs_on_its_setting_schedule_one_occurrence_at_a_time_even_with_two_hosts()
    {
        var queues = new TestQueues(azurite.ConnectionString);
        // Every second, each run busy for 1.5 s: an overlapping scheduler, or a second host, would run two at once.
        var settings = new Dictionary<string, string?> { ["TickSchedule"] = "* * * * * *", ["TickBusyMs"] = "1500" };
        await using var first = await TestHost.StartAsync(queues, settings);
        await using var second = await TestHost.StartAsync(queues, settings);
        var ticks = await queues.WaitForRecordsAsync(r => r.Count(x => x.GetProperty("function").GetString() == "Tick") >= 4, "four timer runs");
        var spans = ticks.Where(t => t.GetProperty("function").GetString() == "Tick")
            .Select(t => (Start: t.GetProperty("started").GetDateTimeOffset(), End: t.GetProperty("finished").GetDateTimeOffset())).OrderBy(s => s.Start).ToList();
        for (var i = 1; i < spans.Count; i++) Assert.True(spans[i].Start >= spans[i - 1].End, $"run {i + 1} started before run {i} finished");
        // The output binding of the return value.
        var output = queues.Queue("lh-ticks", base64: false);
        await Eventually.WaitAsync(async () => (await output.ExistsAsync()).Value && (await output.GetPropertiesAsync()).Value.ApproximateMessagesCount >= 4, TestHost.Deadline, "tick outputs");
        // The host without the lock says why it waits (it read "(or storage did not answer: 409)").
        await Eventually.WaitAsync(() => Task.FromResult(first.Logs.Lines.Concat(second.Logs.Lines).Any(l => l.EndsWith("Tick: another host holds its listener lock; waiting to take over", StringComparison.Ordinal))),
            TestHost.Deadline, "the host without the lock saying so");
    }

    [Fact]
    public async Task RunOnStartup_runs_the_timer_once_when_the_host_starts()
    {
        var queues = new TestQueues(azurite.ConnectionString);
        await using var host = await TestHost.StartAsync(queues);
        var records = await queues.WaitForRecordsAsync(r => r.Any(x => x.GetProperty("function").GetString() == "OnStartup"), "the startup run");
        Assert.False(records.Single(r => r.GetProperty("function").GetString() == "OnStartup").GetProperty("IsPastDue").GetBoolean());
    }

    private static DateTimeOffset WholeMinuteAnHourAgo()
    {
        var hourAgo = DateTimeOffset.UtcNow.AddHours(-1);
        return new DateTimeOffset(hourAgo.Year, hourAgo.Month, hourAgo.Day, hourAgo.Hour, hourAgo.Minute, 0, TimeSpan.Zero);
    }

    /// <summary>Writes the Tick timer's schedule status as a host that stopped would have left it; returns its blob.</summary>
    private async Task<BlobClient> SaveTickStatusAsync(TestQueues queues, DateTimeOffset last, DateTimeOffset next, DateTimeOffset lastUpdated)
    {
        var hosts = new BlobContainerClient(azurite.ConnectionString, "azure-webjobs-hosts");
        await hosts.CreateIfNotExistsAsync();
        var status = hosts.GetBlobClient($"timers/{queues.HostId}/Tick/status");
        await status.UploadAsync(BinaryData.FromString(JsonSerializer.Serialize(new { Last = last, Next = next, LastUpdated = lastUpdated })), overwrite: true);
        return status;
    }

    [Fact]
    public async Task An_occurrence_missed_while_no_host_ran_is_run_at_start_as_past_due()
    {
        var queues = new TestQueues(azurite.ConnectionString);
        // What a host that stopped an hour ago left: its next occurrence (a whole minute, as the schedule gives
        // from its last run) is long gone.
        var last = WholeMinuteAnHourAgo();
        await SaveTickStatusAsync(queues, last: last.AddMinutes(-1), next: last, lastUpdated: last.AddMinutes(-1));

        await using var host = await TestHost.StartAsync(queues, new Dictionary<string, string?> { ["TickSchedule"] = "0 */1 * * * *" });
        var ticks = await queues.WaitForRecordsAsync(r => r.Any(x => x.GetProperty("function").GetString() == "Tick"), "the past-due run");
        var pastDue = ticks.First(t => t.GetProperty("function").GetString() == "Tick");
        Assert.True(pastDue.GetProperty("IsPastDue").GetBoolean());
        // The run is told which occurrence it stands for: the one that was missed (a function names its work after it).
        Assert.Equal(last, pastDue.GetProperty("next").GetDateTimeOffset());
    }

    [Fact]
    public async Task An_occurrence_of_a_schedule_that_changed_since_the_host_stopped_is_not_run_as_past_due()
    {
        // As the Functions host does (found by an operator's probe: after KpiSchedule changed, the old schedule's
        // missed occurrence ran at once). The status a host left under a 20-second schedule: its next occurrence,
        // 20 s after its last run, is not one the minute schedule gives.
        var queues = new TestQueues(azurite.ConnectionString);
        var lastRun = WholeMinuteAnHourAgo();
        var status = await SaveTickStatusAsync(queues, last: lastRun, next: lastRun.AddSeconds(20), lastUpdated: lastRun);

        await using var host = await TestHost.StartAsync(queues, new Dictionary<string, string?> { ["TickSchedule"] = "0 */1 * * * *" });
        await Eventually.WaitAsync(() => Task.FromResult(host.Logs.Lines.Any(l => l.Contains("Tick: its schedule changed since its status was saved", StringComparison.Ordinal))),
            TestHost.Deadline, "the host saying the schedule changed");
        // The status starts again from the new schedule: its next occurrence is to come, and none ran past due.
        await Eventually.WaitAsync(async () => JsonDocument.Parse((await status.DownloadContentAsync()).Value.Content.ToString()).RootElement.GetProperty("Next").GetDateTimeOffset(),
            next => next > lastRun.AddHours(1), TestHost.Deadline, "the status to name an occurrence of the new schedule");
        await queues.WaitForRecordsAsync(_ => true, "the records written so far");
        Assert.DoesNotContain(queues.Of("Tick"), r => r.GetProperty("IsPastDue").GetBoolean());
    }

    private static List<(DateTimeOffset Start, DateTimeOffset End, JsonElement Record)> TickRuns(IEnumerable<JsonElement> records) =>
        records.Where(t => t.GetProperty("function").GetString() == "Tick")
            .Select(t => (Start: t.GetProperty("started").GetDateTimeOffset(), End: t.GetProperty("finished").GetDateTimeOffset(), Record: t))
            .OrderBy(s => s.Start).ToList();

    [Theory]
    // A run shorter than the interval: the next fires an interval after this one fired (0.5 s after it ended), not an interval after it ended.
    [InlineData("00:00:02", 1500)]
    // A run longer than the interval: the occurrence that came due meanwhile fires as soon as it ends, neither skipped
    // (1.8 s later, on the interval's grid) nor an interval after the end.
    [InlineData("00:00:02", 2200)]
    public async Task A_time_span_timer_fires_an_interval_after_its_last_occurrence_not_after_its_run_ended(string interval, int busyMs)
    {
        // As Azure's TimerListener: Next is computed when an occurrence fires, from the time it fired, and the timer
        // is set for that Next once the run ends (at once when it has passed).
        var queues = new TestQueues(azurite.ConnectionString);
        await using var host = await TestHost.StartAsync(queues, new Dictionary<string, string?> { ["TickSchedule"] = interval, ["TickBusyMs"] = busyMs.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var runs = TickRuns(await queues.WaitForRecordsAsync(r => TickRuns(r).Count >= 4, "four timer runs"));

        var period = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture);
        var busy = TimeSpan.FromMilliseconds(busyMs);
        var rest = busy < period ? period - busy : TimeSpan.Zero;
        for (var i = 1; i < runs.Count; i++)
        {
            var wait = runs[i].Start - runs[i - 1].End;
            Assert.True(wait >= TimeSpan.Zero, $"run {i + 1} started before run {i} finished");
            // What is left of the interval after the run, and half an interval's slack for invoking it (the old wait was a whole interval and more).
            Assert.True(wait < rest + period / 2, $"run {i + 1} started {wait.TotalMilliseconds:0} ms after run {i} ended; expected about {rest.TotalMilliseconds:0} ms");
            Assert.False(runs[i].Record.GetProperty("IsPastDue").GetBoolean());
        }
    }

    [Fact]
    public async Task A_time_span_timer_fires_at_the_next_occurrence_its_status_saved_and_saves_the_one_an_interval_after_it_fired()
    {
        // What a host that stopped left for a one-minute time span: its run fired 45 s ago, so its next occurrence is
        // 15 s away. Azure's host fires then, not a minute after it started.
        var queues = new TestQueues(azurite.ConnectionString);
        var now = DateTimeOffset.UtcNow;
        var next = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, TimeSpan.Zero).AddSeconds(15);
        var last = next.AddMinutes(-1);
        var status = await SaveTickStatusAsync(queues, last: last, next: next, lastUpdated: last);

        await using var host = await TestHost.StartAsync(queues, new Dictionary<string, string?> { ["TickSchedule"] = "00:01:00" });
        var run = TickRuns(await queues.WaitForRecordsAsync(r => TickRuns(r).Count >= 1, "the run at the saved next occurrence", TimeSpan.FromSeconds(45))).First();
        // The run is told the status as it stood: the occurrence it stands for, and the one before it.
        Assert.Equal(next, run.Record.GetProperty("next").GetDateTimeOffset());
        Assert.Equal(last, run.Record.GetProperty("last").GetDateTimeOffset());
        Assert.False(run.Record.GetProperty("IsPastDue").GetBoolean());

        // As Azure saves it after the run: Last and LastUpdated the time it fired (not before the occurrence), Next an interval on.
        var saved = await Eventually.WaitAsync(async () => JsonDocument.Parse((await status.DownloadContentAsync()).Value.Content.ToString()).RootElement.Clone(),
            s => s.GetProperty("Next").GetDateTimeOffset() > next, TestHost.Deadline, "the status saved after the run");
        var fired = saved.GetProperty("Last").GetDateTimeOffset();
        Assert.InRange(fired, next, run.Start);
        Assert.Equal(fired, saved.GetProperty("LastUpdated").GetDateTimeOffset());
        Assert.Equal(fired.AddMinutes(1), saved.GetProperty("Next").GetDateTimeOffset());
    }

    [Fact]
    public async Task A_time_span_that_changed_since_the_host_stopped_goes_on_an_interval_after_its_last_occurrence()
    {
        // As Azure's ScheduleMonitor: a status saved under another schedule (20 s, its Next 25 s ago) has nothing past due,
        // and the new schedule's next occurrence is counted from the last one while that is still to come: a minute after
        // the run that fired 45 s ago, 15 s from now, not a minute after the host started.
        var queues = new TestQueues(azurite.ConnectionString);
        var now = DateTimeOffset.UtcNow;
        var last = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, TimeSpan.Zero).AddSeconds(-45);
        var status = await SaveTickStatusAsync(queues, last: last, next: last.AddSeconds(20), lastUpdated: last);

        await using var host = await TestHost.StartAsync(queues, new Dictionary<string, string?> { ["TickSchedule"] = "00:01:00" });
        var run = TickRuns(await queues.WaitForRecordsAsync(r => TickRuns(r).Count >= 1, "the run a minute after the last one", TimeSpan.FromSeconds(45))).First();
        Assert.Equal(last.AddMinutes(1), run.Record.GetProperty("next").GetDateTimeOffset());
        Assert.False(run.Record.GetProperty("IsPastDue").GetBoolean());
        Assert.Contains(host.Logs.Lines, l => l.Contains("Tick: its schedule changed since its status was saved", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("00:00:03")]
    [InlineData("*/3 * * * * *")]
    public async Task A_schedule_that_fires_more_than_once_a_minute_keeps_no_schedule_status_so_nothing_is_past_due(string schedule)
    {
        // As Azure's TimerSchedule.Create: useMonitor is turned off for a time span under a minute, and for an NCRONTAB
        // schedule firing more than once a minute. A status such a timer was left with (its occurrence missed an hour
        // ago) is not read, and runs are handed none.
        var queues = new TestQueues(azurite.ConnectionString);
        var last = WholeMinuteAnHourAgo();
        var status = await SaveTickStatusAsync(queues, last: last, next: last.AddSeconds(3), lastUpdated: last);
        var left = (await status.DownloadContentAsync()).Value.Content.ToString();

        await using var host = await TestHost.StartAsync(queues, new Dictionary<string, string?> { ["TickSchedule"] = schedule });
        var runs = TickRuns(await queues.WaitForRecordsAsync(r => TickRuns(r).Count >= 2, "two timer runs"));
        Assert.All(runs, run =>
        {
            Assert.False(run.Record.GetProperty("IsPastDue").GetBoolean());
            Assert.Equal(JsonValueKind.Null, run.Record.GetProperty("next").ValueKind);
        });
        Assert.Equal(left, (await status.DownloadContentAsync()).Value.Content.ToString());
        Assert.Contains(host.Logs.Lines, l => l.Contains("Tick keeps no schedule status", StringComparison.Ordinal));
    }

    /// <summary>Starts the test app with its timers keeping time by <paramref name="clock"/>.</summary>
    private static Task<TestHost> StartOnClockAsync(TestQueues queues, ShiftedClock clock, IReadOnlyDictionary<string, string?> settings) =>
        TestHost.StartAsync(queues, settings, o => new LocalHostOptions
        {
            AppDirectory = o.AppDirectory, Urls = o.Urls, Settings = o.Settings, AzuriteDataFolder = o.AzuriteDataFolder, WorkerGracePeriod = o.WorkerGracePeriod, Clock = clock,
        });

    [Fact]
    public async Task A_timer_whose_next_occurrence_is_more_than_49_days_away_waits_for_it_in_pieces()
    {
        // .NET's timers wait 49.7 days at most: a 29 February 70 days away was waited for whole, which threw, and the
        // timer stopped ("A trigger stopped"). As Azure's TimerListener, the host waits 24 days at most at a time.
        var queues = new TestQueues(azurite.ConnectionString);
        var occurrence = new DateTimeOffset(2028, 2, 29, 6, 0, 0, TimeSpan.Zero);
        // (OnStartup's next occurrence, 1 January, is 12 days away: a wait of its own, in one piece.)
        var clock = new ShiftedClock(new DateTimeOffset(2027, 12, 20, 0, 0, 0, TimeSpan.Zero));
        await using var host = await StartOnClockAsync(queues, clock, new Dictionary<string, string?> { ["TickSchedule"] = "0 0 6 29 FEB *" });

        await Eventually.WaitAsync(() => Task.FromResult(clock.Waits(due => due > clock.GetUtcNow().AddDays(20)) || host.Logs.Contains("A trigger stopped")),
            TestHost.Deadline, "Tick to wait for its occurrence");
        Assert.False(host.Logs.Contains("A trigger stopped"), host.Logs.Tail());
        Assert.False(clock.Waits(due => due > clock.GetUtcNow().AddDays(24).AddMinutes(1)), "a wait longer than 24 days");

        clock.JumpTo(occurrence.AddSeconds(-2));
        var run = TickRuns(await queues.WaitForRecordsAsync(r => TickRuns(r).Count >= 1, "the run on 29 February")).Single();
        Assert.Equal(occurrence, run.Record.GetProperty("next").GetDateTimeOffset());
        Assert.False(run.Record.GetProperty("IsPastDue").GetBoolean());
    }

    [Fact]
    public async Task An_ncrontab_occurrence_that_came_due_while_a_run_ran_fires_at_once_and_the_schedule_goes_on_from_then()
    {
        // As Azure's TimerListener: the timer is set for the status's Next when a run ends, and fires at once (not past
        // due) when that has passed. Only that one occurrence: its Next is the first after the time it fired.
        var queues = new TestQueues(azurite.ConnectionString);
        var eleven = new DateTimeOffset(2027, 12, 20, 11, 0, 0, TimeSpan.Zero);
        var clock = new ShiftedClock(eleven.AddMinutes(-1));
        await using var host = await StartOnClockAsync(queues, clock, new Dictionary<string, string?> { ["TickSchedule"] = "0 0 * * * *", ["TickBusyMs"] = "8000" });
        await Eventually.WaitAsync(() => Task.FromResult(clock.Waits(due => (due - eleven).Duration() < TimeSpan.FromSeconds(1))), TestHost.Deadline, "Tick to wait for 11:00");
        clock.JumpTo(eleven.AddSeconds(-1));

        // While the 11:00 run is busy, 12:00 and 13:00 pass.
        await queues.WaitForRecordsAsync(r => r.Any(x => x.GetProperty("function").GetString() == "TickBusy"), "the 11:00 run under way");
        clock.JumpTo(eleven.AddHours(2).AddSeconds(30));

        var runs = TickRuns(await queues.WaitForRecordsAsync(r => TickRuns(r).Count >= 2, "the run of the occurrence that came due meanwhile"));
        // As in the Functions host, a run is handed the status as it stood before it: its Next is the occurrence being run.
        Assert.Equal(eleven, runs[0].Record.GetProperty("next").GetDateTimeOffset());
        var atOnce = runs[1].Record;
        Assert.Equal(eleven.AddHours(1), atOnce.GetProperty("next").GetDateTimeOffset());
        Assert.InRange(atOnce.GetProperty("last").GetDateTimeOffset(), eleven, eleven.AddSeconds(5));
        Assert.False(atOnce.GetProperty("IsPastDue").GetBoolean());
        Assert.InRange(runs[1].Start - runs[0].End, TimeSpan.Zero, TimeSpan.FromSeconds(5));

        // It fired after 13:00: the schedule goes on at 14:00 (13:00 is not run too).
        var blob = new BlobContainerClient(azurite.ConnectionString, "azure-webjobs-hosts").GetBlobClient($"timers/{queues.HostId}/Tick/status");
        var status = await Eventually.WaitAsync(async () => JsonDocument.Parse((await blob.DownloadContentAsync()).Value.Content.ToString()).RootElement.Clone(),
            s => s.GetProperty("Next").GetDateTimeOffset() > eleven.AddHours(1), TestHost.Deadline, "the status saved after the second run");
        Assert.Equal(eleven.AddHours(3), status.GetProperty("Next").GetDateTimeOffset());
        Assert.InRange(status.GetProperty("Last").GetDateTimeOffset(), eleven.AddHours(2).AddSeconds(30), eleven.AddHours(2).AddMinutes(1));
    }

    [Fact]
    public async Task An_occurrence_whose_timer_fires_late_is_not_past_due()
    {
        // As Azure's TimerListener: only the run at start for an occurrence missed while no host ran is past due; a timer
        // that fires late (a machine that slept through the occurrence, here a clock moved on two minutes past it) runs
        // a regular invocation, handed the occurrence as Next.
        var queues = new TestQueues(azurite.ConnectionString);
        var eleven = new DateTimeOffset(2027, 12, 20, 11, 0, 0, TimeSpan.Zero);
        var clock = new ShiftedClock(eleven.AddMinutes(-1));
        await using var host = await StartOnClockAsync(queues, clock, new Dictionary<string, string?> { ["TickSchedule"] = "0 0 * * * *" });
        await Eventually.WaitAsync(() => Task.FromResult(clock.Waits(due => (due - eleven).Duration() < TimeSpan.FromSeconds(1))), TestHost.Deadline, "Tick to wait for 11:00");
        clock.JumpTo(eleven.AddMinutes(2));

        var run = TickRuns(await queues.WaitForRecordsAsync(r => TickRuns(r).Count >= 1, "the 11:00 run")).Single();
        Assert.Equal(eleven, run.Record.GetProperty("next").GetDateTimeOffset());
        Assert.False(run.Record.GetProperty("IsPastDue").GetBoolean());
    }

    [Fact]
    public async Task A_schedule_with_no_occurrence_to_come_keeps_its_lock_and_does_not_run()
    {
        // 30 February: Cronos gives no next occurrence. The scheduler returned, let the lock go and took it again at once,
        // over and over (status read and written each time, nothing logged). As Azure's host, whose NCRONTAB gives the
        // end of time, it now holds its lock and waits, and says why it does not run.
        var queues = new TestQueues(azurite.ConnectionString);
        await using var host = await TestHost.StartAsync(queues, new Dictionary<string, string?> { ["TickSchedule"] = "0 0 0 30 2 *" });
        const string line = "Tick: its schedule '0 0 0 30 2 *' has no occurrence to come; it does not run";
        await Eventually.WaitAsync(() => Task.FromResult(host.Logs.Lines.Any(l => l.Contains(line, StringComparison.Ordinal))), TestHost.Deadline, "Tick to say it does not run");
        var hosts = new BlobContainerClient(azurite.ConnectionString, "azure-webjobs-hosts");
        var status = hosts.GetBlobClient($"timers/{queues.HostId}/Tick/status");
        var saved = (await status.GetPropertiesAsync()).Value.ETag;
        // The lock stays held, and the status is not written again (the loop rewrote it continually).
        var lockBlob = hosts.GetBlobClient($"locks/{queues.HostId}/Tick.Listener");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(Azure.Storage.Blobs.Models.LeaseState.Leased, (await lockBlob.GetPropertiesAsync()).Value.LeaseState);
            Assert.Equal(saved, (await status.GetPropertiesAsync()).Value.ETag);
        }
        Assert.Single(host.Logs.Lines, l => l.Contains(line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_timer_goes_on_running_after_storage_was_away_while_an_occurrence_came_due()
    {
        // Storage of its own, started again on the same ports and data folder.
        var folder = Directory.CreateTempSubdirectory("lh-timer-outage-");
        var ports = LocalHost.Storage.AzuriteServer.FreePorts();
        var storage = await LocalHost.Storage.AzuriteServer.StartAsync(folder.FullName, ports: ports);
        try
        {
            var queues = new TestQueues(storage.ConnectionString);
            // A schedule that keeps its status (one firing more than once a minute keeps none), its first occurrence
            // moved up, and runs long enough to take storage away during one.
            var eleven = new DateTimeOffset(2027, 12, 20, 11, 0, 0, TimeSpan.Zero);
            var clock = new ShiftedClock(eleven.AddMinutes(-1));
            await using var host = await StartOnClockAsync(queues, clock, new Dictionary<string, string?> { ["TickSchedule"] = "0 * * * * *", ["TickBusyMs"] = "8000" });
            await Eventually.WaitAsync(() => Task.FromResult(clock.Waits(due => (due - eleven).Duration() < TimeSpan.FromSeconds(1))), TestHost.Deadline, "Tick to wait for 11:00");
            clock.JumpTo(eleven.AddSeconds(-1));
            await queues.WaitForRecordsAsync(r => r.Any(x => x.GetProperty("function").GetString() == "TickBusy"), "the 11:00 run under way");

            await storage.DisposeAsync();
            // The occurrence's run ends with storage away: it fails, and so does saving the schedule status.
            await Eventually.WaitAsync(() => Task.FromResult(host.Logs.Lines.Any(l => l.Contains("schedule status could not be saved") || l.Contains("A trigger stopped"))),
                TestHost.Deadline, "an occurrence while storage was away");
            storage = await LocalHost.Storage.AzuriteServer.StartAsync(folder.FullName, ports: ports);
            var back = DateTimeOffset.UtcNow;

            // The next occurrence (11:01) is at most a minute away, and its run takes 8 s.
            await queues.WaitForRecordsAsync(r => r.Any(x => x.GetProperty("function").GetString() == "Tick" && x.GetProperty("started").GetDateTimeOffset() > back),
                "a tick after storage came back", TimeSpan.FromSeconds(90));
            Assert.DoesNotContain(host.Logs.Lines, l => l.Contains("A trigger stopped"));
        }
        finally
        {
            await storage.DisposeAsync();
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Why_a_timer_waits_for_its_lock_reads_whether_or_not_storage_gave_a_status()
    {
        // Found by probing: a failure without a status read "another host holds its listener lock (or storage did not answer: (null))".
        Assert.Equal("another host holds its listener lock; waiting to take over",
            LocalHost.Triggers.Timers.TimerTriggerScheduler.WhyWaiting(new Azure.RequestFailedException(409, "There is already a lease present.", "LeaseAlreadyPresent", null)));
        Assert.Equal("its listener lock could not be taken: Storage did not answer (Connection refused (127.0.0.1:1)); trying again every 10 s",
            LocalHost.Triggers.Timers.TimerTriggerScheduler.WhyWaiting(new HttpRequestException("Connection refused (127.0.0.1:1)")));
        Assert.Equal("its listener lock could not be taken: Storage did not answer (The server is busy.); trying again every 10 s",
            LocalHost.Triggers.Timers.TimerTriggerScheduler.WhyWaiting(new Azure.RequestFailedException(503, "The server is busy.\nRequestId: 1", "ServerBusy", null)));
    }

    [Theory]
    [InlineData("*/5 * * * *", "6 fields")]
    [InlineData("0 0 25 * * *", "not a valid NCRONTAB expression")]
    public async Task A_schedule_that_is_not_ncrontab_leaves_the_timer_off_with_a_message_naming_the_setting(string schedule, string reason)
    {
        var queues = new TestQueues(azurite.ConnectionString);
        await using var host = await TestHost.StartAsync(queues, new Dictionary<string, string?> { ["TickSchedule"] = schedule });
        Assert.True(host.Logs.Lines.Any(l => l.Contains("Function Tick does not run") && l.Contains("%TickSchedule%") && l.Contains(reason)), host.Logs.Tail());
    }
}
