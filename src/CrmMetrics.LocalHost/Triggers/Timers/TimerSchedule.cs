using System.Globalization;
using Cronos;

namespace CrmMetrics.LocalHost.Triggers.Timers;

/// <summary>
/// A timer trigger's schedule as the Functions host reads it: a 6-field NCRONTAB expression
/// (<c>second minute hour day month day-of-week</c>) in the app's time zone (<c>WEBSITE_TIME_ZONE</c>,
/// else UTC), or a constant interval written as a time span (<c>hh:mm:ss</c>).
/// </summary>
public sealed class TimerSchedule
{
    // Month and day names hold letters that are Quartz operators elsewhere (JUL, WED).
    private static readonly System.Text.RegularExpressions.Regex MonthAndDayNames = new("JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    // An instant to count a field's values from: a minute, an hour, a day, January (31 days), a year, a week.
    private static readonly DateTime CountFrom = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly CronExpression? _cron;
    private readonly TimeSpan? _interval;

    private TimerSchedule(string text, CronExpression? cron, TimeSpan? interval, TimeZoneInfo zone, bool keepsStatus)
    {
        Text = text;
        _cron = cron;
        _interval = interval;
        Zone = zone;
        KeepsStatus = keepsStatus;
    }

    public string Text { get; }
    public TimeZoneInfo Zone { get; }

    /// <summary>The first occurrence after <paramref name="after"/>, or null when there is none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) =>
        _interval is { } interval ? after + interval : _cron!.GetNextOccurrence(after, Zone);

    /// <summary>
    /// Whether the host keeps a status for this schedule when the function asks for one (<c>useMonitor</c>, the
    /// default). As the Functions host's <c>TimerSchedule.Create</c>: not for a schedule that fires more than once a
    /// minute, a time span under a minute or an NCRONTAB schedule such as <c>*/20 * * * * *</c>.
    /// </summary>
    public bool KeepsStatus { get; }

    /// <summary>A timer's first status, with no status saved (or none kept): nothing has run, the next occurrence is the first after now.</summary>
    public ScheduleStatus FirstStatus(DateTimeOffset now) => new(null, Next(now), now);

    /// <summary>
    /// The status a timer goes on from when its saved one was saved under another schedule (<see cref="Gave"/> is
    /// false), as the Functions host's <c>ScheduleMonitor.CheckPastDueAsync</c> makes it: the occurrence this schedule
    /// gives after the saved <c>Last</c> (else <c>LastUpdated</c>) while that is still to come, else the first after
    /// now, and <c>Last</c> unset. Nothing is past due either way. (For NCRONTAB both are the first occurrence after now.)
    /// </summary>
    public ScheduleStatus Rescheduled(ScheduleStatus saved, DateTimeOffset now)
    {
        var from = Known(saved.Last) ?? Known(saved.LastUpdated) ?? now;
        return Next(from) is { } next && next >= now ? new ScheduleStatus(null, next, from) : new ScheduleStatus(null, Next(now), now);
    }

    /// <summary>
    /// The status once an invocation of <paramref name="occurrence"/> that fired at <paramref name="firedAt"/> has run,
    /// as the Functions host's <c>TimerListener.InvokeJobFunction</c> makes it: <c>Last</c> and <c>LastUpdated</c> the
    /// time it fired (the occurrence itself when it fired early, so that it does not come again), <c>Next</c> the
    /// occurrence after that time. A time span's next occurrence is so an interval after the last one fired, however
    /// long its run took; an NCRONTAB occurrence that came due during the run is the one after it, fired at once, and
    /// the occurrence after that is the first after it fired (any others that came due meanwhile are not run).
    /// </summary>
    public ScheduleStatus StatusAfter(DateTimeOffset occurrence, DateTimeOffset firedAt)
    {
        var from = occurrence > firedAt ? occurrence : firedAt;
        return new ScheduleStatus(from, Next(from), from);
    }

    /// <summary>
    /// Whether a saved status's <paramref name="next"/> belongs to this schedule, or was saved under another one
    /// (or another zone). As the Functions host checks: the schedule gives it from <paramref name="lastUpdated"/>,
    /// the time it was computed from. A status an earlier local host saved has the end of its run there instead
    /// (and Next counted from a time between the run's occurrence, <paramref name="last"/>, and its end), so it
    /// belongs too when the schedule gives <paramref name="next"/> from a time during the run: this interval after
    /// one, or, for NCRONTAB, an occurrence after the run's that came due before its end (one due after the end is
    /// given from the end, the first rule). Any other occurrence of the schedule, as an even hour saved by a
    /// two-hourly schedule now hourly, is a change, as in Azure's host. An unset time is unknown.
    /// </summary>
    public bool Gave(DateTimeOffset next, DateTimeOffset? last, DateTimeOffset lastUpdated)
    {
        if (Known(next) is null) return false;
        if (Known(lastUpdated) is not null && Next(lastUpdated) == next) return true;
        if (Known(last) is not { } run || Known(lastUpdated) is null) return false;
        if (_interval is { } interval)
            return next - interval >= run && next - interval <= lastUpdated;
        return next > run && next <= lastUpdated && _cron!.GetNextOccurrence(next.AddTicks(-1), Zone) == next;
    }

    /// <summary>A saved time, or null when it is unset (0001-01-01, which no zone converts safely) or missing.</summary>
    private static DateTimeOffset? Known(DateTimeOffset? time) => time >= DateTimeOffset.MinValue.AddYears(1) ? time : null;

    /// <summary>
    /// Whether an NCRONTAB schedule fires more than once a minute, as the Functions host's
    /// <c>TimerSchedule.ShouldDisableScheduleMonitor</c> tells: every field but the seconds takes every value (reads
    /// as <c>*</c> once parsed: <c>0-59</c>, <c>*/1</c> and <c>SUN-SAT</c> do too), and the seconds field more than one.
    /// </summary>
    private static bool FiresMoreThanOnceAMinute(string[] fields) =>
        Occurrences($"0 {fields[1]} * * * *", CountFrom.AddHours(1)) == 60
        && Occurrences($"0 0 {fields[2]} * * *", CountFrom.AddDays(1)) == 24
        && Occurrences($"0 0 0 {fields[3]} * *", CountFrom.AddMonths(1)) == 31
        && Occurrences($"0 0 0 1 {fields[4]} *", CountFrom.AddYears(1)) == 12
        && Occurrences($"0 0 0 * * {fields[5]}", CountFrom.AddDays(7)) == 7
        && Occurrences($"{fields[0]} * * * * *", CountFrom.AddMinutes(1)) > 1;

    /// <summary>How many times an expression fires from <see cref="CountFrom"/> until (not at) <paramref name="until"/>.</summary>
    private static int Occurrences(string expression, DateTime until) =>
        CronExpression.Parse(expression, CronFormat.IncludeSeconds).GetOccurrences(CountFrom, until, fromInclusive: true, toInclusive: false).Count();

    /// <summary>Parses a schedule; a wrong one is an error naming where it came from.</summary>
    public static TimerSchedule Parse(string text, string source, string? timeZone)
    {
        TimeZoneInfo zone;
        try
        {
            zone = string.IsNullOrWhiteSpace(timeZone) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(timeZone);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new FormatException($"WEBSITE_TIME_ZONE '{timeZone}' is not a time zone this machine knows.");
        }

        if (text.Contains(':', StringComparison.Ordinal) && !text.Contains(' ', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var interval) && interval > TimeSpan.Zero
                ? new TimerSchedule(text, null, interval, zone, keepsStatus: interval >= TimeSpan.FromMinutes(1))
                : throw new FormatException($"The schedule '{text}' (from {source}) is neither an NCRONTAB expression nor a positive time span.");
        }
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 6)
            throw new FormatException($"The schedule '{text}' (from {source}) must have 6 fields: second minute hour day month day-of-week.");
        // Cronos reads Quartz's L, W, # and ?; the Functions host's NCRONTAB does not, and neither does this host.
        if (fields.FirstOrDefault(f => MonthAndDayNames.Replace(f, "").IndexOfAny(['L', 'l', 'W', 'w', '#', '?']) >= 0) is { } extended)
            throw new FormatException($"The schedule '{text}' (from {source}) uses '{extended}': NCRONTAB has no L, W, # or ?.");
        // Cronos takes 7 for Sunday too; NCRONTAB numbers the days of the week 0 (Sunday) to 6.
        if (fields[5].Split(',').Any(part => part.Split('/')[0].Split('-').Any(day => day.Trim() == "7")))
            throw new FormatException($"The schedule '{text}' (from {source}) has 7 in its day-of-week field: NCRONTAB numbers the days 0 (Sunday) to 6.");
        try
        {
            return new TimerSchedule(text, CronExpression.Parse(text, CronFormat.IncludeSeconds), null, zone, keepsStatus: !FiresMoreThanOnceAMinute(fields));
        }
        catch (CronFormatException e)
        {
            throw new FormatException($"The schedule '{text}' (from {source}) is not a valid NCRONTAB expression: {e.Message}");
        }
    }
}
