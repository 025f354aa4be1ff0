using Microsoft.Extensions.Logging;
using System.Text.Json.Nodes;
using CrmMetrics.LocalHost.App;
using CrmMetrics.LocalHost.Hosting;
using CrmMetrics.LocalHost.Rpc;
using CrmMetrics.LocalHost.Rpc.Messages;
using CrmMetrics.LocalHost.Triggers.Timers;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>The host's pure parts: host.json, schedules, output values, the command line.</summary>
public sealed class HostUnitTests
{
    [Fact]
    public void A_category_given_its_own_level_logs_beside_a_higher_minimum()
    {
        // The demo logs warnings, and runs' lifecycle lines (found by a soak: a long catch-up left its log silent).
        var capture = new CrmMetrics.Testing.LogCapture();
        using (var loggers = Microsoft.Extensions.Logging.LoggerFactory.Create(b =>
        {
            b.AddProvider(capture);
            LocalFunctionsHost.ConfigureLogging(b, console: false, Microsoft.Extensions.Logging.LogLevel.Warning,
                new Dictionary<string, Microsoft.Extensions.Logging.LogLevel> { ["CrmMetrics.Runs"] = Microsoft.Extensions.Logging.LogLevel.Information });
        }))
        {
            Microsoft.Extensions.Logging.LoggerExtensions.LogInformation(loggers.CreateLogger("CrmMetrics.Runs"), "run ended");
            Microsoft.Extensions.Logging.LoggerExtensions.LogInformation(loggers.CreateLogger("CrmMetrics.Functions.Jobs.CompletePeriodFunction"), "period done");
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(loggers.CreateLogger("CrmMetrics.Functions.Jobs.CompletePeriodFunction"), "period late");
        }
        Assert.True(capture.Contains("run ended"));
        Assert.False(capture.Contains("period done"));
        Assert.True(capture.Contains("period late"));
    }

    [Fact]
    public void A_child_process_keeps_only_its_last_lines_however_much_it_writes()
    {
        var lines = new LastLines(capacity: 3);
        for (var i = 1; i <= 10_000; i++) lines.Add($"line {i}");
        Assert.Equal(3, lines.Count);
        Assert.Equal("line 9999 | line 10000", lines.Tail(2, " | "));
        Assert.Equal("line 9998\nline 9999\nline 10000".Replace("\n", Environment.NewLine), lines.ToString());
    }

    [Theory]
    // Found by probing: the keyless admin routes ran any function for whoever reached the host.
    [InlineData("127.0.0.1", true)]
    [InlineData("127.0.0.2", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("192.0.2.2", false)]
    [InlineData("::ffff:192.0.2.2", false)]
    [InlineData("fd00::2", false)]
    public void The_keyless_admin_routes_answer_loopback_alone(string remote, bool allowed) =>
        Assert.Equal(allowed, CrmMetrics.LocalHost.Triggers.AdminEndpoints.IsFromThisMachine(System.Net.IPAddress.Parse(remote)));

    [Theory]
    // Found by probing: a web page open on the developer's machine could post a text/plain body (sent without
    // asking) to /admin/functions/IngestQueuedEvents and store facts, and a page whose host name was rebound to
    // 127.0.0.1 could read the host's status.
    [InlineData("localhost:7071", null, null, null, null)]
    [InlineData("127.0.0.1:7071", null, "application/json", null, null)]
    [InlineData("[::1]:7071", null, "application/json; charset=utf-8", null, null)]
    [InlineData("127.0.0.1:7071", null, null, "none", null)]
    [InlineData("127.0.0.1:7071", "http://evil.example", "application/json", null, 403)]
    [InlineData("127.0.0.1:7071", "http://localhost:7071", null, null, 403)]
    [InlineData("127.0.0.1:7071", null, null, "cross-site", 403)]
    [InlineData("evil.example:7071", null, null, null, 403)]
    [InlineData("127.0.0.1:7071", null, "text/plain", null, 415)]
    [InlineData("127.0.0.1:7071", null, "application/x-www-form-urlencoded", null, 415)]
    public void The_keyless_admin_routes_refuse_what_a_web_page_can_send(string host, string? origin, string? contentType, string? fetchSite, int? refused)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        context.Request.Method = "POST";
        context.Request.Host = new Microsoft.AspNetCore.Http.HostString(host);
        if (origin is not null) context.Request.Headers.Origin = origin;
        if (fetchSite is not null) context.Request.Headers["Sec-Fetch-Site"] = fetchSite;
        if (contentType is not null)
        {
            context.Request.ContentType = contentType;
            context.Request.ContentLength = 12;
        }
        var result = CrmMetrics.LocalHost.Triggers.AdminEndpoints.Refusal(context.Request);
        Assert.Equal(refused, (result as Microsoft.AspNetCore.Http.IStatusCodeHttpResult)?.StatusCode);
    }

