using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Api;
using CrmMetrics.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Dashboard;

/// <summary>
/// The executive scorecard: its page at <c>/</c> and <c>/dashboard</c> and its static files under
/// <c>/dashboard/assets/</c>. Both are public: the page holds no figures, it asks the reader API for
/// them with the key the reader gives it.
/// </summary>
public sealed class DashboardFunctions(DashboardAssets assets)
{
    public const string AssetsPath = "/dashboard/assets/";

    // Everything from this app only; no inline script or style; never framed. No referrer, so a key that
    // arrived in the address (?code=) never leaves in a Referer header.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    [Function("Dashboard")]
    [ApiOperation("GET", "GetDashboard", Access.Anonymous, AnyQuery = true, Summary = "The executive scorecard page (public; its figures come from the reader API with the reader's key).")]
    public IResult Page([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "{page:regex(^dashboard$)?}")] HttpRequest request) =>
        Serve(request, DashboardAssets.Page, page: true);

    [Function("DashboardAsset")]
    [ApiOperation("GET", "GetDashboardAsset", Access.Anonymous, AnyQuery = true, Summary = "A static file of the dashboard: script, style, the bundled chart library or font.", Problems = [404])]
    public IResult Asset([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "dashboard/assets/{*path}")] HttpRequest request)
    {
        // The path is looked up among the files the build laid out, never joined to a folder.
        var value = request.Path.Value ?? "";
        var path = value.StartsWith(AssetsPath, StringComparison.OrdinalIgnoreCase) ? value[AssetsPath.Length..] : "";
        return Serve(request, path, page: false);
    }

    private IResult Serve(HttpRequest request, string path, bool page)
    {
        if (assets.Find(path) is not { } asset)
        {
            return Problems.NotFound(page
                ? "The dashboard's files are missing from this deployment (Dashboard/wwwroot); build or publish the app again."
                : $"There is no dashboard file '{JsonFields.Truncate(path)}'.");
        }
        var headers = request.HttpContext.Response.Headers;
        headers.ETag = asset.ETag;
        // Revalidated on every load (a 304 while unchanged), so a new deployment is seen at once.
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        if (page)
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
        }
        if (asset.Gzip is not null) headers.Vary = "Accept-Encoding";
        if (EntityTags.IsNotModified(request, asset.ETag))
            return Results.StatusCode(StatusCodes.Status304NotModified);
        if (asset.Gzip is not null && AcceptsGzip(request))
        {
            headers.ContentEncoding = "gzip";
            return Results.Bytes(asset.Gzip, asset.ContentType);
        }
        return Results.Bytes(asset.Body, asset.ContentType);
    }

    private static bool AcceptsGzip(HttpRequest request) =>
        request.GetTypedHeaders().AcceptEncoding.Any(c => c.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase) && c.Quality is not 0);
}
