using System.Globalization;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Storage.Settings;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// A definition's version as its entity tag (goals, incentive plans, alert rules, derived
/// indicators): GET and PUT answer <c>ETag: "&lt;version&gt;"</c>, and PUT and DELETE honour
/// <c>If-Match</c> (the definition must still be at that version, or exist for <c>*</c>) and
/// <c>If-None-Match</c> (<c>*</c>: create only), as RFC 9110 (13.1.1, 13.1.2) reads them: If-Match
/// compares strongly, so a weak tag never matches; If-None-Match compares weakly.
/// </summary>
public static class VersionPreconditions
{
    public static string TagOf(int version) => "\"" + version.ToString(CultureInfo.InvariantCulture) + "\"";

    /// <summary>Sets the response's ETag to the definition's version.</summary>
    public static void Tag(HttpRequest request, int version) => request.HttpContext.Response.Headers.ETag = TagOf(version);

    /// <summary>The request's condition, or (null) the 400 naming the header that is not <c>*</c> or a list of entity tags in <paramref name="refused"/>.</summary>
    public static VersionCondition? Read(HttpRequest request, out IResult refused)
    {
        var errors = new ValidationErrors();
        var condition = Read(request, errors);
        refused = condition is null ? Problems.Validation(errors) : null!;
        return condition;
    }

    /// <summary>
    /// The request's condition on the definition's version (<see cref="VersionCondition.None"/> without
    /// either header); null, with the header named in <paramref name="errors"/>, when one is not
    /// <c>*</c> or a list of entity tags.
    /// </summary>
    public static VersionCondition? Read(HttpRequest request, ValidationErrors errors)
    {
        var ifMatch = Parse(request.Headers.IfMatch, "If-Match", errors);
        var ifNoneMatch = Parse(request.Headers.IfNoneMatch, "If-None-Match", errors);
        if (!errors.IsEmpty) return null;
        return new VersionCondition(
            ifMatch is { Any: false } m ? Versions(m.Tags, weakMatches: false) : null, ifMatch?.Any == true,
            ifNoneMatch is { Any: false } n ? Versions(n.Tags, weakMatches: true) : null, ifNoneMatch?.Any == true);
    }

    /// <summary>The versions named by the tags (a tag this API never gave, such as <c>"abc"</c>, names none).</summary>
    private static List<int> Versions(List<(bool Weak, string Opaque)> tags, bool weakMatches) =>
        tags.Where(t => weakMatches || !t.Weak)
            // Compared as written (strongly): "02" is not the tag "2" (found by probing).
            .Select(t => t.Opaque.Length is > 0 and <= 9 && t.Opaque.All(char.IsAsciiDigit) && t.Opaque[0] != '0' ? int.Parse(t.Opaque, CultureInfo.InvariantCulture) : -1)
            .Where(v => v > 0).ToList();

    /// <summary>
    /// A header's <c>*</c> or entity tags (null when absent); adds an error when it is neither. A header sent
    /// empty is refused, not taken as absent (found by probing): a script whose tag variable was unset sent
    /// <c>If-Match:</c> and replaced what another administrator had changed meanwhile.
    /// </summary>
    private static (bool Any, List<(bool Weak, string Opaque)> Tags)? Parse(Microsoft.Extensions.Primitives.StringValues values, string header, ValidationErrors errors)
    {
        if (values.Count == 0) return null;
        var text = values.ToString().Trim();
        if (text == "*") return (true, []);
        var tags = new List<(bool, string)>();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] is ' ' or '\t' or ',') { i++; continue; }
            var weak = string.CompareOrdinal(text, i, "W/", 0, 2) == 0;
            if (weak) i += 2;
            var close = i < text.Length && text[i] == '"' ? text.IndexOf('"', i + 1) : -1;
            if (close < 0)
            {
                errors.Add(header, "must be * or a list of entity tags in double quotes, such as \"3\" (the ETag a GET of the definition answers)");
                return null;
            }
            tags.Add((weak, text[(i + 1)..close]));
            i = close + 1;
            if (i < text.Length && text[i] is not (' ' or '\t' or ','))
            {
                errors.Add(header, "must be * or a list of entity tags in double quotes, separated by commas");
                return null;
            }
        }
        // A list without a tag (sent empty, or only commas) would match nothing, or read as no condition.
        if (tags.Count == 0)
        {
            errors.Add(header, "is empty: send * or the entity tag a GET of the definition answered, such as \"3\", or leave the header out");
            return null;
        }
        return (false, tags);
    }
}
