using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.OData;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// HTTP concerns shared by every HTTP function: camelCase JSON, request size limits on the worker's
/// server, the OData service's MVC parts, and the one mapping from failures to problem details.
/// </summary>
public static class HttpPipeline
{
    /// <summary>
    /// The worker's server's backstop on a body, above what the Functions host in front forwards (30 MB
    /// locally, 100 MB in Azure). Each route that reads a body bounds it itself (events 4 MiB, definitions
    /// 256 KiB) and answers a too-large one with a 413 problem; the server then reads the rest of it, so
    /// the host forwarding the body gets that answer. With the server's own limit at 5 MiB it reset the
    /// connection instead, and a body past 5 MiB sent without a length was a 502 (found by probing).
    /// </summary>
    public const long MaxRequestBytes = 128 * 1024 * 1024;

    public static IServiceCollection AddCrmMetricsHttp(this IServiceCollection services, CrmMetricsSettings settings)
    {
        services.Configure<JsonOptions>(o => Configure(o.SerializerOptions));
        services.AddTransient<IStartupFilter, HostOnlyRequests>();
        services.Configure<KestrelServerOptions>(o =>
        {
            o.Limits.MaxRequestBodySize = MaxRequestBytes;
            o.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
            // URLs as long as the local host forwards (32 KiB: OData filters from BI tools); Kestrel's default is 8 KiB.
            o.Limits.MaxRequestLineSize = 64 * 1024;
            o.AddServerHeader = false;
        });
        // OData v4 under /odata for Power BI and Excel; queries are translated by our controllers, not applied by [EnableQuery].
        // The Functions builder registers no application parts: this assembly and OData's metadata controller are named.
        services.AddControllers().AddApplicationPart(typeof(HttpPipeline).Assembly).AddApplicationPart(typeof(Microsoft.AspNetCore.OData.Routing.Controllers.MetadataController).Assembly)
            .AddOData(o =>
            {
                o.AddRouteComponents(OData.ODataModel.RoutePrefix, OData.ODataModel.Build())
                    .Select().Filter().OrderBy().Count().SetMaxTop(OData.ODataFeed.MaxTop).SkipToken();
                // DateTime values would be converted to this zone; the entities carry only DateTimeOffsets, which
                // go out with the offset they have (the reporting zone's, see ODataModel), whatever the server's zone.
                o.TimeZone = TimeZoneInfo.Utc;
                // Query options are taken with their '$' only (ODataFeed refuses 'filter=' and the like, naming
                // them): with both spellings in one request the library failed with a 500.
                o.EnableNoDollarQueryOptions = false;
            });
        // With a published address, every address the OData service writes starts there: @odata.context and
        // @odata.id as the next links do (ODataFeed.NextLink), rather than at the Host the client named.
        if (settings.PublicBaseUrl is { } publicBase)
        {
            var serviceRoot = new Uri($"{publicBase}/{OData.ODataModel.RoutePrefix}/");
            services.PostConfigure<Microsoft.AspNetCore.Mvc.MvcOptions>(mvc =>
            {
                foreach (var formatter in mvc.OutputFormatters.OfType<Microsoft.AspNetCore.OData.Formatter.ODataOutputFormatter>()) formatter.BaseAddressFactory = _ => serviceRoot;
            });
        }
        services.AddSingleton<OData.SnapshotParts>();
        services.AddSingleton<OData.ODataBranch>();
        services.AddSingleton<Api.ApiOperations>();
        services.AddSingleton<Security.KeyRateLimits>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Instance ??= c.HttpContext.Request.Path;
        });
        // MVC's problem writer claims every controller's endpoint yet writes nothing for controllers without
        // [ApiController] (the OData ones): their problems, and failures after them, went out as empty bodies.
        // The default writer writes every problem, as on the other routes.
        foreach (var mvcWriter in services.Where(d => d.ServiceType == typeof(IProblemDetailsWriter) && d.ImplementationType?.Assembly == typeof(Microsoft.AspNetCore.Mvc.ControllerBase).Assembly).ToList())
            services.Remove(mvcWriter);
        return services;
    }

    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
    }

    /// <summary>The <c>Retry-After</c> (seconds) of a 503 for storage away.</summary>
    public const string RetryAfterSeconds = "5";

    /// <summary>
    /// The status a failure answers: storage unreachable, or a write that kept losing to concurrent
    /// ones, is a 503 to retry; unreadable input a 400; a definition not at the version its
    /// If-Match names a 412; the rest a logged 500.
    /// </summary>
    public static int StatusFor(Exception error) => error switch
    {
        // The SDK gives up after its retries with every attempt's failure inside.
        AggregateException { InnerExceptions.Count: > 0 } all => all.InnerExceptions.Select(StatusFor).Contains(503) ? 503 : StatusFor(all.InnerExceptions[0]),
        Microsoft.AspNetCore.Http.BadHttpRequestException bad => bad.StatusCode,
        JsonException => 400,
        CrmMetrics.Storage.Account.ConcurrentChangeException => 503,
        CrmMetrics.Storage.Settings.VersionConditionFailedException => 412,
        RequestFailedException { Status: 0 or >= 500 or 408 or 429 } => 503,
        // A storage query whose address or headers storage finds too long: what the request asked for made it so.
        RequestFailedException { Status: 414 or 431 } => 400,
        HttpRequestException or TimeoutException or TaskCanceledException => 503,
        Azure.Identity.AuthenticationFailedException => 503,
        _ => 500,
    };

    /// <summary>The problem details a failure answers with; nothing of its internals reaches the client.</summary>
    /// <remarks><paramref name="path"/> words a write's 503: only events are recognised as duplicates when sent again.</remarks>
    public static IResult ProblemFor(int status, Exception? error, string method = "POST", string? path = null) => status switch
    {
        400 when error is RequestFailedException => Problems.Problem(400, "The request is not valid.",
            "What the request asks for makes a storage query longer than storage takes (a filter's text, or its list of values, is too long); ask for less at once."),
        400 => Problems.Problem(400, "The request is not valid.", error?.Message ?? "The request could not be read."),
        412 => Problems.PreconditionFailed(error?.Message ?? "The definition is not at the version the request requires."),
        413 => Problems.Problem(413, "Payload Too Large", "The request body is larger than this route accepts."),
        503 when error is CrmMetrics.Storage.Account.ConcurrentChangeException =>
            Problems.Unavailable("Other requests were changing the same data at the same moment, and this one gave way; retry it shortly. Repeating it is safe."),
        503 when HttpMethods.IsGet(method) || HttpMethods.IsHead(method) => Problems.Unavailable($"{StorageSilence(error)}; retry the request shortly."),
        // Part of a request may be stored when storage stops answering (the first batches of events, say), so
        // the answer does not say "nothing": each record is written whole, and a repeat is safe.
        503 when IsEventsRoute(path) => Problems.Unavailable($"{StorageSilence(error)}; no record was half-written, though part of the request may already be stored — retry it whole (repeated events are recognised as duplicates)."),
        // Found by probing: a run request's 503 spoke of events.
        503 => Problems.Unavailable($"{StorageSilence(error)}; no record was half-written, though part of the request may already be stored — retry it whole."),
        _ => Problems.Problem(500, "Internal Server Error", "An unexpected error occurred; it has been logged."),
    };

    /// <summary>Whether a path is the ingestion route (<c>/api/events</c>), whose repeats count once; null is taken as it, as before paths were told.</summary>
    private static bool IsEventsRoute(string? path) =>
        path is null || path.Equals("/api/events", StringComparison.OrdinalIgnoreCase) || path.Equals("/api/events/", StringComparison.OrdinalIgnoreCase);

    /// <summary>What a 503 says of storage: how long it was given when it never answered, else that it did not answer.</summary>
    internal static string StorageSilence(Exception? error) => error switch
    {
        CrmMetrics.Storage.Account.StorageAnswerTimeoutException timeout => $"Storage did not answer within {timeout.Limit.TotalSeconds:0.###} s",
        AggregateException all when all.InnerExceptions.OfType<CrmMetrics.Storage.Account.StorageAnswerTimeoutException>().FirstOrDefault() is { } timeout => StorageSilence(timeout),
        _ => "Storage did not answer",
    };
}
