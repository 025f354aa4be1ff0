namespace CrmMetrics.Domain.Periods;

/// <summary>
/// One reporting period (a day, ISO week, month, quarter or year) of a <see cref="PeriodCalendar"/>.
/// Immutable; equal when grain, key and calendar are equal. Create through <see cref="PeriodCalendar"/>.
/// </summary>
public sealed class Period : IEquatable<Period>
{
    internal Period(PeriodCalendar calendar, Grain grain, string key, DateOnly firstDay, DateOnly lastDay)
    {
        Calendar = calendar;
        Grain = grain;
        Key = key;
        FirstDay = firstDay;
        LastDay = lastDay;
        Start = calendar.StartOfDay(firstDay);
        // The day after 9999-12-31 cannot be named, so the last period runs to the end of representable time.
        End = lastDay == DateOnly.MaxValue ? DateTimeOffset.MaxValue : calendar.StartOfDay(lastDay.AddDays(1));
    }

    public PeriodCalendar Calendar { get; }

    public Grain Grain { get; }

    /// <summary>The external key: yyyy-MM-dd, YYYY-Www, yyyy-MM, yyyy-Qn or yyyy, numbered in the calendar.</summary>
    public string Key { get; }

    /// <summary>First local (Gregorian) date of the period.</summary>
    public DateOnly FirstDay { get; }

    /// <summary>Last local (Gregorian) date of the period, inclusive.</summary>
    public DateOnly LastDay { get; }

    /// <summary>The UTC instant the period begins (start of <see cref="FirstDay"/> in the calendar's zone).</summary>
    public DateTimeOffset Start { get; }

    /// <summary>The UTC instant the period ends, exclusive (start of the day after <see cref="LastDay"/>).</summary>
    public DateTimeOffset End { get; }

    /// <summary>Elapsed time from Start to End, so a day with a clock change lasts 23 or 25 hours.</summary>
    public TimeSpan Length => End - Start;

    public int DayCount => LastDay.DayNumber - FirstDay.DayNumber + 1;

    /// <summary>Each local date of the period in order.</summary>
    public IEnumerable<DateOnly> Days
    {
        get
        {
            for (var dayNumber = FirstDay.DayNumber; dayNumber <= LastDay.DayNumber; dayNumber++)
            {
                yield return DateOnly.FromDayNumber(dayNumber);
            }
        }
    }

    /// <summary>Whether Start ≤ instant &lt; End.</summary>
    public bool Contains(DateTimeOffset instant) => Start <= instant && instant < End;

    /// <summary>Whether the local date lies between FirstDay and LastDay inclusive.</summary>
    public bool Contains(DateOnly localDate) => FirstDay <= localDate && localDate <= LastDay;

    /// <summary>The period of the same grain that follows this one.</summary>
    /// <exception cref="InvalidOperationException">No later period fits in the supported dates.</exception>
    public Period Next() =>
        LastDay == DateOnly.MaxValue ? throw NoNeighbour("after") : Neighbour(LastDay.AddDays(1), "after");

    /// <summary>The period of the same grain that precedes this one.</summary>
    /// <exception cref="InvalidOperationException">No earlier period fits in the supported dates.</exception>
    public Period Previous() =>
        FirstDay == DateOnly.MinValue ? throw NoNeighbour("before") : Neighbour(FirstDay.AddDays(-1), "before");

    public bool Equals(Period? other) =>
        other is not null && Grain == other.Grain && string.Equals(Key, other.Key, StringComparison.Ordinal)
        && Calendar.Equals(other.Calendar);

    public override bool Equals(object? obj) => Equals(obj as Period);

    public override int GetHashCode() => HashCode.Combine(Grain, StringComparer.Ordinal.GetHashCode(Key), Calendar);

    public override string ToString() => Key;

    public static bool operator ==(Period? left, Period? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(Period? left, Period? right) => !(left == right);

    private Period Neighbour(DateOnly day, string direction)
    {
        try
        {
            return Calendar.PeriodOf(Grain, day);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw NoNeighbour(direction, e);
        }
    }

    private InvalidOperationException NoNeighbour(string direction, Exception? inner = null) =>
        new($"There is no {Grains.Key(Grain)} {direction} {Key} within the supported dates.", inner);
}
