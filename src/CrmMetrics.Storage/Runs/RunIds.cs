using System.Globalization;
using System.Security.Cryptography;

namespace CrmMetrics.Storage.Runs;

/// <summary>
/// The names of runs. Each names the UTC second it stands for: a requested run the moment it was asked for
/// (<c>run-20261207T041500-1a2b3c4d</c>), a scheduled run its timer occurrence (<c>sched-20261207T041500</c>), so
/// the same occurrence always gets the same run. Runs are listed newest first by that second.
/// </summary>
public static class RunIds
{
    private const string Second = "yyyyMMdd'T'HHmmss";
    private const int SecondLength = 15; // 20261207T041500
    private const string RequestedPrefix = "run-";
    private const string ScheduledPrefix = "sched-";

    /// <summary>A requested run's id: the moment, and random bits so requests in one second differ.</summary>
    public static string Requested(DateTimeOffset now) =>
        $"{RequestedPrefix}{now.UtcDateTime.ToString(Second, CultureInfo.InvariantCulture)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    /// <summary>The run id of a timer occurrence: the same occurrence always gets the same run.</summary>
    public static string Scheduled(DateTimeOffset occurrence) =>
        ScheduledPrefix + occurrence.UtcDateTime.ToString(Second, CultureInfo.InvariantCulture);

    /// <summary>The UTC second a run id names, or null for an id not made here (tests name runs freely).</summary>
    public static DateTimeOffset? NamedTime(string runId)
    {
        var rest = runId.StartsWith(RequestedPrefix, StringComparison.Ordinal) ? runId.AsSpan(RequestedPrefix.Length)
            : runId.StartsWith(ScheduledPrefix, StringComparison.Ordinal) ? runId.AsSpan(ScheduledPrefix.Length)
            : default;
        return rest.Length >= SecondLength
            && DateTime.TryParseExact(rest[..SecondLength], Second, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time)
            ? new DateTimeOffset(time, TimeSpan.Zero)
            : null;
    }
}
