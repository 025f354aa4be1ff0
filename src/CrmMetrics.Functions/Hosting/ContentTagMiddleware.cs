using System.Security.Cryptography;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Gives a successful GET (or HEAD) answer that carries no ETag of its own one taken from its bytes, and
/// answers 304 to a client that already holds those bytes (<c>If-None-Match</c>): the dashboard's panels
/// (goal attainment, benchmarks, series, scorecards, alerts, the catalog) then revalidate as a period's
/// snapshots do, for a 304 instead of the whole answer. Answers that tag themselves (a period's snapshots,
/// the reporting context, definitions with their versions, the dashboard's files) keep their own tags;
/// OData answers (MVC results) are left alone.
/// </summary>
public sealed class ContentTagMiddleware : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        await next(context);
        if (context.GetHttpContext() is not { } http || !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))) return;
        // Tagged already (a period's snapshots): written as it is, without a copy in memory.
        if (!string.IsNullOrEmpty(http.Response.Headers.ETag)) return;
        var result = context.GetInvocationResult();
        if (result.Value is IResult answer and not TaggedByContent) result.Value = new TaggedByContent(answer);
    }

    /// <summary>An answer written to memory first, then tagged by its bytes (or answered 304).</summary>
    private sealed class TaggedByContent(IResult inner) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            var response = http.Response;
            var destination = response.Body;
            using var buffer = new MemoryStream();
            response.Body = buffer;
            try
            {
                await inner.ExecuteAsync(http);
            }
            finally
            {
                response.Body = destination;
            }
            if (response.StatusCode == StatusCodes.Status200OK && string.IsNullOrEmpty(response.Headers.ETag))
            {
                // Weak: the same content, not necessarily the same bytes on the wire (the host may compress it).
                var tag = "W/\"" + Convert.ToHexStringLower(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length))[..16]) + "\"";
                response.Headers.ETag = tag;
                if (string.IsNullOrEmpty(response.Headers.CacheControl)) response.Headers.CacheControl = "private, no-cache";
                if (EntityTags.IsNotModified(http.Request, tag))
                {
                    response.StatusCode = StatusCodes.Status304NotModified;
                    response.ContentLength = null;
                    response.Headers.ContentType = default;
                    return;
                }
            }
            response.ContentLength = buffer.Length;
            buffer.Position = 0;
            await buffer.CopyToAsync(destination, http.RequestAborted);
        }
    }
}
