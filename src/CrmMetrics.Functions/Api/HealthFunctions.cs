using CrmMetrics.Storage.Account;

namespace CrmMetrics.Functions.Api;

/// <summary><c>GET /api/health</c>: liveness plus whether each storage service answers. Needs no key.</summary>
public static class HealthEndpoints
{
    public sealed record ServiceHealth(string Name, bool Reachable, double Milliseconds);
    public sealed record HealthResponse(string Status, IReadOnlyList<ServiceHealth> Services, string Version, DateTimeOffset CheckedAt);

    public static void MapHealthEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/health", CheckAsync)
            .WithName("Health")
            .WithSummary("Liveness and storage reachability (no key needed).")
            .Produces<HealthResponse>()
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
    }

    // Anonymous, so it says whether storage answers, not where it is or what it said: that goes to the log.
    private static async Task<IResult> CheckAsync(StorageAccount account, ILoggerFactory loggers, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        var logger = loggers.CreateLogger("Health");
        var checks = await Task.WhenAll(
            Probe(logger, "tables", () => account.Table(StorageNames.Tables.Runs).GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>("health", "probe", cancellationToken: timeout.Token)),
            Probe(logger, "queues", () => account.Queue(StorageNames.Queues.CrmEvents).GetPropertiesAsync(timeout.Token)),
            Probe(logger, "blobs", () => account.Container(StorageNames.Containers.Partials).ExistsAsync(timeout.Token)));
        var healthy = checks.All(c => c.Reachable);
        var response = new HealthResponse(healthy ? "healthy" : "unhealthy", checks,
            typeof(HealthEndpoints).Assembly.GetName().Version?.ToString() ?? "0", DateTimeOffset.UtcNow);
        return TypedResults.Json(response, statusCode: healthy ? 200 : 503);
    }

    private static async Task<ServiceHealth> Probe(ILogger logger, string name, Func<Task> probe)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await probe();
            return new ServiceHealth(name, true, watch.Elapsed.TotalMilliseconds);
        }
        catch (Exception e)
        {
            logger.LogWarning("Health: storage {Service} did not answer: {Error}", name, e.Message.Split('\n')[0]);
            return new ServiceHealth(name, false, watch.Elapsed.TotalMilliseconds);
        }
    }
}
