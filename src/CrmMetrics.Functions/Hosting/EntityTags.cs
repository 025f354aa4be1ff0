namespace CrmMetrics.Functions.Hosting;

/// <summary>Conditional GETs, as RFC 9110 (13.1.2) reads <c>If-None-Match</c>: a list of tags or <c>*</c>, compared weakly.</summary>
public static class EntityTags
{
    /// <summary>Whether the client already holds the representation tagged <paramref name="etag"/> (answer 304).</summary>
    public static bool IsNotModified(HttpRequest request, string etag)
    {
        var ours = Opaque(etag);
        foreach (var value in request.Headers.IfNoneMatch)
        {
            if (value is null) continue;
            foreach (var part in value.Split(','))
            {
                var tag = part.Trim();
                if (tag == "*" || Opaque(tag) == ours) return true;
            }
        }
        return false;
    }

    /// <summary>The tag without its weakness indicator: If-None-Match compares weakly, so W/"x" matches "x".</summary>
    private static string Opaque(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag;
}
