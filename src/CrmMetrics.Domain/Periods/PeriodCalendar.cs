using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace CrmMetrics.Domain.Periods;

/// <summary>
/// A reporting calendar placed in a time zone: turns instants into local dates and periods, parses period keys,
/// and gives each period its UTC start and end. Immutable and safe to share across threads.
/// </summary>
public sealed class PeriodCalendar : IEquatable<PeriodCalendar>
{
    // Every real UTC offset lies within -12h..+14h, so these bounds bracket any local midnight.
    private static readonly long SearchBeforeTicks = TimeSpan.FromHours(18).Ticks;
    private static readonly long SearchAfterTicks = TimeSpan.FromHours(14).Ticks;

    private readonly CalendarMonths months;

    public PeriodCalendar(ReportingCalendar calendar, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        ArgumentNullException.ThrowIfNull(zone);
        Calendar = calendar;
        TimeZone = zone;
        months = calendar.Kind == ReportingCalendarKind.Persian ? CalendarMonths.Persian : CalendarMonths.Gregorian;
    }

    public ReportingCalendar Calendar { get; }

    public TimeZoneInfo TimeZone { get; }

    /// <summary>
    /// Builds a calendar from its settings. A null or empty calendar setting means gregorian; a null or empty
    /// zone id means UTC. Fails with a short reason for an unknown setting or time zone.
    /// </summary>
    public static bool TryCreate(
        string? calendarSetting,
        string? timeZoneId,
        [NotNullWhen(true)] out PeriodCalendar? calendar,
        [NotNullWhen(false)] out string? error)
    {
        calendar = null;
        var reporting = ReportingCalendar.Gregorian;
        if (!string.IsNullOrEmpty(calendarSetting) && !ReportingCalendar.TryParse(calendarSetting, out reporting, out error))
        {
            return false;
        }

        var zone = TimeZoneInfo.Utc;
        if (!string.IsNullOrEmpty(timeZoneId) && !TryFindZone(timeZoneId, out zone))
        {
            error = $"time zone '{ReportingCalendar.Shorten(timeZoneId)}' is not a known IANA time zone id";
            return false;
        }

        calendar = new PeriodCalendar(reporting, zone);
        error = null;
        return true;
    }

    /// <summary>The Gregorian date on the wall clock of this time zone at the given instant.</summary>
    public DateOnly LocalDateOf(DateTimeOffset instant)
    {
        var localTicks = instant.UtcTicks + TimeZone.GetUtcOffset(instant).Ticks;
        if (localTicks < 0 || localTicks > DateTime.MaxValue.Ticks)
        {
            throw new ArgumentOutOfRangeException(
                nameof(instant), instant, "The instant has no local date between 0001-01-01 and 9999-12-31 in this time zone.");
        }

        return DateOnly.FromDayNumber((int)(localTicks / TimeSpan.TicksPerDay));
    }

    /// <summary>The same instant with this time zone's offset then (unchanged when the local time would fall outside <see cref="DateTimeOffset"/>'s range).</summary>
    public DateTimeOffset InZone(DateTimeOffset instant)
    {
        var offset = TimeZone.GetUtcOffset(instant);
        var localTicks = instant.UtcTicks + offset.Ticks;
        return localTicks < DateTime.MinValue.Ticks || localTicks > DateTime.MaxValue.Ticks ? instant : instant.ToOffset(offset);
    }

    /// <summary>
    /// The UTC instant at which the local date begins: local midnight, or the first valid local instant after it
    /// when a clock change skips midnight, or the earlier of the two instants when midnight happens twice.
    /// Instants before 0001-01-01 or after 9999-12-31 UTC are clamped to the ends of <see cref="DateTimeOffset"/>.
    /// </summary>
    public DateTimeOffset StartOfDay(DateOnly localDate)
    {
        var midnight = localDate.ToDateTime(TimeOnly.MinValue);
        long utcTicks;
        if (TimeZone.IsInvalidTime(midnight))
        {
            utcTicks = FirstInstantReaching(midnight.Ticks);
        }
        else if (TimeZone.IsAmbiguousTime(midnight))
        {
            // The larger offset belongs to the first pass through midnight.
            utcTicks = midnight.Ticks - TimeZone.GetAmbiguousTimeOffsets(midnight).Max().Ticks;
        }
        else
        {
            utcTicks = midnight.Ticks - TimeZone.GetUtcOffset(midnight).Ticks;
        }

        return new DateTimeOffset(Math.Clamp(utcTicks, 0, DateTime.MaxValue.Ticks), TimeSpan.Zero);
    }

