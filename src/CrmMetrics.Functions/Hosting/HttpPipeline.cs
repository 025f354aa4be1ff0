using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.OData;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// HTTP concerns shared by every route: camelCase JSON, request size limits, and problem details for
/// every error — including unknown routes, wrong methods, unreadable bodies and storage outages —
/// so that no request, however malformed, gets a bare 500.
/// </summary>
public static class HttpPipeline
{
    /// <summary>The largest body any route accepts (events: 4 MiB plus slack for the envelope).</summary>
    public const long MaxRequestBytes = 5 * 1024 * 1024;

    public static IServiceCollection AddCrmMetricsHttp(this IServiceCollection services)
    {
        services.Configure<JsonOptions>(o => Configure(o.SerializerOptions));
        services.Configure<KestrelServerOptions>(o =>
        {
            o.Limits.MaxRequestBodySize = MaxRequestBytes;
            o.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
            o.AddServerHeader = false;
        });
        // OData v4 under /odata for Power BI and Excel; queries are translated by our controllers, not applied by [EnableQuery].
        // Application parts named explicitly: under a test host the entry assembly is not this app.
        services.AddControllers().AddApplicationPart(typeof(HttpPipeline).Assembly).AddApplicationPart(typeof(Microsoft.AspNetCore.OData.Routing.Controllers.MetadataController).Assembly).AddOData(o => o.AddRouteComponents(OData.ODataModel.RoutePrefix, OData.ODataModel.Build())
            .Select().Filter().OrderBy().Count().SetMaxTop(OData.ODataFeed.MaxTop).SkipToken());
        services.AddSingleton<OData.SnapshotParts>();
        services.AddOpenApi(Api.ApiDocument.Name, Api.ApiDocument.Configure);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Instance ??= c.HttpContext.Request.Path;
        });
        return services;
    }

    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
    }

    /// <summary>The OData service: a reader key for everything under /odata ($metadata included), then the controllers.</summary>
    public static void MapCrmMetricsOData(this WebApplication app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/" + OData.ODataModel.RoutePrefix), branch => branch.Use(async (context, next) =>
        {
            var auth = context.RequestServices.GetRequiredService<Security.ApiKeyAuthorization>();
            switch (auth.Check(context, Security.Role.Reader))
            {
                case null:
                    break;
                case Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult denied:
                    // Written directly: outside endpoint execution a result would leave the body empty.
                    context.Response.StatusCode = denied.StatusCode;
                    context.Response.ContentType = "application/problem+json";
                    await context.Response.WriteAsJsonAsync(denied.ProblemDetails, (JsonSerializerOptions?)null, "application/problem+json");
                    return;
                case var other:
                    await other.ExecuteAsync(context);
                    return;
            }
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                await Results.Problem(detail: "The OData service is read-only.", statusCode: 405).ExecuteAsync(context);
                return;
            }
            await next();
        }));
        app.MapControllers();
    }

    public static void UseCrmMetricsErrors(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = StatusFor,
            ExceptionHandler = async context =>
            {
                var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
                var status = error is null ? 500 : StatusFor(error);
                var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Errors");
                if (status >= 500) logger.LogError(error, "Request {Method} {Path} failed", context.Request.Method, context.Request.Path);
                var (title, detail) = status switch
                {
                    400 => ("The request is not valid.", error?.Message ?? "The request could not be read."),
                    413 => ("Payload Too Large", "The request body is larger than this route accepts."),
                    503 => ("Service Unavailable", "Storage did not answer; nothing was half-written — retry the request (repeated events are recognised as duplicates)."),
                    _ => ("Internal Server Error", "An unexpected error occurred; it has been logged."),
                };
                context.Response.StatusCode = status;
                await Results.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(context);
            },
        });
        app.UseStatusCodePages(async statusContext =>
        {
            var context = statusContext.HttpContext;
            var detail = context.Response.StatusCode switch
            {
                404 => $"There is no route {context.Request.Path}.",
                405 => $"{context.Request.Method} is not allowed on {context.Request.Path}.",
                _ => ReasonPhrase(context.Response.StatusCode),
            };
            await Results.Problem(detail: detail, statusCode: context.Response.StatusCode).ExecuteAsync(context);
        });
    }

    private static int StatusFor(Exception error) => error switch
    {
        Microsoft.AspNetCore.Http.BadHttpRequestException bad => bad.StatusCode,
        JsonException => 400,
        RequestFailedException { Status: 0 or >= 500 or 408 or 429 } => 503,
        HttpRequestException or TimeoutException or TaskCanceledException => 503,
        _ => 500,
    };

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
