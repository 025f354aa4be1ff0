using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Indicators;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Api;

/// <summary>
/// The indicators: <c>GET /api/indicators</c> (the catalog, then the derived indicators defined
/// now) and one indicator (<c>/api/indicators/{id}</c>): read any, define or delete a derived one
/// through <see cref="DerivedIndicatorService"/>.
/// </summary>
public sealed class IndicatorsFunctions(DerivedIndicatorService derived)
{
    public sealed record IndicatorDto(string Id, string Family, string Unit, string Direction, string Kind, bool Additive, string Description, string? Expression = null)
    {
        public static IndicatorDto From(IndicatorDefinition i, string? expression = null) => new(
            i.Id, i.Family, i.Unit,
            i.Direction == Domain.Indicators.Direction.Higher ? "higher" : "lower",
            i.Kind == IndicatorKind.External ? "external" : "internal",
            i.Additive, i.Description, expression);
    }

    public sealed record DerivedIndicatorDto(string Id, string Family, string Name, string? NameFa, string Expression, IReadOnlyList<string> Operands, string Unit,
        string Direction, string Kind, bool RatioScale, string? Description)
    {
        public static DerivedIndicatorDto From(DerivedIndicator d, IndicatorResolver indicators) => new(d.Id, Families.Derived, d.Name, d.NameFa, d.Expression,
            IndicatorExpression.TryParse(d.Expression, out _)?.Operands ?? [], d.Unit, d.Direction == Domain.Indicators.Direction.Higher ? "higher" : "lower",
            d.Kind == IndicatorKind.External ? "external" : "internal", indicators.IsRatioScale(d.Id), d.Description);
    }

    [Function("Indicators")]
    [ApiOperation("GET", "GetIndicators", Access.Reader,
        Summary = "The indicator catalog and the derived indicators: id, family, unit, direction, kind, description (and a derived one's expression).",
        Response = typeof(List<IndicatorDto>))]
    public async Task<IResult> ListAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/indicators")] HttpRequest request, CancellationToken ct)
    {
        var resolver = await derived.ResolverAsync(ct);
        return TypedResults.Ok(IndicatorCatalog.All.Select(i => IndicatorDto.From(i))
            .Concat((await derived.ListAsync(ct)).Select(d => IndicatorDto.From(d.ToDefinition(resolver.IsRatioScale(d.Id)), d.Expression)))
            .ToList());
    }

    [Function("Indicator")]
    [ApiOperation("GET", "GetIndicator", Access.Reader, Summary = "One indicator: a catalog entry, an instance of a benchmark pattern (bench.gap.cx.nps), or a derived indicator's definition.", Response = typeof(DerivedIndicatorDto), Problems = [404])]
    [ApiOperation("PUT", "PutDerivedIndicator", Access.Admin,
        Summary = "Define or redefine a derived indicator derived.<name>: { name, expression, unit, direction } over base and derived indicators of one scope.",
        Response = typeof(DerivedIndicatorDto), AlsoStatus = 201, Problems = [400, 409, 412, 413, 415])]
    [ApiOperation("DELETE", "DeleteDerivedIndicator", Access.Admin, Summary = "Delete a derived indicator (not while a goal, plan, rule or other derived indicator names it).",
        Status = 204, Problems = [400, 404, 409, 412])]
    public Task<IResult> IndicatorAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "put", "delete", Route = "api/indicators/{id}")] HttpRequest request, string id,
        CancellationToken ct) => request.Method.ToUpperInvariant() switch
        {
            "PUT" => PutAsync(id, request, ct),
            "DELETE" => DeleteAsync(id, request, ct),
            _ => GetAsync(id, request, ct),
        };

    private async Task<IResult> GetAsync(string id, HttpRequest request, CancellationToken ct)
    {
        if (IndicatorCatalog.Find(id) is { } catalog) return TypedResults.Ok(IndicatorDto.From(catalog));
        if (await derived.GetVersionedAsync(id, ct) is { } found)
        {
            VersionPreconditions.Tag(request, found.Version);
            return TypedResults.Ok(DerivedIndicatorDto.From(found.Document, await derived.ResolverAsync(ct)));
        }
        // An instance of a benchmark pattern (bench.gap.cx.nps), which reads and definitions take.
        if ((await derived.ResolverAsync(ct)).Describe(id) is { } instance) return TypedResults.Ok(IndicatorDto.From(instance));
        return Problems.NotFound($"There is no indicator '{JsonFields.Truncate(id)}' (GET /api/indicators lists them).");
    }

    private async Task<IResult> PutAsync(string id, HttpRequest request, CancellationToken ct)
    {
        var (body, problem) = await JsonBodies.ReadObjectAsync(request, allowEmpty: false, ct);
        if (problem is not null) return problem;
        using var bodyScope = body;
        if (VersionPreconditions.Read(request, out var refused) is not { } condition) return refused;
        var outcome = await derived.PutAsync(id, body!.Root, Security.ApiKeyAuthorization.ActorOf(request.HttpContext), condition, ct);
        if (outcome is not DerivedIndicatorOutcome.Saved saved) return Result(outcome);
        VersionPreconditions.Tag(request, saved.Version);
        var dto = DerivedIndicatorDto.From(saved.Indicator, await derived.ResolverAsync(ct));
        return saved.Created ? TypedResults.Created($"/api/indicators/{id}", dto) : TypedResults.Ok(dto);
    }

    private async Task<IResult> DeleteAsync(string id, HttpRequest request, CancellationToken ct)
    {
        if (VersionPreconditions.Read(request, out var refused) is not { } condition) return refused;
        return Result(await derived.DeleteAsync(id, Security.ApiKeyAuthorization.ActorOf(request.HttpContext), condition, ct));
    }

    private static IResult Result(DerivedIndicatorOutcome outcome) => outcome switch
    {
        DerivedIndicatorOutcome.Deleted => TypedResults.NoContent(),
        DerivedIndicatorOutcome.Invalid i => Problems.Validation(i.Errors),
        DerivedIndicatorOutcome.NotFound n => Problems.NotFound(n.Detail),
        DerivedIndicatorOutcome.Conflict c => Problems.Conflict(c.Detail),
        _ => Problems.Problem(500, "Internal Server Error", "An unexpected outcome."),
    };
}
