using CrmMetrics.Domain.Indicators;
using CrmMetrics.Functions.Indicators;
using CrmMetrics.Functions.Security;

namespace CrmMetrics.Functions.Api;

/// <summary><c>GET /api/indicators</c>: the catalog, followed by the derived indicators defined now.</summary>
public static class IndicatorsEndpoints
{
    public sealed record IndicatorDto(string Id, string Family, string Unit, string Direction, string Kind, bool Additive, string Description, string? Expression = null)
    {
        public static IndicatorDto From(IndicatorDefinition i, string? expression = null) => new(
            i.Id, i.Family, i.Unit,
            i.Direction == Domain.Indicators.Direction.Higher ? "higher" : "lower",
            i.Kind == IndicatorKind.External ? "external" : "internal",
            i.Additive, i.Description, expression);
    }

    public static void MapIndicatorsEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/indicators", ListAsync)
            .RequireApiRole(Role.Reader)
            .WithName("GetIndicators")
            .WithSummary("The indicator catalog and the derived indicators: id, family, unit, direction, kind, description (and a derived one's expression).")
            .Produces<List<IndicatorDto>>();
        api.MapDerivedIndicatorsEndpoints();
    }

    public static async Task<IResult> ListAsync(DerivedIndicatorService derived, CancellationToken ct)
    {
        var resolver = await derived.ResolverAsync(ct);
        var items = IndicatorCatalog.All.Select(i => IndicatorDto.From(i))
            .Concat((await derived.ListAsync(ct)).Select(d => IndicatorDto.From(d.ToDefinition(resolver.IsRatioScale(d.Id)), d.Expression)))
            .ToList();
        return TypedResults.Ok(items);
    }
}
