using System.Security.Cryptography;
using System.Text.Json;
using CrmMetrics.Functions.Api;
using CrmMetrics.Functions.Hosting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace CrmMetrics.Functions.Dashboard;

/// <summary>
/// <c>GET /api/reporting-context</c>: what a client needs to present figures to people — the reporting
/// calendar, time zone and currency, each grain's periods with their names in English and Persian
/// (Solar Hijri month names under the Persian calendar) and which of them have been computed, and the
/// indicators with their names. The dashboard asks for it once, so it never does calendar arithmetic itself.
/// </summary>
public sealed class ReportingContextFunctions(ReportingContextBuilder builder, IOptions<JsonOptions> json)
{
    [Function("ReportingContext")]
    [ApiOperation("GET", "GetReportingContext", Access.Reader,
        Summary = "The reporting calendar, time zone and currency; each grain's periods with English and Persian names, which are computed, which are out of date (stale) and which the dashboard opens first; the indicators with their names.",
        Response = typeof(ReportingContext))]
    public async Task<IResult> GetAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/reporting-context")] HttpRequest request, CancellationToken ct)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(await builder.BuildAsync(ct), json.Value.SerializerOptions);
        // Changes only when a run computes a new period, facts make one stale, or the day turns: revalidated, answered 304 meanwhile.
        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(body))[..32] + "\"";
        var headers = request.HttpContext.Response.Headers;
        headers.ETag = etag;
        headers.CacheControl = "private, no-cache";
        if (EntityTags.IsNotModified(request, etag))
            return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(body, "application/json; charset=utf-8");
    }
}
