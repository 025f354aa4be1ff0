using CrmMetrics.Functions.Api;
using CrmMetrics.Functions.Security;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Checks the key of every HTTP invocation against the role its operation declares
/// (<see cref="ApiOperationAttribute"/>) before the function runs: none or unknown → 401, a key
/// without the role → 403, a key over its rate limit → 429 with <c>Retry-After</c> (writer
/// operations spend the ingestion limit, reads the read limit). An operation that declares nothing
/// is refused: access is never implied. A query parameter the operation does not declare is refused
/// with 400 naming it (<see cref="ApiOperationAttribute.Query"/>).
/// </summary>
public sealed class ApiKeyMiddleware(ApiKeyAuthorization keys, ApiOperations operations, KeyRateLimits limits) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        if (context.GetHttpContext() is not { } http)
        {
            await next(context);
            return;
        }
        var operation = operations.Find(context.FunctionDefinition.EntryPoint, http.Request.Method);
        if (operation is null)
        {
            context.GetInvocationResult().Value = Problems.Problem(405, "Method Not Allowed", $"{http.Request.Method} is not allowed on {http.Request.Path}.");
            return;
        }
        if (operation.Access != Access.Anonymous)
        {
            if (keys.Check(http, operation.Role) is { } denied)
            {
                context.GetInvocationResult().Value = denied;
                return;
            }
            var rateClass = operation.Access == Access.Writer ? RateClass.Ingest : HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) ? RateClass.Read : (RateClass?)null;
            var key = (ApiKey)http.Items[typeof(ApiKey)]!;
            if (rateClass is { } spent && limits.TryAcquire(key, spent) is { } wait)
            {
                context.GetInvocationResult().Value = limits.TooMany(key, spent, wait, http);
                return;
            }
        }
        // After the key: a caller without one learns nothing of the operation's parameters.
        if (operation.UnknownQuery(http.Request.Query) is { IsEmpty: false } unknown)
        {
            context.GetInvocationResult().Value = Problems.Validation(unknown);
            return;
        }
        http.Items[typeof(ApiOperationAttribute)] = operation;
        await next(context);
    }
}
