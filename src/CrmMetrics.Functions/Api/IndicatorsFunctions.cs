using CrmMetrics.Domain.Indicators;
using CrmMetrics.Functions.Security;

namespace CrmMetrics.Functions.Api;

/// <summary><c>GET /api/indicators</c>: the catalog.</summary>
public static class IndicatorsEndpoints
{
    public sealed record IndicatorDto(string Id, string Family, string Unit, string Direction, string Kind, bool Additive, string Description);

    public static void MapIndicatorsEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/indicators", () => TypedResults.Ok(IndicatorCatalog.All.Select(i => new IndicatorDto(
                i.Id, i.Family, i.Unit,
                i.Direction == Direction.Higher ? "higher" : "lower",
                i.Kind == IndicatorKind.External ? "external" : "internal",
                i.Additive, i.Description)).ToList()))
            .RequireApiRole(Role.Reader)
            .WithName("GetIndicators")
            .WithSummary("The indicator catalog: id, family, unit, direction, kind, description.")
            .Produces<List<IndicatorDto>>();
    }
}
