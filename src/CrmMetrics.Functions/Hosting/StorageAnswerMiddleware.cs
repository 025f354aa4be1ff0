using CrmMetrics.Storage.Account;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// An HTTP invocation waits at most <see cref="CrmMetricsSettings.HttpStorageTimeout"/> for any one
/// storage answer (<see cref="StorageAnswerLimit"/>): storage that takes connections and never answers
/// is a 503 to retry within that time, not after the storage clients' five tries of 60 s. Queue and
/// timer invocations keep those tries: their messages wait anyway, and each retry of one costs a whole
/// attempt of the step.
/// </summary>
public sealed class StorageAnswerMiddleware(CrmMetricsSettings settings) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        if (context.GetHttpContext() is null)
        {
            await next(context);
            return;
        }
        using (StorageAnswerLimit.Within(settings.HttpStorageTimeout)) await next(context);
    }
}
