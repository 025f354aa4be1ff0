using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Security;
using CrmMetrics.Storage.Snapshots;

namespace CrmMetrics.Functions.Api;

/// <summary><c>GET /api/benchmarks?period=</c>: the competitor benchmark family of a period.</summary>
public static class BenchmarksEndpoints
{
    public sealed record BenchmarksResponse(string Period, string Grain, IReadOnlyList<SnapshotRowDto> Items);

    public static void MapBenchmarksEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/benchmarks", async (HttpContext context, SnapshotReader reader, CrmMetricsSettings settings, CancellationToken ct) =>
            {
                var q = new QueryParameters(context.Request, new ValidationErrors(), settings.Calendar);
                var period = q.Period("period", q.Grain());
                if (period is null && !q.Errors.Has("period") && !q.Errors.Has("grain")) q.Errors.Add("period", "is required (a period key such as 2026-11)");
                var scope = q.Scope();
                if (!q.Errors.IsEmpty) return Problems.Validation(q.Errors);
                var rows = await reader.ReadAllAsync(period!, new SnapshotFilter(Family: Families.CompetitorBenchmarks, Scope: scope), ct);
                return TypedResults.Ok(new BenchmarksResponse(period!.Key, Grains.Key(period.Grain), rows.Select(SnapshotRowDto.From).ToList()));
            })
            .RequireApiRole(Role.Reader).WithName("GetBenchmarks")
            .WithSummary("Market share, relative market share, gaps, indices and percentiles against competitors, and win rates against each, for a period.")
            .Produces<BenchmarksResponse>().ProducesValidationProblem();
    }
}
