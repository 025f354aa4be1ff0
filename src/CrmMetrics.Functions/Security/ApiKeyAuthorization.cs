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

    /// <summary>The key the request gives, if it gives exactly one (read once per request: <see cref="GivenKeys"/>).</summary>
    private ApiKey? Identify(GivenKeys given)
    {
        // A key given twice is ambiguous (which one was meant?): refused, in the header and in the query alike.
        if (given.MoreThanOnce || given.Presented is not { Length: <= 512 } presented) return null;
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
    /// The keys given in the header and in the query; an empty value is no key (found by a contract probe: an
    /// empty header beside a valid <c>code</c> was refused as a key given twice).
    /// </summary>
    private sealed record GivenKeys(List<string> Header, List<string> Query)
    {
        public static GivenKeys Of(HttpRequest request) => new(NonEmpty(request.Headers[HeaderName]), NonEmpty(request.Query[QueryName]));

        /// <summary>
        /// Twice in one place, or different keys in the header and the query (found by probing: the header's
        /// won silently, so a wrong key in the address went unnoticed). The same key in both is one key.
        /// </summary>
        public bool MoreThanOnce => Header.Count > 1 || Query.Count > 1 || Header.Count == 1 && Query.Count == 1 && !string.Equals(Header[0], Query[0], StringComparison.Ordinal);

        public bool None => Header.Count == 0 && Query.Count == 0;

        public string? Presented => Header.FirstOrDefault() ?? Query.FirstOrDefault();

        private static List<string> NonEmpty(Microsoft.Extensions.Primitives.StringValues values) => [.. values.OfType<string>().Where(v => v.Length > 0)];
    }

    /// <summary>Who a request is (the key the key check accepted): its name and role, for the audit trail.</summary>
    public static Storage.Settings.ChangeActor ActorOf(HttpContext context) =>
        context.Items[typeof(ApiKey)] is ApiKey key
            ? new Storage.Settings.ChangeActor(key.Name, key.Role.ToString().ToLowerInvariant())
            : throw new InvalidOperationException("The request has no checked key; changes are made only with one.");

    public IResult? Check(HttpContext context, Role required)
    {
        var given = GivenKeys.Of(context.Request);
        var key = Identify(given);
        if (key is null)
        {
            context.Response.Headers.WWWAuthenticate = "ApiKey header=\"x-api-key\", query=\"code\"";
            return Problems.Unauthorized(
                given.MoreThanOnce ? "The API key was given more than once (or two different keys, in the header and the query): send it once, in the x-api-key header or the code query parameter."
                : !given.None ? "The API key is not valid."
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
