using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Periods;

/// <summary>
/// Whether a period can ever hold a fact. One a century ahead is a key of another calendar (under
/// persian, 2026-11 is a month of the Solar Hijri year 2026, six centuries ahead) or a slip; one that
/// ends before the earliest time a fact may have is too (under persian, 1405-W37 is an ISO week of
/// 1405 AD). Either would be read, run or set as a goal as an empty period without a word, so every
/// input path that takes a period key refuses them.
/// </summary>
public static class PeriodReach
{
    /// <summary>How far ahead a period key may lie (goals are set ahead; a century is more than any goal needs).</summary>
    public const int MaxYearsAhead = 100;

    /// <summary>Why no fact can ever fall in <paramref name="period"/> (written <paramref name="text"/>), or null; the reason reads after the field's name.</summary>
    public static string? Problem(PeriodCalendar calendar, Period period, string text, DateTimeOffset now)
    {
        var weeks = period.Grain == Grain.Week && calendar.Calendar.Kind != ReportingCalendarKind.Gregorian
            ? $" (weeks are ISO weeks under every calendar, keyed by their Gregorian week-year, such as {calendar.PeriodOf(Grain.Week, now).Key})"
            : "";
        if (period.Start > now.AddYears(MaxYearsAhead))
        {
            // A week is keyed by its Gregorian week-year under every calendar: compare it with the current week, not a year of another calendar.
            var current = period.Grain == Grain.Week ? $"the current week is {calendar.PeriodOf(Grain.Week, now).Key}{weeks}" : $"its current year is {calendar.PeriodOf(Grain.Year, now).Key}";
            return $"is {period.FirstDay.Year - calendar.LocalDateOf(now).Year} years ahead: in the reporting calendar ({calendar.Calendar.Setting}) {JsonFields.Truncate(text)} " +
                   $"starts on {IsoDay.Text(period.FirstDay)}, and {current}";
        }
        var earliest = calendar.LocalDateOf(FactValidator.EarliestTime);
        if (period.LastDay >= earliest) return null;
        // A key of the Solar Hijri years around now, under another calendar, was most likely meant as one.
        var hijri = calendar.Calendar.Kind != ReportingCalendarKind.Persian && period.Grain != Grain.Week && period.FirstDay.Year is >= 1300 and <= 1500
            ? $" ({JsonFields.Truncate(text)} reads like a Solar Hijri key, but the reporting calendar is {calendar.Calendar.Setting}; its current year is {calendar.PeriodOf(Grain.Year, now).Key})"
            : "";
        return $"ends before {IsoDay.Text(earliest)}, the earliest day a fact may have{weeks}{hijri}";
    }
}
