using System.Globalization;
using System.Text;

namespace CrmMetrics.Storage.Account;

/// <summary>
/// The one place that knows how keys are built. Facts are partitioned by UTC day and a hash shard of
/// their id, so writes spread over time buckets and shards and no partition is hot, while a
/// redelivered id always lands in the same partition, where an insert conflict reveals it.
/// </summary>
public static class StorageKeys
{
    public const int FactShards = 8;
    public const int FactIdShards = 64;
    public const int CustomerShards = 16;
    public const int CaseShards = 16;

    public static string DayKey(DateOnly day) => day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>The UTC hour of an instant, for time-bucketed logs.</summary>
    public static string HourKey(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);

    public static DateOnly ParseDayKey(string key) => DateOnly.ParseExact(key, "yyyyMMdd", CultureInfo.InvariantCulture);

    public static bool TryParseDayKey(string key, out DateOnly day) => DateOnly.TryParseExact(key, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);

    public static string FactPartition(DateTimeOffset time, string factId) =>
        FactPartition(DateOnly.FromDateTime(time.UtcDateTime), Shard(factId, FactShards));

    public static string FactPartition(DateOnly utcDay, int shard) => $"{DayKey(utcDay)}-{shard:x}";

    /// <summary>The partition of a fact id's entry in the id index, whatever the fact's time.</summary>
    public static string FactIdPartition(string factId) => "i" + Shard(factId, FactIdShards).ToString("x2", CultureInfo.InvariantCulture);

    public static string CustomerPartition(string customerId) => "c" + Shard(customerId, CustomerShards).ToString("x2", CultureInfo.InvariantCulture);

    public static IEnumerable<string> CustomerPartitions() =>
        Enumerable.Range(0, CustomerShards).Select(i => "c" + i.ToString("x2", CultureInfo.InvariantCulture));

    public static string CasePartition(string caseId) => "k" + Shard(caseId, CaseShards).ToString("x2", CultureInfo.InvariantCulture);

    /// <summary>A stable FNV-1a hash, so shards never move between processes or versions.</summary>
    public static int Shard(string value, int shards)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return (int)(hash % (uint)shards);
    }

    /// <summary>
    /// Makes free text safe inside a PartitionKey or RowKey ('/', '\', '#', '?', '|', '%' and control
    /// characters are not allowed or are separators) while keeping sort order for plain text.
    /// </summary>
    public static string Encode(string text)
    {
        var needs = false;
        foreach (var c in text)
        {
            if (IsReserved(c)) { needs = true; break; }
        }
        if (!needs) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (IsReserved(c)) sb.Append('%').Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    public static string Decode(string key)
    {
        if (!key.Contains('%')) return key;
        var sb = new StringBuilder(key.Length);
        for (var i = 0; i < key.Length; i++)
        {
            if (key[i] == '%' && i + 4 < key.Length && int.TryParse(key.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
            {
                sb.Append((char)code);
                i += 4;
            }
            else sb.Append(key[i]);
        }
        return sb.ToString();
    }

    private static bool IsReserved(char c) => c is '/' or '\\' or '#' or '?' or '|' or '%' || char.IsControl(c);
}
