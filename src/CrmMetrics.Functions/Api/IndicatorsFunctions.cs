using CrmMetrics.Domain.Indicators;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Api;

/// <summary><c>GET /api/indicators</c>: the catalog.</summary>
public sealed class IndicatorsFunctions
{
    public sealed record IndicatorDto(string Id, string Family, string Unit, string Direction, string Kind, bool Additive, string Description);

    [Function("Indicators")]
    [ApiOperation("GET", "GetIndicators", Access.Reader, Summary = "The indicator catalog: id, family, unit, direction, kind, description.", Response = typeof(List<IndicatorDto>))]
    public IResult List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/indicators")] HttpRequest request) =>
        TypedResults.Ok(IndicatorCatalog.All.Select(i => new IndicatorDto(
            i.Id, i.Family, i.Unit,
            i.Direction == Direction.Higher ? "higher" : "lower",
            i.Kind == IndicatorKind.External ? "external" : "internal",
            i.Additive, i.Description)).ToList());
}
