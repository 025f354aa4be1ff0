namespace CrmMetrics.Domain.Aggregation;

/// <summary>
/// A breakdown scope: <c>org</c>, <c>channel:&lt;c&gt;</c>, <c>segment:&lt;s&gt;</c>, <c>region:&lt;r&gt;</c>,
/// <c>staff:&lt;id&gt;</c>, <c>competitor:&lt;c&gt;</c>. The text form is the contract's. A goal's
/// attainment rows have the scope <c>goal:&lt;goalId&gt;</c>: readers may ask for it, rules and
/// facts never name it.
/// </summary>
public static class Scope
{
    public const string Org = "org";
    public const string Unknown = "unknown";

    public static readonly IReadOnlyList<string> Kinds = ["org", "channel", "segment", "region", "staff", "competitor"];

    /// <summary>The kind of the scope of a goal's attainment rows.</summary>
    public const string GoalKind = "goal";

    public static string Channel(string channel) => "channel:" + channel;
    public static string Segment(string? segment) => "segment:" + (segment ?? Unknown);
    public static string Region(string? region) => "region:" + (region ?? Unknown);
    public static string Staff(string staffId) => "staff:" + staffId;
    public static string Competitor(string competitor) => "competitor:" + competitor;
    public static string Goal(string goalId) => GoalKind + ":" + goalId;

    public static string KindOf(string scope)
    {
        var colon = scope.IndexOf(':');
        return colon < 0 ? scope : scope[..colon];
    }

    public static string? ValueOf(string scope)
    {
        var colon = scope.IndexOf(':');
        return colon < 0 ? null : scope[(colon + 1)..];
    }

    /// <summary>Whether customer-state indicators (active customers, churn, retention) exist for the scope.</summary>
    public static bool HasCustomerState(string scope) => KindOf(scope) is "org" or "segment" or "region";

    /// <summary>
    /// Checks a scope text supplied by a client: a known kind and, except for org, a non-empty value (for a
    /// channel, one of the contract's channels).
    /// <paramref name="goals"/> admits <c>goal:&lt;goalId&gt;</c>, the scope of goal attainment rows (for reads).
    /// </summary>
    public static string? Problem(string? scope, bool goals = false)
    {
        if (string.IsNullOrEmpty(scope)) return "must not be empty";
        // Characters as labels count them (code points: a label may be 128 emoji, 256 UTF-16 units).
        if (scope.Length > 400 || scope.EnumerateRunes().Count() > 200) return "must be at most 200 characters";
        if (scope == Org) return null;
        var kind = KindOf(scope);
        var kinds = string.Join(", ", goals ? Kinds.Skip(1).Append(GoalKind) : Kinds.Skip(1));
        if (kind == scope) return $"must be 'org' or '<kind>:<value>' with kind one of {kinds}";
        if (!(Kinds.Contains(kind) && kind != Org || goals && kind == GoalKind)) return $"kind '{Validation.JsonFields.Truncate(kind)}' is not one of {kinds} (or the bare 'org')";
        var value = ValueOf(scope)!;
        if (value.Length == 0) return "needs a value after ':'";
        if (value.Any(char.IsControl)) return "must not contain control characters";
        // Channels are the event contract's closed list; a goal or rule on another could never have data.
        if (kind == "channel" && !Facts.Vocabulary.Channels.Contains(value))
            return $"channel '{Validation.JsonFields.Truncate(value)}' is not one of {string.Join(", ", Facts.Vocabulary.Channels)}";
        // Facts name staff by key (the event contract's ids); any other text could never have data.
        if (kind == "staff" && !Facts.Vocabulary.IsKey(value))
            return $"'{Validation.JsonFields.Truncate(value)}' is not a staff id (1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-')";
        return null;
    }
}
