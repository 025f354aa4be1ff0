using System.Globalization;

namespace CrmMetrics.Storage.Snapshots;

/// <summary>
/// The versions of a period whose rows are in an attempt's own partition (written by a delivery of the run's
/// job other than the one that reserved the version), and which attempt: kept on the period's latest pointer
/// as <c>version:attempt</c> pairs. A version not listed has its rows in the partition its number alone names.
/// </summary>
public sealed class VersionAttempts : IEquatable<VersionAttempts>
{
    /// <summary>
    /// How many are kept, the newest versions' (some 10,000 characters of the pointer's 32,000 a property may hold).
    /// An older one dropped reads, by number, the rows its first attempt wrote.
    /// </summary>
    public const int MaxKept = 500;

    public static readonly VersionAttempts None = new(new SortedDictionary<int, string>());

    private readonly SortedDictionary<int, string> _byVersion;

    private VersionAttempts(SortedDictionary<int, string> byVersion) => _byVersion = byVersion;

    /// <summary>The attempt whose partition holds <paramref name="version"/>'s rows; null for the version's own partition.</summary>
    public string? Of(int version) => _byVersion.GetValueOrDefault(version);

    /// <summary>These, with <paramref name="version"/>'s rows in <paramref name="attempt"/>'s partition.</summary>
    public VersionAttempts With(int version, string attempt)
    {
        var next = new SortedDictionary<int, string>(_byVersion) { [version] = attempt };
        while (next.Count > MaxKept) next.Remove(next.Keys.First());
        return new VersionAttempts(next);
    }

    public static VersionAttempts Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return None;
        var byVersion = new SortedDictionary<int, string>();
        foreach (var pair in text.Split(','))
        {
            var colon = pair.IndexOf(':');
            if (colon > 0 && int.TryParse(pair.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var version)) byVersion[version] = pair[(colon + 1)..];
        }
        return new VersionAttempts(byVersion);
    }

    public override string ToString() => string.Join(',', _byVersion.Select(p => $"{p.Key.ToString(CultureInfo.InvariantCulture)}:{p.Value}"));

    // Compared by what they list, so pointers read twice are equal records.
    public bool Equals(VersionAttempts? other) => other is not null && ToString() == other.ToString();

    public override bool Equals(object? obj) => Equals(obj as VersionAttempts);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}
