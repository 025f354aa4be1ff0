using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Storage.Snapshots;
using Microsoft.Azure.Functions.Worker;
using System.Text.Json.Serialization;

namespace CrmMetrics.Functions.Api;

/// <summary><c>GET /api/benchmarks?period=</c>: the competitor benchmark family of a period.</summary>
public sealed class BenchmarksFunctions(SnapshotReader reader, CrmMetricsSettings settings)
{
    /// <param name="CalendarChange">Only when the period is not served because its key means other days since it was computed (<see cref="SnapshotReader.CalendarChange"/>).</param>
    public sealed record BenchmarksResponse(string Period, string Grain, IReadOnlyList<SnapshotRowDto> Items,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CalendarChange = null);

    [Function("Benchmarks")]
    [ApiOperation("GET", "GetBenchmarks", Access.Reader, RequiredQuery = ["period"], Query = ["grain", "period", "scope"],
        Summary = "Market share, relative market share, gaps, indices and percentiles against competitors, and win rates against each, for a period.",
        Response = typeof(BenchmarksResponse), Problems = [400])]
    public async Task<IResult> GetAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/benchmarks")] HttpRequest request, CancellationToken ct)
    {
        var q = new QueryParameters(request, new ValidationErrors(), settings.Calendar);
        var period = q.Period("period", q.Grain());
        if (period is null && !q.Errors.Has("period") && !q.Errors.Has("grain")) q.Errors.Add("period", "is required (a period key such as 2026-11)");
        var scope = q.Scope();
        // Benchmarks are kept in scope org and competitor:<name> (indicators.md) alone: any other scope could
        // never have a row, and answered 200 with none (found by probing).
        if (scope is not null && scope != Domain.Aggregation.Scope.Org && Domain.Aggregation.Scope.KindOf(scope) != "competitor")
            q.Errors.Add("scope", $"benchmarks are in scope org or competitor:<name>, never {Domain.Aggregation.Scope.KindOf(scope)}");
        if (!q.Errors.IsEmpty) return Problems.Validation(q.Errors);
        var read = await reader.ReadPeriodAsync(period!, new SnapshotFilter(Family: Families.CompetitorBenchmarks, Scope: scope), ct);
        return TypedResults.Ok(new BenchmarksResponse(period!.Key, Grains.Key(period.Grain), read.Rows.Select(SnapshotRowDto.From).ToList(), read.CalendarChange));
    }
}
