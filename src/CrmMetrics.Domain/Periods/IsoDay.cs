using System.Globalization;

namespace CrmMetrics.Domain.Periods;

/// <summary>
/// A day as people and programs read it in messages, logs and errors: <c>yyyy-MM-dd</c>, whatever the
/// process's culture (a <see cref="DateOnly"/> handed to a log template as it is prints as the culture
/// writes dates: <c>04/20/2031</c> under the invariant culture).
/// </summary>
public static class IsoDay
{
    public const string Format = "yyyy-MM-dd";

    public static string Text(DateOnly day) => day.ToString(Format, CultureInfo.InvariantCulture);
}
