using CrmMetrics.Storage.Account;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Api;

/// <summary><c>GET /api/health</c>: liveness plus whether each storage service answers. Needs no key.</summary>
public sealed class HealthFunctions(StorageAccount account, ILogger<HealthFunctions> logger)
{
    public sealed record ServiceHealth(string Name, bool Reachable, double Milliseconds);
    public sealed record HealthResponse(string Status, string Storage, string Detail, IReadOnlyList<ServiceHealth> Services, string Version, DateTimeOffset CheckedAt);

    [Function("Health")]
    [ApiOperation("GET", "Health", Access.Anonymous, Summary = "Liveness and storage reachability (no key needed).", Response = typeof(HealthResponse), Problems = [503])]
    public async Task<IResult> CheckAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/health")] HttpRequest request, CancellationToken ct)
    {
        // Anonymous, so it says whether storage answers, not where it is or what it said: that goes to the log.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        var checks = await Task.WhenAll(
            Probe("tables", () => account.Table(StorageNames.Tables.Runs).GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>("health", "probe", cancellationToken: timeout.Token)),
            Probe("queues", () => account.Queue(StorageNames.Queues.CrmEvents).GetPropertiesAsync(timeout.Token)),
            Probe("blobs", () => account.Container(StorageNames.Containers.Partials).ExistsAsync(timeout.Token)));
        var healthy = checks.All(c => c.Reachable);
        var down = checks.Where(c => !c.Reachable).Select(c => c.Name).ToList();
        var response = new HealthResponse(healthy ? "healthy" : "unhealthy", healthy ? "reachable" : "unreachable",
            healthy ? "Storage answers." : $"Storage is unreachable ({string.Join(", ", down)} did not answer); the app retries with back-off and recovers on its own when storage answers.",
            checks,
            typeof(HealthFunctions).Assembly.GetName().Version?.ToString() ?? "0", DateTimeOffset.UtcNow);
        // A 503 says when to look again, as every other 503 of the app does.
        if (!healthy) request.HttpContext.Response.Headers.RetryAfter = "5";
        return TypedResults.Json(response, statusCode: healthy ? 200 : 503);
    }

    private async Task<ServiceHealth> Probe(string name, Func<Task> probe)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await probe();
            return new ServiceHealth(name, true, watch.Elapsed.TotalMilliseconds);
        }
        catch (Exception e) when (Hosting.StorageFailures.IsCredentialRefusal(e))
        {
            logger.LogError("Health: storage {Service} refused this app's credentials ({Reason}): check the account key or identity in AzureWebJobsStorage", name, Hosting.StorageFailures.Describe(e));
            return new ServiceHealth(name, false, watch.Elapsed.TotalMilliseconds);
        }
        catch (Exception e)
        {
            logger.LogWarning("Health: storage {Service} did not answer: {Error}", name, e.Message.Split('\n')[0]);
            return new ServiceHealth(name, false, watch.Elapsed.TotalMilliseconds);
        }
    }
}
