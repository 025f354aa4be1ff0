using System.Security.Cryptography;
using System.Text;
using CrmMetrics.Functions.Hosting;

namespace CrmMetrics.Functions.Security;

/// <summary>The role a route needs; read by <see cref="ApiKeyAuthorization"/>.</summary>
public sealed record RequiresRole(Role Role);

/// <summary>
/// Checks the key sent as header <c>x-api-key</c> or query <c>code</c> (how Azure Functions keys
/// travel, so tools that can only set a URL still work): none or unknown → 401; known without the
/// route's role → 403.
/// </summary>
public sealed class ApiKeyAuthorization(CrmMetricsSettings settings)
{
    public const string HeaderName = "x-api-key";
    public const string QueryName = "code";

    public ApiKey? Identify(HttpRequest request)
    {
        // A key given twice is ambiguous (which one was meant?): refused, in the header and in the query alike.
        if (GivenMoreThanOnce(request)) return null;
        var (header, query) = Given(request);
        var presented = header.FirstOrDefault() ?? query.FirstOrDefault();
        if (presented is null || presented.Length > 512) return null;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        ApiKey? match = null;
        // Compare against every key so timing does not tell which prefix matched.
        foreach (var key in settings.Keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, key.Hash)) match ??= key;
        }
        return match;
    }

    /// <summary>
    /// Twice in one place, or different keys in the header and the query (found by probing: the header's
    /// won silently, so a wrong key in the address went unnoticed). The same key in both is one key.
    /// </summary>
    private static bool GivenMoreThanOnce(HttpRequest request)
    {
        var (header, query) = Given(request);
        return header.Count > 1 || query.Count > 1 || header.Count == 1 && query.Count == 1 && !string.Equals(header[0], query[0], StringComparison.Ordinal);
    }

    /// <summary>
    /// The keys given in the header and in the query; an empty value is no key (found by a contract probe: an
    /// empty header beside a valid <c>code</c> was refused as a key given twice).
    /// </summary>
    private static (List<string> Header, List<string> Query) Given(HttpRequest request) =>
        (NonEmpty(request.Headers[HeaderName]), NonEmpty(request.Query[QueryName]));

    private static List<string> NonEmpty(Microsoft.Extensions.Primitives.StringValues values) => [.. values.OfType<string>().Where(v => v.Length > 0)];

    /// <summary>Who a request is (the key the key check accepted): its name and role, for the audit trail.</summary>
    public static Storage.Settings.ChangeActor ActorOf(HttpContext context) =>
        context.Items[typeof(ApiKey)] is ApiKey key
            ? new Storage.Settings.ChangeActor(key.Name, key.Role.ToString().ToLowerInvariant())
            : throw new InvalidOperationException("The request has no checked key; changes are made only with one.");

    public IResult? Check(HttpContext context, Role required)
    {
        var key = Identify(context.Request);
        if (key is null)
        {
            context.Response.Headers.WWWAuthenticate = "ApiKey header=\"x-api-key\", query=\"code\"";
            var request = context.Request;
            return Problems.Unauthorized(
                GivenMoreThanOnce(request) ? "The API key was given more than once (or two different keys, in the header and the query): send it once, in the x-api-key header or the code query parameter."
                : Given(request) is not ([], []) ? "The API key is not valid."
                : "An API key is required: send it in the x-api-key header or the code query parameter.");
        }
        context.Items[typeof(ApiKey)] = key;
        return key.Grants(required) ? null : Problems.Forbidden($"This key's role ({key.Role.ToString().ToLowerInvariant()}) may not use this route; it needs {required.ToString().ToLowerInvariant()}.");
    }
}

public static class ApiKeyEndpointExtensions
{
    /// <summary>Protects the endpoints with an API key of the given role.</summary>
    public static TBuilder RequireApiRole<TBuilder>(this TBuilder builder, Role role) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new RequiresRole(role));
        builder.AddEndpointFilter(async (context, next) =>
        {
            var auth = context.HttpContext.RequestServices.GetRequiredService<ApiKeyAuthorization>();
            return auth.Check(context.HttpContext, role) ?? await next(context);
        });
        return builder;
    }
}
