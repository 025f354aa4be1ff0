namespace CrmMetrics.Storage.Settings;

/// <summary>
/// The version a client requires a definition to be at before its change is made (HTTP
/// <c>If-Match</c> and <c>If-None-Match</c>, whose entity tags are versions). It is checked against
/// the very row the change replaces, in the same conditional write, so a change made by someone else
/// since the client read the definition is never overwritten unseen.
/// </summary>
/// <param name="IfMatch">The versions the definition must be at (null: no <c>If-Match</c>; empty: only tags no version has).</param>
/// <param name="IfMatchAny"><c>If-Match: *</c>: the definition must exist.</param>
/// <param name="IfNoneMatch">Versions the definition must not be at (null: no list given).</param>
/// <param name="IfNoneMatchAny"><c>If-None-Match: *</c>: the definition must not exist (create only).</param>
public sealed record VersionCondition(IReadOnlyList<int>? IfMatch, bool IfMatchAny, IReadOnlyList<int>? IfNoneMatch, bool IfNoneMatchAny)
{
    /// <summary>No condition: the change is made whatever the stored version.</summary>
    public static readonly VersionCondition None = new(null, false, null, false);

    /// <summary>Whether a definition at <paramref name="current"/> (null: none stored) allows the change.</summary>
    public bool Holds(int? current)
    {
        if (IfMatchAny || IfMatch is not null)
        {
            if (current is not { } version) return false;
            if (!IfMatchAny && !IfMatch!.Contains(version)) return false;
        }
        if (current is { } existing && (IfNoneMatchAny || IfNoneMatch?.Contains(existing) == true)) return false;
        return true;
    }
}

/// <summary>A change refused by its <see cref="VersionCondition"/>: the definition is not at the version the client required; nothing was written.</summary>
public sealed class VersionConditionFailedException(string kind, string id, int? current)
    : Exception(current is { } version
        ? $"The {kind} '{CrmMetrics.Domain.Validation.JsonFields.Truncate(id)}' is at version {version} (ETag \"{version}\"), which the request's If-Match or If-None-Match does not allow: it changed since you read it, or it exists. Nothing was changed; read it again and make your change on what it is now."
        : $"There is no {kind} '{CrmMetrics.Domain.Validation.JsonFields.Truncate(id)}', and the request's If-Match requires one. Nothing was changed.")
{
    public int? Current { get; } = current;
}