    /// <summary>The period of the given grain that contains the instant, judged by its local date.</summary>
    public Period PeriodOf(Grain grain, DateTimeOffset instant) => PeriodOf(grain, LocalDateOf(instant));

    /// <summary>The period of the given grain that contains the local (Gregorian) date.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The period would reach outside the supported dates.</exception>
    public Period PeriodOf(Grain grain, DateOnly localDate)
    {
        var shape = ShapeOf(grain, localDate);
        return TryBuild(shape, out var period, out var error)
            ? period
            : throw new ArgumentOutOfRangeException(nameof(localDate), localDate, error);
    }

    /// <summary>Reads a period key of any grain; the grain follows from the key's shape. Never throws.</summary>
    public bool TryParse(string? key, [NotNullWhen(true)] out Period? period, [NotNullWhen(false)] out string? error)
    {
        period = null;
        return PeriodKeyShape.TryRead(key, out var shape, out error) && TryBuild(shape, out period, out error);
    }

    /// <summary>Reads a period key that must have the shape of the expected grain. Never throws for any key.</summary>
    public bool TryParse(
        string? key,
        Grain expected,
        [NotNullWhen(true)] out Period? period,
        [NotNullWhen(false)] out string? error)
    {
        var expectedName = Grains.Key(expected);
        period = null;
        if (!PeriodKeyShape.TryRead(key, out var shape, out error))
        {
            return false;
        }

        if (shape.Grain != expected)
        {
            error = $"'{key}' is a {Grains.Key(shape.Grain)} key, not a {expectedName} key ({PeriodKeyShape.Pattern(expected)})";
            return false;
        }

        return TryBuild(shape, out period, out error);
    }

    /// <summary>
    /// Whether <paramref name="key"/>, made under the calendar set as <paramref name="madeIn"/> (a <c>CrmMetrics:Calendar</c>
    /// value), names other days under this calendar, or reads as a period of only one of them: under fiscal:4 the year 2026 is
    /// April 2026 to March 2027, not the calendar year. A day, a week, and a month between gregorian and a fiscal calendar name the same days.
    /// </summary>
    public bool NamesOtherDays(string madeIn, string key, Grain grain) =>
        madeIn != Calendar.Setting
        && !(TryCreate(madeIn, TimeZone.Id, out var then, out _) && then.TryParse(key, grain, out var meant, out _) && TryParse(key, grain, out var now, out _)
             && meant.FirstDay == now.FirstDay && meant.LastDay == now.LastDay);

    /// <summary>Reads a period key of any grain.</summary>
    /// <exception cref="FormatException">The key is not valid; the message says why.</exception>
    public Period Parse(string key) => TryParse(key, out var period, out var error) ? period : throw new FormatException(error);

    /// <summary>Reads a period key that must be of the expected grain.</summary>
    /// <exception cref="FormatException">The key is not valid or not of that grain; the message says why.</exception>
    public Period Parse(string key, Grain expected) =>
        TryParse(key, expected, out var period, out var error) ? period : throw new FormatException(error);

    /// <summary>Consecutive periods from <paramref name="from"/> to <paramref name="to"/> inclusive; empty when to precedes from.</summary>
    /// <exception cref="ArgumentException">The periods differ in grain or belong to another calendar.</exception>
    public IEnumerable<Period> Range(Period from, Period to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (from.Grain != to.Grain)
        {
            throw new ArgumentException(
                $"Range needs periods of one grain, got {Grains.Key(from.Grain)} {from.Key} and {Grains.Key(to.Grain)} {to.Key}.",
                nameof(to));
        }

        if (!Equals(from.Calendar) || !Equals(to.Calendar))
        {
            throw new ArgumentException($"Range needs periods of this calendar ({this}).", from.Calendar.Equals(this) ? nameof(to) : nameof(from));
        }

        return Walk(from, to);
    }

