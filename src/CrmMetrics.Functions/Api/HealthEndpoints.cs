using CrmMetrics.Storage.Account;

namespace CrmMetrics.Functions.Api;

/// <summary><c>GET /api/health</c>: liveness plus whether each storage service answers. Needs no key.</summary>
public static class HealthEndpoints
{
    public sealed record ServiceHealth(string Name, bool Reachable, double Milliseconds, string? Error);
    public sealed record HealthResponse(string Status, string Storage, IReadOnlyList<ServiceHealth> Services, string Version, DateTimeOffset CheckedAt);

    public static void MapHealthEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/health", CheckAsync)
            .WithName("Health")
            .WithSummary("Liveness and storage reachability (no key needed).")
            .Produces<HealthResponse>()
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> CheckAsync(StorageAccount account, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        var checks = await Task.WhenAll(
            Probe("tables", () => account.Table(StorageNames.Tables.Runs).GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>("health", "probe", cancellationToken: timeout.Token)),
            Probe("queues", () => account.Queue(StorageNames.Queues.CrmEvents).GetPropertiesAsync(timeout.Token)),
            Probe("blobs", () => account.Container(StorageNames.Containers.Partials).ExistsAsync(timeout.Token)));
        var healthy = checks.All(c => c.Reachable);
        var response = new HealthResponse(healthy ? "healthy" : "unhealthy", account.Description, checks,
            typeof(HealthEndpoints).Assembly.GetName().Version?.ToString() ?? "0", DateTimeOffset.UtcNow);
        return TypedResults.Json(response, statusCode: healthy ? 200 : 503);
    }

    private static async Task<ServiceHealth> Probe(string name, Func<Task> probe)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await probe();
            return new ServiceHealth(name, true, watch.Elapsed.TotalMilliseconds, null);
        }
        catch (Exception e)
        {
            return new ServiceHealth(name, false, watch.Elapsed.TotalMilliseconds, e.GetType().Name + ": " + e.Message.Split('\n')[0]);
        }
    }
}
