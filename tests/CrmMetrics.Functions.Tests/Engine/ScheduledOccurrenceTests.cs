using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace CrmMetrics.Functions.Tests.Engine;

/// <summary>Which occurrence a KpiSchedule invocation names its run after: the one its status hands over (on time, late, past due), else the clock's.</summary>
public class ScheduledOccurrenceTests
{
    /// <summary>The run id the timer function asks for at <paramref name="now"/>, under a schedule of every two minutes.</summary>
    private static string RunIdAt(DateTimeOffset now, TimerInfo timer, string? zone = null, string schedule = "0 */2 * * * *")
    {
        var values = new Dictionary<string, string?> { ["KpiSchedule"] = schedule };
        if (zone is not null) values["WEBSITE_TIME_ZONE"] = zone;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var function = new KpiScheduleFunction(configuration, CrmMetricsSettings.Load(configuration), new FixedClock(now), NullLogger<KpiScheduleFunction>.Instance);
        return JobMessages.ReadStartRun(function.Run(timer)).RunId;
    }

    private static TimerInfo PastDue(DateTime next) => new() { IsPastDue = true, ScheduleStatus = new ScheduleStatus { Next = next } };

    private static readonly DateTimeOffset Late = new(2026, 12, 6, 20, 29, 5, TimeSpan.Zero);

    [Fact]
    public void An_occurrence_without_a_status_is_named_after_the_latest_occurrence_not_after_now()
    {
        Assert.Equal("sched-20261206T202800", RunIdAt(new DateTimeOffset(2026, 12, 6, 20, 28, 0, 300, TimeSpan.Zero), new TimerInfo()));
    }

    [Fact]
    public void An_occurrence_that_started_late_is_named_after_the_occurrence_the_host_ran()
    {
        // The 20:26 occurrence reached a busy worker at 20:29:05: the clock alone would name it after 20:28.
        var timer = new TimerInfo { ScheduleStatus = new ScheduleStatus { Next = new DateTime(2026, 12, 6, 20, 26, 0, DateTimeKind.Utc) } };

        Assert.Equal("sched-20261206T202600", RunIdAt(Late, timer));
    }

    [Fact]
    public void A_status_time_without_a_zone_that_names_two_instants_falls_back_to_the_clock()
    {
        // 02:30 on 25 October 2026 in Berlin came twice (00:30 and 01:30 UTC); the clock says 01:45:05 UTC.
        var now = new DateTimeOffset(2026, 10, 25, 1, 45, 5, TimeSpan.Zero);

        Assert.Equal("sched-20261025T014400", RunIdAt(now, PastDue(new DateTime(2026, 10, 25, 2, 30, 0, DateTimeKind.Unspecified)), "Europe/Berlin"));
    }

    [Theory]
    [InlineData(DateTimeKind.Utc)]
    [InlineData(DateTimeKind.Local)]
    [InlineData(DateTimeKind.Unspecified)]
    public void A_past_due_occurrence_is_named_after_the_occurrence_that_was_missed_not_the_latest_one(DateTimeKind kind)
    {
        // Missed at 20:26 while no host ran, fired at 20:29:05: the clock alone would name it after 20:28.
        var missed = new DateTime(2026, 12, 6, 20, 26, 0, DateTimeKind.Utc);
        var next = kind switch { DateTimeKind.Local => missed.ToLocalTime(), DateTimeKind.Unspecified => DateTime.SpecifyKind(missed, kind), _ => missed };

        Assert.Equal("sched-20261206T202600", RunIdAt(Late, PastDue(next)));
    }

    [Fact]
    public void A_past_due_occurrence_without_a_zone_is_read_in_the_zone_the_host_fires_in()
    {
        // 23:56 in Tehran (UTC+3:30) is 20:26 UTC.
        Assert.Equal("sched-20261206T202600", RunIdAt(Late, PastDue(new DateTime(2026, 12, 6, 23, 56, 0, DateTimeKind.Unspecified)), "Asia/Tehran"));
    }

    [Theory]
    [InlineData(2026, 12, 6, 20, 27, 0)]  // not an occurrence of the schedule
    [InlineData(2026, 12, 6, 20, 32, 0)]  // an occurrence still to come
    [InlineData(1, 1, 1, 0, 0, 0)]        // the status's unset value
    public void A_past_due_status_that_names_no_missed_occurrence_falls_back_to_the_clock(int year, int month, int day, int hour, int minute, int second)
    {
        Assert.Equal("sched-20261206T202800", RunIdAt(Late, PastDue(new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc))));
    }

    [Fact]
    public void A_past_due_status_whose_time_has_no_utc_falls_back_to_the_clock()
    {
        // 00:30 on 1 January of year 1 in Tehran comes before the first UTC instant there is.
        Assert.Equal("sched-20261206T202800", RunIdAt(Late, PastDue(new DateTime(1, 1, 1, 0, 30, 0, DateTimeKind.Unspecified)), "Asia/Tehran"));
    }

    [Fact]
    public void A_past_due_invocation_without_a_status_falls_back_to_the_clock()
    {
        Assert.Equal("sched-20261206T202800", RunIdAt(Late, new TimerInfo { IsPastDue = true }));
    }

    [Fact]
    public void A_past_due_occurrence_of_a_time_span_schedule_is_named_after_the_occurrence_that_was_missed()
    {
        // Found by an operator's probe: every 25 s, the occurrence due at 20:28:40.5 was missed while no host ran and
        // fired at 20:29:05; it was named after the clock's second, so two hosts running it would start two runs.
        var missed = new DateTime(2026, 12, 6, 20, 28, 40, 500, DateTimeKind.Utc);
        Assert.Equal("sched-20261206T202840", RunIdAt(Late, PastDue(missed), schedule: "00:00:25"));
        // One still to come is no occurrence being run: the clock, as before.
        Assert.Equal("sched-20261206T202905", RunIdAt(Late, PastDue(missed.AddMinutes(5)), schedule: "00:00:25"));
        Assert.Equal("sched-20261206T202905", RunIdAt(Late, new TimerInfo(), schedule: "00:00:25"));
    }
}
