using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Indicators;
using CrmMetrics.Functions.Security;

namespace CrmMetrics.Functions.Api;

/// <summary>
/// One indicator (<c>/api/indicators/{id}</c>): read any, define or delete a derived one. Each
/// handler reads the request and calls <see cref="DerivedIndicatorService"/>.
/// </summary>
public static class DerivedIndicatorsEndpoints
{
    public sealed record DerivedIndicatorDto(string Id, string Family, string Name, string? NameFa, string Expression, IReadOnlyList<string> Operands, string Unit,
        string Direction, string Kind, bool RatioScale, string? Description)
    {
        public static DerivedIndicatorDto From(DerivedIndicator d, IndicatorResolver indicators) => new(d.Id, Families.Derived, d.Name, d.NameFa, d.Expression,
            IndicatorExpression.TryParse(d.Expression, out _)?.Operands ?? [], d.Unit, d.Direction == Domain.Indicators.Direction.Higher ? "higher" : "lower",
            d.Kind == IndicatorKind.External ? "external" : "internal", indicators.IsRatioScale(d.Id), d.Description);
    }

    public static void MapDerivedIndicatorsEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/indicators/{id}", GetAsync).RequireApiRole(Role.Reader).WithName("GetIndicator")
            .WithSummary("One indicator: a catalog entry, or a derived indicator's definition.")
            .Produces<DerivedIndicatorDto>().Produces<IndicatorsEndpoints.IndicatorDto>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/indicators/{id}", PutAsync).RequireApiRole(Role.Admin).WithName("PutDerivedIndicator")
            .WithSummary("Define or redefine a derived indicator derived.<name>: { name, expression, unit, direction } over base and derived indicators of one scope.")
            .Produces<DerivedIndicatorDto>().Produces<DerivedIndicatorDto>(StatusCodes.Status201Created).ProducesValidationProblem();
        api.MapDelete("/indicators/{id}", DeleteAsync).RequireApiRole(Role.Admin).WithName("DeleteDerivedIndicator")
            .WithSummary("Delete a derived indicator (not while a goal, plan, rule or other derived indicator names it).")
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    public static async Task<IResult> GetAsync(string id, DerivedIndicatorService service, CancellationToken ct)
    {
        if (IndicatorCatalog.Find(id) is { } catalog) return TypedResults.Ok(IndicatorsEndpoints.IndicatorDto.From(catalog));
        if (await service.GetAsync(id, ct) is { } derived) return TypedResults.Ok(DerivedIndicatorDto.From(derived, await service.ResolverAsync(ct)));
        return Problems.NotFound($"There is no indicator '{JsonFields.Truncate(id)}' (GET /api/indicators lists them).");
    }

    public static async Task<IResult> PutAsync(string id, HttpRequest request, DerivedIndicatorService service, CancellationToken ct)
    {
        var (body, problem) = await JsonBodies.ReadObjectAsync(request, allowEmpty: false, ct);
        if (problem is not null) return problem;
        using var bodyScope = body;
        return await service.PutAsync(id, body!.Root, ct) switch
        {
            DerivedIndicatorOutcome.Saved { Created: true } s => TypedResults.Created($"/api/indicators/{id}", DerivedIndicatorDto.From(s.Indicator, await service.ResolverAsync(ct))),
            DerivedIndicatorOutcome.Saved s => TypedResults.Ok(DerivedIndicatorDto.From(s.Indicator, await service.ResolverAsync(ct))),
            var other => Result(other),
        };
    }

    public static async Task<IResult> DeleteAsync(string id, DerivedIndicatorService service, CancellationToken ct) => Result(await service.DeleteAsync(id, ct));

    private static IResult Result(DerivedIndicatorOutcome outcome) => outcome switch
    {
        DerivedIndicatorOutcome.Deleted => TypedResults.NoContent(),
        DerivedIndicatorOutcome.Invalid i => Problems.Validation(i.Errors),
        DerivedIndicatorOutcome.NotFound n => Problems.NotFound(n.Detail),
        DerivedIndicatorOutcome.Conflict c => Problems.Conflict(c.Detail),
        _ => Problems.Problem(500, "Internal Server Error", "An unexpected outcome."),
    };
}
