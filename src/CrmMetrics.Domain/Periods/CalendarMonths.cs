using System.Globalization;

namespace CrmMetrics.Domain.Periods;

/// <summary>
/// Month arithmetic in one month numbering (Gregorian or Persian), on a linear month index
/// <c>year * 12 + (month - 1)</c> and on <see cref="DateOnly.DayNumber"/> so range checks never throw.
/// </summary>
internal abstract class CalendarMonths
{
    public static CalendarMonths Gregorian { get; } = new GregorianMonths();

    public static CalendarMonths Persian { get; } = new PersianMonths();

    /// <summary>Largest year number a key may carry in this numbering.</summary>
    public abstract int MaxYear { get; }

    /// <summary>Index of the first month whose every day is representable.</summary>
    public abstract int FirstMonthIndex { get; }

    /// <summary>Index of the last month whose first day is representable (it may be cut short).</summary>
    public abstract int LastMonthIndex { get; }

    /// <summary>Index of the last month whose every day is representable.</summary>
    public abstract int LastCompleteMonthIndex { get; }

    /// <summary>Day number of the first day of a month between <see cref="FirstMonthIndex"/> and <see cref="LastMonthIndex"/>.</summary>
    public abstract int FirstDayNumber(int monthIndex);

    /// <summary>Representable days of a month between <see cref="FirstMonthIndex"/> and <see cref="LastMonthIndex"/>.</summary>
    public abstract int DaysInMonth(int monthIndex);

    /// <summary>Whether this numbering can name the given Gregorian date.</summary>
    public abstract bool Covers(DateOnly date);

    /// <summary>Year, month and day of a date this numbering covers.</summary>
    public abstract (int Year, int Month, int Day) Split(DateOnly date);

    public static int MonthIndex(int year, int month) => (year * 12) + (month - 1);

    private sealed class GregorianMonths : CalendarMonths
    {
        public override int MaxYear => 9999;

        public override int FirstMonthIndex => MonthIndex(1, 1);

        public override int LastMonthIndex => MonthIndex(9999, 12);

        public override int LastCompleteMonthIndex => MonthIndex(9999, 12);

        public override int FirstDayNumber(int monthIndex) =>
            new DateOnly(monthIndex / 12, (monthIndex % 12) + 1, 1).DayNumber;

        public override int DaysInMonth(int monthIndex) => DateTime.DaysInMonth(monthIndex / 12, (monthIndex % 12) + 1);

        public override bool Covers(DateOnly date) => true;

        public override (int Year, int Month, int Day) Split(DateOnly date) => (date.Year, date.Month, date.Day);
    }

    private sealed class PersianMonths : CalendarMonths
    {
        // PersianCalendar keeps no mutable state on these calls, so one shared instance is safe across threads.
        private static readonly PersianCalendar Solar = new();
        private static readonly DateOnly FirstCovered = DateOnly.FromDateTime(Solar.MinSupportedDateTime);
        private static readonly int LastYear = Solar.GetYear(Solar.MaxSupportedDateTime);
        private static readonly int LastMonth = Solar.GetMonth(Solar.MaxSupportedDateTime);

        public override int MaxYear => LastYear;

        public override int FirstMonthIndex { get; } = MonthIndex(
            Solar.GetYear(Solar.MinSupportedDateTime),
            Solar.GetMonth(Solar.MinSupportedDateTime));

        public override int LastMonthIndex { get; } = MonthIndex(LastYear, LastMonth);

        // The final supported Persian month (9378-10) ends past 9999-12-31, so it is incomplete.
        public override int LastCompleteMonthIndex { get; } = MonthIndex(LastYear, LastMonth) - 1;

        public override int FirstDayNumber(int monthIndex) =>
            DateOnly.FromDateTime(Solar.ToDateTime(monthIndex / 12, (monthIndex % 12) + 1, 1, 0, 0, 0, 0)).DayNumber;

        public override int DaysInMonth(int monthIndex) => Solar.GetDaysInMonth(monthIndex / 12, (monthIndex % 12) + 1);

        public override bool Covers(DateOnly date) => date >= FirstCovered;

        public override (int Year, int Month, int Day) Split(DateOnly date)
        {
            var moment = date.ToDateTime(TimeOnly.MinValue);
            return (Solar.GetYear(moment), Solar.GetMonth(moment), Solar.GetDayOfMonth(moment));
        }
    }
}