    [Fact]
    public void A_request_from_an_unknown_address_is_not_from_this_machine() =>
        Assert.False(CrmMetrics.LocalHost.Triggers.AdminEndpoints.IsFromThisMachine(null));

    [Fact]
    public void Host_json_defaults_are_the_functions_hosts()
    {
        var host = HostJson.Parse(new JsonObject(), "host.json");
        Assert.Equal("api", host.RoutePrefix);
        Assert.Equal(new QueueOptions(16, 8, TimeSpan.FromMinutes(1), TimeSpan.Zero, 5, true), host.Queues);
    }

    [Fact]
    public void Host_json_queue_settings_are_read_and_new_batch_threshold_defaults_to_half_the_batch()
    {
        var host = HostJson.Parse(JsonNode.Parse("""{ "extensions": { "http": { "routePrefix": "/x/" }, "queues": { "batchSize": 10, "maxDequeueCount": 2, "visibilityTimeout": "00:00:03", "messageEncoding": "none" } } }""")!.AsObject(), "host.json");
        Assert.Equal("x", host.RoutePrefix);
        Assert.Equal(new QueueOptions(10, 5, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(3), 2, false), host.Queues);
    }

    [Theory]
    [InlineData("""{ "extensions": { "queues": { "batchSize": 64 } } }""", "batchSize")]
    [InlineData("""{ "extensions": { "queues": { "visibilityTimeout": "soon" } } }""", "visibilityTimeout")]
    [InlineData("""{ "extensions": { "queues": { "messageEncoding": "utf7" } } }""", "messageEncoding")]
    [InlineData("""{ "functionTimeout": "-00:01:00" }""", "functionTimeout")]
    public void A_host_json_value_out_of_range_is_an_error_naming_it(string json, string name)
    {
        var error = Assert.Throws<AppFolderException>(() => HostJson.Parse(JsonNode.Parse(json)!.AsObject(), "host.json"));
        Assert.Contains(name, error.Message);
    }

