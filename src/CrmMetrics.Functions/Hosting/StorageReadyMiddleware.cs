using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// No function runs before its storage exists: an invocation that comes while the tables, queues
/// and containers are still being created (storage not answering yet) waits a while; if storage
/// is still not there, an HTTP request answers 503 and any other invocation fails, so the host
/// delivers its message again later. Health answers at once: it is how operators see this state.
/// </summary>
public sealed class StorageReadyMiddleware(StorageInitializer storage) : IFunctionsWorkerMiddleware
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        if (!storage.Ready.IsCompleted && context.FunctionDefinition.Name != "Health")
        {
            try
            {
                await storage.Ready.WaitAsync(Wait, context.CancellationToken);
            }
            catch (TimeoutException)
            {
                if (context.GetHttpContext() is null) throw new InvalidOperationException("Storage is not ready yet; the message is delivered again later.");
                context.GetHttpContext()!.Response.Headers.RetryAfter = "10";
                context.GetInvocationResult().Value = Problems.Unavailable("Storage is unreachable; the app retries with back-off and answers again when storage does.");
                return;
            }
        }
        await next(context);
    }
}
