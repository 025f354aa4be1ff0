using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Whatever an HTTP function throws becomes problem details with the right status (storage outages
/// a 503 to retry), so no request, however it fails, gets a bare 500 from the host. Other triggers'
/// failures propagate: the host retries their messages.
/// </summary>
public sealed class HttpErrorsMiddleware(ILogger<HttpErrorsMiddleware> logger) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception thrown) when (context.GetHttpContext() is { } http && !http.RequestAborted.IsCancellationRequested)
        {
            var error = Unwrap(thrown);
            var status = HttpPipeline.StatusFor(error);
            // Storage away is an outage the caller retries (health says so too): one line, not a stack trace per request.
            if (error is CrmMetrics.Storage.Account.ConcurrentChangeException) logger.LogWarning("{Function}: {Method} {Path} answered 503, gave way to concurrent changes: {Error}", context.FunctionDefinition.Name, http.Request.Method, http.Request.Path, error.Message);
            else if (status == 503 && !StorageFailures.IsCredentialRefusal(error)) logger.LogWarning("{Function}: {Method} {Path} answered 503, storage unavailable: {Error}", context.FunctionDefinition.Name, http.Request.Method, http.Request.Path, error.Message.Split('\n')[0]);
            else if (status >= 500) logger.LogError(error, "{Function}: {Method} {Path} failed", context.FunctionDefinition.Name, http.Request.Method, http.Request.Path);
            if (http.Response.HasStarted) return;
            if (status == 503) http.Response.Headers.RetryAfter = HttpPipeline.RetryAfterSeconds;
            context.GetInvocationResult().Value = HttpPipeline.ProblemFor(status, error, http.Request.Method, http.Request.Path.Value);
        }
    }

    private static Exception Unwrap(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Unwrap(a.InnerExceptions[0]),
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        _ => e,
    };
}