    [Fact]
    public void Ncrontab_schedules_have_six_fields_and_time_spans_are_intervals()
    {
        var at = new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
        Assert.Equal(at.AddMinutes(15), TimerSchedule.Parse("0 */15 * * * *", "KpiSchedule", null).Next(at));
        Assert.Equal(at.AddMinutes(5), TimerSchedule.Parse("00:05:00", "S", null).Next(at));
        Assert.Contains("6 fields", Assert.Throws<FormatException>(() => TimerSchedule.Parse("*/5 * * * *", "%S%", null)).Message);
        Assert.Contains("%S%", Assert.Throws<FormatException>(() => TimerSchedule.Parse("0 0 25 * * *", "%S%", null)).Message);
        // Azure's NCRONTAB has none of Quartz's L, W, # or ?, which Cronos reads; names such as JUL and WED still read.
        foreach (var quartz in new[] { "0 0 0 L * *", "0 0 7 * * MON#2", "0 0 12 ? * *", "0 0 12 15W * *" })
            Assert.Contains("NCRONTAB has no", Assert.Throws<FormatException>(() => TimerSchedule.Parse(quartz, "S", null)).Message);
        // Nor does it take 7 for Sunday, as Cronos does; a step of 7 is not a day.
        foreach (var sunday in new[] { "0 0 9 * * 7", "0 0 9 * * 1,7", "0 0 9 * * 5-7", "0 0 9 * * 7/2" })
            Assert.Contains("day-of-week", Assert.Throws<FormatException>(() => TimerSchedule.Parse(sunday, "S", null)).Message);
        Assert.Equal(DayOfWeek.Sunday, TimerSchedule.Parse("0 0 9 * * 0", "S", null).Next(new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero))!.Value.DayOfWeek);
        Assert.Equal(new DateTimeOffset(2027, 7, 7, 6, 0, 0, TimeSpan.Zero), TimerSchedule.Parse("0 0 6 * JUL WED", "S", null).Next(new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void A_saved_status_belongs_to_the_schedule_that_gives_its_next_occurrence()
    {
        var run = new DateTimeOffset(2026, 12, 7, 2, 20, 0, TimeSpan.Zero);
        var minutes = TimerSchedule.Parse("0 */1 * * * *", "S", null);
        // As this host writes it: Next from the time it was computed from.
        Assert.True(minutes.Gave(run.AddMinutes(1), run, run));
        // As an earlier host wrote it (LastUpdated the end of a run that took 90 s): Next is still an occurrence.
        Assert.True(minutes.Gave(run.AddMinutes(2), run, run.AddSeconds(90)));
        // Saved under a 20-second schedule: 02:20:20 is no occurrence of the minute schedule.
        Assert.False(minutes.Gave(run.AddSeconds(20), run, run));

        var interval = TimerSchedule.Parse("00:00:25", "S", null);
        Assert.True(interval.Gave(run.AddSeconds(25), run, run));
        // An earlier host: Next 25 s after the run's start, LastUpdated the run's end 3 s later.
        Assert.True(interval.Gave(run.AddSeconds(25), run, run.AddSeconds(3)));
        // Saved under the 20-second NCRONTAB schedule (the operator's probe).
        Assert.False(interval.Gave(run.AddSeconds(20), run, run));

        // An unset LastUpdated (a status written by hand) is unknown, not an error, in a zone behind UTC too. With no time
        // its Next was counted from, the Next is not taken for the schedule's (Azure's host counts one from now instead).
        var newYork = TimerSchedule.Parse("0 */1 * * * *", "S", "America/New_York");
        Assert.False(newYork.Gave(run.AddMinutes(1), null, default));
        Assert.False(newYork.Gave(run.AddSeconds(20), null, default));
        Assert.False(newYork.Gave(default, null, default));
    }

    [Fact]
    public void A_saved_next_occurrence_that_the_new_schedule_also_has_but_would_not_give_is_a_schedule_change()
    {
        // Every two hours, changed to hourly while no host ran: the saved Next (an even hour) is an hourly occurrence too,
        // but the hourly schedule gives 11:00 after the run at 10:00. Azure's ScheduleMonitor finds the schedule changed.
        var ten = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
        var hourly = TimerSchedule.Parse("0 0 * * * *", "S", null);
        // As this host (and Azure's) saves it: Last and LastUpdated the time the run fired.
        Assert.False(hourly.Gave(ten.AddHours(2), ten, ten));
        // As the earlier host saved it after a short run (LastUpdated its end): still a change.
        Assert.False(hourly.Gave(ten.AddHours(2), ten, ten.AddSeconds(5)));
        // The earlier host's status after a run that outlasted its Next (10:00 to 12:30; Next counted from its start)
        // still belongs: the schedule gives 12:00 from a time during the run.
        Assert.True(TimerSchedule.Parse("0 0 */2 * * *", "S", null).Gave(ten.AddHours(2), ten, ten.AddHours(2.5)));
        Assert.True(hourly.Gave(ten.AddHours(1), ten, ten.AddMinutes(90)));
        // But not a Next before the run it was counted after.
        Assert.False(hourly.Gave(ten.AddHours(-1), ten, ten.AddMinutes(90)));
    }

    [Fact]
    public void The_next_occurrence_is_counted_from_when_the_last_one_fired_and_one_a_run_outlasted_fires_at_once()
    {
        // As Azure's TimerListener: the status after a run is computed from the time it fired, and the timer is set for
        // its Next (at once when the run outlasted it).
        var fired = new DateTimeOffset(2026, 12, 7, 2, 20, 0, 300, TimeSpan.Zero);
        var interval = TimerSchedule.Parse("00:00:25", "S", null);
        // A time span: the next fires 25 s after the last one fired, not 25 s after the run ended.
        var saved = interval.StatusAfter(fired.AddMilliseconds(-300), fired);
        Assert.Equal(new ScheduleStatus(fired, fired.AddSeconds(25), fired), saved);
        // A 40-second run: the occurrence that came due meanwhile fires at once, and the one after it is 25 s after it fired.
        Assert.Equal(new ScheduleStatus(fired.AddSeconds(40), fired.AddSeconds(65), fired.AddSeconds(40)), interval.StatusAfter(saved.Next!.Value, fired.AddSeconds(40)));
        // Fired early (clock skew): counted from the occurrence, so that it does not come again.
        Assert.Equal(fired.AddSeconds(50), interval.StatusAfter(fired.AddSeconds(25), fired.AddSeconds(24.99)).Next);
        Assert.Equal(new ScheduleStatus(null, fired.AddSeconds(25), fired), interval.FirstStatus(fired));

        // NCRONTAB: the occurrence after the one that fired at 02:20; a run of 150 s outlasts 02:21 and 02:22.
        var minutes = TimerSchedule.Parse("0 */1 * * * *", "S", null);
        var run = new DateTimeOffset(2026, 12, 7, 2, 20, 0, TimeSpan.Zero);
        var afterRun = minutes.StatusAfter(run, run.AddMilliseconds(2));
        Assert.Equal(run.AddMinutes(1), afterRun.Next);
        // 02:21 fires at once, at 02:22:30; the one after it is the first after then, 02:23 (02:22 is not run).
        Assert.Equal(new ScheduleStatus(run.AddSeconds(150), run.AddMinutes(3), run.AddSeconds(150)), minutes.StatusAfter(afterRun.Next!.Value, run.AddSeconds(150)));
    }

    [Fact]
    public void A_schedule_that_fires_more_than_once_a_minute_keeps_no_status()
    {
        // As Azure's TimerSchedule.Create: useMonitor is turned off for a time span under a minute.
        Assert.False(TimerSchedule.Parse("00:00:25", "S", null).KeepsStatus);
        Assert.True(TimerSchedule.Parse("00:01:00", "S", null).KeepsStatus);
        // And for an NCRONTAB schedule whose fields but the seconds take every value (read as *), with more than one second.
        foreach (var often in new[] { "* * * * * *", "*/20 * * * * *", "0,30 * * * * *", "*/20 0-59 */1 1-31 JAN-DEC SUN-SAT" })
            Assert.False(TimerSchedule.Parse(often, "S", null).KeepsStatus, often);
        // Once a minute, or a field that does not take every value (a minute every second of which fires, too).
        foreach (var kept in new[] { "0 * * * * *", "0 */1 * * * *", "* 0 * * * *", "*/20 * * * * 1-5", "*/20 * * * FEB-DEC *", "*/20 * * 2-31 * *", "*/20 * 0-22 * * *", "0 */15 * * * *" })
            Assert.True(TimerSchedule.Parse(kept, "S", null).KeepsStatus, kept);
    }

    [Fact]
    public void A_status_saved_under_another_schedule_goes_on_from_its_last_occurrence_while_the_new_schedule_gives_one_to_come()
    {
        // As Azure's ScheduleMonitor.CheckPastDueAsync: counted from Last, else LastUpdated, else now; never past due.
        var last = new DateTimeOffset(2026, 12, 7, 2, 20, 0, TimeSpan.Zero);
        var underTwenty = new ScheduleStatus(last, last.AddSeconds(20), last);
        var interval = TimerSchedule.Parse("00:00:25", "S", null);
        Assert.Equal(new ScheduleStatus(null, last.AddSeconds(25), last), interval.Rescheduled(underTwenty, last.AddSeconds(22)));
        Assert.Equal(new ScheduleStatus(null, last.AddSeconds(55), last.AddSeconds(30)), interval.Rescheduled(underTwenty, last.AddSeconds(30)));
        Assert.Equal(new ScheduleStatus(null, last.AddSeconds(25), last), interval.Rescheduled(underTwenty with { Last = null }, last.AddSeconds(22)));
        // Unset times (a status written by hand) are unknown: from now, in a zone behind UTC too.
        var newYork = TimerSchedule.Parse("0 */1 * * * *", "S", "America/New_York");
        Assert.Equal(new ScheduleStatus(null, last.AddMinutes(1), last.AddSeconds(22)), newYork.Rescheduled(new ScheduleStatus(default(DateTimeOffset), last, default), last.AddSeconds(22)));
        // NCRONTAB: the first occurrence after now, as before.
        Assert.Equal(last.AddMinutes(1), TimerSchedule.Parse("0 */1 * * * *", "S", null).Rescheduled(underTwenty, last.AddSeconds(22)).Next);
    }

    [Fact]
    public void A_schedule_follows_website_time_zone()
    {
        var schedule = TimerSchedule.Parse("0 0 9 * * *", "S", "Asia/Tehran");
        var next = schedule.Next(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero))!.Value;
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 5, 30, 0, TimeSpan.Zero), next.ToUniversalTime());
        Assert.Contains("WEBSITE_TIME_ZONE", Assert.Throws<FormatException>(() => TimerSchedule.Parse("0 0 9 * * *", "S", "Mars/Olympus")).Message);
    }

    [Fact]
    public void Output_values_become_one_message_each()
    {
        Assert.Equal(["a", "{\"b\":2}", "3"], TypedDataText.Messages(new TypedData { Json = """["a",{"b":2},3,null]""" }).Select(m => m.ToString()));
        Assert.Equal(["x", "y"], TypedDataText.Messages(new TypedData { CollectionString = new CollectionString { String = { "x", "y" } } }).Select(m => m.ToString()));
        Assert.Equal(["plain"], TypedDataText.Messages(new TypedData { String = "plain" }).Select(m => m.ToString()));
        Assert.Equal(["{\"one\":1}"], TypedDataText.Messages(new TypedData { Json = """{"one":1}""" }).Select(m => m.ToString()));
        Assert.Empty(TypedDataText.Messages(new TypedData { Json = "null" }));
        Assert.Empty(TypedDataText.Messages(null));
    }

    [Fact]
    public void The_command_line_takes_urls_an_app_and_settings_and_refuses_what_it_does_not_know()
    {
        var options = HostCommand.Parse(["--urls", "http://127.0.0.1:7100;http://127.0.0.1:7101", "--app", "/tmp/app", "--setting", "A__B=c=d"]);
        Assert.Equal(["http://127.0.0.1:7100", "http://127.0.0.1:7101"], options.Urls);
        Assert.Equal("/tmp/app", options.AppDirectory);
        Assert.Equal("c=d", options.Settings["A__B"]);
        Assert.Equal("http://127.0.0.1:7102", HostCommand.Parse(["--urls=http://127.0.0.1:7102"]).Urls.Single());
        Assert.Equal("persian", HostCommand.Parse(["--setting=CrmMetrics__Calendar=persian"]).Settings["CrmMetrics__Calendar"]); // found by probing: refused
        Assert.Contains("--bogus", Assert.Throws<ArgumentException>(() => HostCommand.Parse(["--bogus"])).Message);
        Assert.Contains("--urls", Assert.Throws<ArgumentException>(() => HostCommand.Parse(["--urls", "ftp://x"])).Message);
        Assert.NotNull(HostCommand.DefaultApp());
    }

    [Fact]
    public async Task A_queue_lease_longer_than_storage_hides_a_message_is_refused_naming_the_option()
    {
        // Found by probing: 8.00:00:00 was taken, then every receive failed ("outside the permissible range":
        // storage hides a message for 7 days at most) while health said healthy.
        Assert.Equal(TimeSpan.FromDays(7), HostCommand.Parse(["--queue-lease", "7.00:00:00"]).QueueMessageLease);
        Assert.Contains("--queue-lease", Assert.Throws<ArgumentException>(() => HostCommand.Parse(["--queue-lease", "8.00:00:00"])).Message);
        Assert.Contains("--queue-lease", Assert.Throws<ArgumentException>(() => HostCommand.Parse(["--queue-lease=7.00:00:01"])).Message);
        Assert.Contains("--queue-lease", Assert.Throws<ArgumentException>(() => HostCommand.Parse(["--queue-lease", "00:00:04"])).Message);
        // Found by probing: a bare number was taken as days.
        Assert.Contains("[d.]hh:mm", Assert.Throws<ArgumentException>(() => HostCommand.Parse(["--queue-lease", "5"])).Message);
        Assert.Equal(TimeSpan.FromMinutes(62), HostCommand.Parse(["--queue-lease", "1:02"]).QueueMessageLease);
        Assert.Equal(2, await HostCommand.RunAsync(["--queue-lease", "8.00:00:00"]));
    }
}
