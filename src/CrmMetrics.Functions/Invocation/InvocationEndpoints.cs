using System.Text.Json;
using CrmMetrics.Functions.Hosting;

namespace CrmMetrics.Functions.Invocation;

/// <summary>
/// <c>POST /{FunctionName}</c>: how the Functions host invokes non-HTTP functions of a custom handler.
/// Mapped only under the host (it listens on loopback, reachable by the host alone). A failure
/// answers non-2xx, which fails the invocation so the host retries it.
/// </summary>
public static class InvocationEndpoints
{
    public static void MapInvocationEndpoints(this IEndpointRouteBuilder app, IEnumerable<string> functionNames)
    {
        foreach (var name in functionNames)
        {
            app.MapPost("/" + name, (HttpContext context, FunctionDispatcher dispatcher, ILoggerFactory loggers) =>
                    InvokeAsync(name, context, dispatcher, loggers.CreateLogger("Invocation")))
                .ExcludeFromDescription();
        }
    }

    private static async Task<IResult> InvokeAsync(string name, HttpContext context, FunctionDispatcher dispatcher, ILogger logger)
    {
        InvocationRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<InvocationRequest>(context.Request.Body, FunctionDispatcher.PayloadJson, context.RequestAborted);
        }
        catch (JsonException e)
        {
            return Problems.BadRequest($"The invocation payload is not JSON of the form {{ Data, Metadata }}: {e.Message}");
        }
        if (request is null) return Problems.BadRequest("The invocation payload is empty.");

        try
        {
            var response = await dispatcher.InvokeAsync(name, request, context.RequestAborted);
            return Results.Json(response, FunctionDispatcher.PayloadJson);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Function {Function} failed; the host will retry the invocation", name);
            var failed = new InvocationResponse();
            failed.Log($"{name} failed: {e.GetType().Name}: {e.Message}");
            return Results.Json(failed, FunctionDispatcher.PayloadJson, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