    public bool Equals(PeriodCalendar? other) =>
        other is not null && Calendar.Equals(other.Calendar) && string.Equals(TimeZone.Id, other.TimeZone.Id, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as PeriodCalendar);

    public override int GetHashCode() => HashCode.Combine(Calendar, StringComparer.Ordinal.GetHashCode(TimeZone.Id));

    public override string ToString() => $"{Calendar.Setting} in {TimeZone.Id}";

    public static bool operator ==(PeriodCalendar? left, PeriodCalendar? right) =>
        left is null ? right is null : left.Equals(right);

    public static bool operator !=(PeriodCalendar? left, PeriodCalendar? right) => !(left == right);

    private static IEnumerable<Period> Walk(Period from, Period to)
    {
        if (from.FirstDay > to.FirstDay)
        {
            yield break;
        }

        for (var period = from; ; period = period.Next())
        {
            yield return period;
            if (period.FirstDay >= to.FirstDay)
            {
                yield break;
            }
        }
    }

    private static bool TryFindZone(string id, out TimeZoneInfo zone)
    {
        try
        {
            // The zone cache matches ids ignoring case, so an exact-id check keeps acceptance independent of what was loaded before.
            if (TimeZoneInfo.TryFindSystemTimeZoneById(id, out var found) && found.HasIanaId
                && string.Equals(found.Id, id, StringComparison.Ordinal))
            {
                zone = found;
                return true;
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidTimeZoneException or System.Security.SecurityException or IOException or UnauthorizedAccessException)
        {
            // Odd ids (paths, control characters) are just unknown zones to the caller.
        }

        zone = TimeZoneInfo.Utc;
        return false;
    }

    // Binary search for the transition instant that jumps over a local time, since TimeZoneInfo does not expose it.
    private long FirstInstantReaching(long localTicks)
    {
        var low = Math.Max(0, localTicks - SearchBeforeTicks);
        var high = Math.Min(DateTime.MaxValue.Ticks, localTicks + SearchAfterTicks);
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            var localAtMiddle = middle + TimeZone.GetUtcOffset(new DateTime(middle, DateTimeKind.Utc)).Ticks;
            if (localAtMiddle >= localTicks)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        return low;
    }

    private PeriodKeyShape ShapeOf(Grain grain, DateOnly date)
    {
        if (grain == Grain.Week)
        {
            var moment = date.ToDateTime(TimeOnly.MinValue);
            return new PeriodKeyShape(Grain.Week, ISOWeek.GetYear(moment), ISOWeek.GetWeekOfYear(moment), 0);
        }

        if (!months.Covers(date))
        {
            throw new ArgumentOutOfRangeException(nameof(date), date, $"The {Calendar.Setting} calendar does not reach back to this date.");
        }

        var (year, month, day) = months.Split(date);
        switch (grain)
        {
            case Grain.Day:
                return new PeriodKeyShape(Grain.Day, year, month, day);
            case Grain.Month:
                return new PeriodKeyShape(Grain.Month, year, month, 0);
            case Grain.Quarter:
            case Grain.Year:
                // Months counted from the first month of the reporting year, so whole years are multiples of twelve.
                var fromYearStart = CalendarMonths.MonthIndex(year, month) - (Calendar.FirstMonth - 1);
                var label = (fromYearStart / 12) + Calendar.YearLabelOffset;
                return grain == Grain.Year
                    ? new PeriodKeyShape(Grain.Year, label, 0, 0)
                    : new PeriodKeyShape(Grain.Quarter, label, ((fromYearStart % 12) / 3) + 1, 0);
            default:
                throw new ArgumentOutOfRangeException(nameof(grain), grain, "Unknown grain.");
        }
    }

    private bool TryBuild(PeriodKeyShape shape, [NotNullWhen(true)] out Period? period, [NotNullWhen(false)] out string? error)
    {
        period = null;
        var (grain, year, part, day) = shape;
        var maxYear = grain == Grain.Week ? 9999 : months.MaxYear;
        if (year < 1 || year > maxYear)
        {
            var which = grain == Grain.Week ? "ISO week-year" : Calendar.Kind == ReportingCalendarKind.Persian ? "Persian year" : "year";
            error = Invariant($"{which} {year:D4} is not 0001–{maxYear:D4}");
            return false;
        }

        int first;
        int last;
        string key;
        switch (grain)
        {
            case Grain.Week:
                var weeks = ISOWeek.GetWeeksInYear(year);
                if (part < 1 || part > weeks)
                {
                    error = Invariant($"week {part:D2} does not exist in ISO year {year:D4} (it has weeks 01–{weeks:D2})");
                    return false;
                }

                key = Invariant($"{year:D4}-W{part:D2}");
                first = DateOnly.FromDateTime(ISOWeek.GetYearStart(year)).DayNumber + (7 * (part - 1));
                last = first + 6;
                break;
            case Grain.Day:
            case Grain.Month:
                if (part < 1 || part > 12)
                {
                    error = Invariant($"month {part:D2} is not 01–12");
                    return false;
                }

                var monthIndex = CalendarMonths.MonthIndex(year, part);
                key = grain == Grain.Month ? Invariant($"{year:D4}-{part:D2}") : Invariant($"{year:D4}-{part:D2}-{day:D2}");
                if (monthIndex < months.FirstMonthIndex || monthIndex > months.LastMonthIndex)
                {
                    error = OutsideRange(key);
                    return false;
                }

                if (grain == Grain.Month)
                {
                    return TryMonthSpan(grain, key, monthIndex, monthIndex, out period, out error);
                }

                var daysInMonth = months.DaysInMonth(monthIndex);

                if (day < 1 || day > daysInMonth)
                {
                    // Only the last supported Persian month is cut short; its missing days are a range problem.
                    error = monthIndex > months.LastCompleteMonthIndex && day is > 0 and <= 31
                        ? OutsideRange(key)
                        : Invariant($"day {day:D2} does not exist in {year:D4}-{part:D2} (it has {daysInMonth} days)");
                    return false;
                }

                first = months.FirstDayNumber(monthIndex) + day - 1;
                last = first;
                break;
            case Grain.Quarter:
                if (part < 1 || part > 4)
                {
                    error = Invariant($"quarter {part} is not 1–4");
                    return false;
                }

                var quarterStart = YearStartMonthIndex(year) + (3 * (part - 1));
                return TryMonthSpan(grain, Invariant($"{year:D4}-Q{part}"), quarterStart, quarterStart + 2, out period, out error);
            case Grain.Year:
                var yearStart = YearStartMonthIndex(year);
                return TryMonthSpan(grain, Invariant($"{year:D4}"), yearStart, yearStart + 11, out period, out error);
            default:
                throw new ArgumentOutOfRangeException(nameof(shape), grain, "Unknown grain.");
        }

        if (first < DateOnly.MinValue.DayNumber || last > DateOnly.MaxValue.DayNumber)
        {
            error = OutsideRange(key);
            return false;
        }

        period = new Period(this, grain, key, DateOnly.FromDayNumber(first), DateOnly.FromDayNumber(last));
        error = null;
        return true;
    }

    private bool TryMonthSpan(
        Grain grain,
        string key,
        int startMonthIndex,
        int endMonthIndex,
        [NotNullWhen(true)] out Period? period,
        [NotNullWhen(false)] out string? error)
    {
        period = null;
        if (startMonthIndex < months.FirstMonthIndex || endMonthIndex > months.LastCompleteMonthIndex)
        {
            error = OutsideRange(key);
            return false;
        }

        var first = months.FirstDayNumber(startMonthIndex);
        var last = months.FirstDayNumber(endMonthIndex) + months.DaysInMonth(endMonthIndex) - 1;
        period = new Period(this, grain, key, DateOnly.FromDayNumber(first), DateOnly.FromDayNumber(last));
        error = null;
        return true;
    }

    private int YearStartMonthIndex(int label) =>
        CalendarMonths.MonthIndex(label - Calendar.YearLabelOffset, Calendar.FirstMonth);

    private string OutsideRange(string key) =>
        $"{key} falls outside the dates the {Calendar.Setting} calendar supports";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
