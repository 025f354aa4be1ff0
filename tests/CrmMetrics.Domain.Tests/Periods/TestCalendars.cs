using System.Globalization;
using CrmMetrics.Domain.Periods;

namespace CrmMetrics.Domain.Tests.Periods;

/// <summary>Short ways to build calendars, dates and instants in period tests.</summary>
internal static class TestCalendars
{
    public static PeriodCalendar Create(string? setting, string? zone = null)
    {
        Assert.True(PeriodCalendar.TryCreate(setting, zone, out var calendar, out var error), error);
        return calendar;
    }

    public static DateOnly Date(string iso) => DateOnly.ParseExact(iso, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Reads an ISO 8601 instant that carries its own offset, e.g. 2026-03-28T23:00:00Z.</summary>
    public static DateTimeOffset Instant(string iso) =>
        DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
