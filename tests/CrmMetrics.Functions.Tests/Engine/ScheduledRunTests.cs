using System.Globalization;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Engine;

/// <summary>The KpiSchedule timer: dirty days and due periods computed without anyone asking.</summary>
public class ScheduledRunTests
{
    public sealed class FrequentTimer : AppFixture
    {
        protected override IEnumerable<KeyValuePair<string, string?>> Settings() =>
        [
            new("KpiSchedule", "*/2 * * * * *"),
            new("CrmMetrics:Grains", "month"),
        ];
    }

    public sealed class RareTimer : AppFixture
    {
        // Read in Tehran's time, as the Functions host reads a schedule with WEBSITE_TIME_ZONE.
        protected override IEnumerable<KeyValuePair<string, string?>> Settings() => [new("KpiSchedule", "0 0 0 1 1 *"), new("WEBSITE_TIME_ZONE", "Asia/Tehran")];
    }

    public class OnItsOwn(FrequentTimer app) : IClassFixture<FrequentTimer>
    {
        [Fact]
        public async Task The_timer_aggregates_new_facts_and_finalises_the_current_month()
        {
            var now = DateTimeOffset.UtcNow.AddMinutes(-1);
            var month = now.ToString("yyyy-MM", CultureInfo.InvariantCulture);
            await app.PostEventsAsync(Enumerable.Range(0, 7).Select(i => new
            {
                id = $"timer-{i}", type = "order", time = now.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), customerId = $"C-{i % 3}",
                data = new { amount = 10 + i, currency = "EUR" },
            }).ToArray());

            var orders = await Eventually.WaitAsync(async () => await ApiDriver.SnapshotsAsync(app, $"grain=month&period={month}&indicator=com.orders&scope=org"),
                rows => rows.Count == 1 && ApiDriver.Value(rows[0]) == 7, TimeSpan.FromSeconds(90), "the scheduled run to count the seven orders");
            Assert.StartsWith("sched-", orders[0].GetProperty("runId").GetString());
            Assert.Equal(7 * 10 + 21, ApiDriver.Value((await ApiDriver.SnapshotsAsync(app, $"grain=month&period={month}&indicator=com.revenue&scope=org"))[0]));
        }

        [Fact]
        public async Task The_timer_finalises_a_stale_period_of_a_grain_not_configured()
        {
            // An observation or a goal can name a quarter under Grains=month; its period must not stay stale for good
            // (found by review of a change that limited runs to their grains).
            var stale = app.Services.GetRequiredService<StalePeriodStore>();
            await stale.MarkAsync(["2025-Q2"], default);
            var rows = await Eventually.WaitAsync(async () => await ApiDriver.SnapshotsAsync(app, "grain=quarter&period=2025-Q2&indicator=com.orders&scope=org"),
                found => found.Count == 1, TimeSpan.FromSeconds(90), "a scheduled run to finalise 2025-Q2");
            Assert.StartsWith("sched-", rows[0].GetProperty("runId").GetString());
            await Eventually.WaitAsync(() => stale.GetAsync("2025-Q2", default), mark => mark is null, TimeSpan.FromSeconds(30), "the stale mark to be cleared");
        }
    }

    public class FiredTwice(RareTimer app) : IClassFixture<RareTimer>
    {
        [Fact]
        public async Task Two_invocations_for_one_occurrence_start_one_run()
        {
            // The host's admin route runs the timer function now, twice at once, as two firings of one occurrence would.
            var responses = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => app.Client.PostAsync("/admin/functions/KpiSchedule", null)));
            foreach (var response in responses)
                Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{app.Logs.Tail(30)}");
            // Each firing sends a start message; the run is created by the first read, and the other is dropped.
            await Eventually.WaitAsync(() => Task.FromResult(app.Logs.Lines.Any(l => l.Contains("already started for this occurrence"))
                                                             && app.Logs.Lines.Any(l => l.Contains("Scheduled run sched-"))), TimeSpan.FromSeconds(60), "both start messages read");
            var started = app.Logs.Lines.Where(l => l.Contains("Scheduled run sched-")).ToList();
            Assert.Single(started);
            Assert.Single(app.Logs.Lines, l => l.Contains("already started for this occurrence"));
            var runId = "sched-" + started[0].Split("Scheduled run sched-")[1].Split(' ')[0];
            // The run is named after the occurrence the host fired: midnight of 1 January in Tehran, not in UTC.
            var tehran = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tehran");
            var newYear = TimeZoneInfo.ConvertTimeToUtc(new DateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, tehran).Year, 1, 1), tehran);
            Assert.Equal("sched-" + newYear.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture), runId);
            var run = await app.Services.GetRequiredService<RunStore>().GetAsync(runId, default);
            Assert.NotNull(run);
            Assert.Equal("schedule", run!.Trigger);
        }
    }

    /// <summary>A timer that does not fire during the tests, so the test sends the occurrences itself.</summary>
    public sealed class QuietTimer : AppFixture
    {
        protected override IEnumerable<KeyValuePair<string, string?>> Settings() => [new("KpiSchedule", "0 0 0 1 1 *")];
    }

    public class WhileOneRuns(QuietTimer app) : IClassFixture<QuietTimer>
    {
        [Fact]
        public async Task An_occurrence_while_the_last_scheduled_run_is_unfinished_is_skipped_and_the_next_after_it_runs()
        {
            // Found by probing: every occurrence planned again what the first still had pending, until storage gave way.
            var runs = app.Services.GetRequiredService<RunStore>();
            var calendar = new Domain.Periods.PeriodCalendar(Domain.Periods.ReportingCalendar.Gregorian, TimeZoneInfo.Utc);
            await runs.ScheduledAsync("sched-20200101T000000", record: true, planned: [calendar.Parse("2020-01", Domain.Periods.Grain.Month)]);
            var queue = app.Storage.Queue(Storage.Account.StorageNames.Queues.KpiRuns);

            await queue.SendMessageAsync(Functions.Runs.JobMessages.Write(new Functions.Runs.StartRunJob("sched-20200101T001500", Functions.Runs.RunPlanner.ScheduleTrigger)));
            await Eventually.WaitAsync(() => Task.FromResult(app.Logs.Contains("Occurrence sched-20200101T001500 skipped: scheduled run sched-20200101T000000 is still running (1 of 1 periods pending)")),
                TimeSpan.FromSeconds(60), "the occurrence to be skipped");
            Assert.Null(await runs.GetAsync("sched-20200101T001500", default));

            // Once it has ended (here: failed), the next occurrence runs.
            await runs.AddErrorAsync("sched-20200101T000000", "stopped by the test", default);
            await queue.SendMessageAsync(Functions.Runs.JobMessages.Write(new Functions.Runs.StartRunJob("sched-20200101T003000", Functions.Runs.RunPlanner.ScheduleTrigger)));
            await Eventually.WaitAsync(() => runs.GetAsync("sched-20200101T003000", default), run => run is { Planned: true }, TimeSpan.FromSeconds(60), "the next occurrence's run to be planned");
            Assert.Equal("sched-20200101T003000", await runs.LatestScheduledAsync(default));
        }
    }
}
