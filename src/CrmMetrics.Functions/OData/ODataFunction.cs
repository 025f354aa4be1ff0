using CrmMetrics.Functions.Api;
using CrmMetrics.Functions.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.OData.Edm;

namespace CrmMetrics.Functions.OData;

/// <summary>
/// The OData v4 service for Power BI and Excel (<c>/odata/…</c>, reader key): one catch-all HTTP
/// function that hands the request to the OData controllers through <see cref="ODataBranch"/>.
/// </summary>
public sealed class ODataFunction(ODataBranch branch)
{
    [Function("OData")]
    [ApiOperation("GET", "OData", Access.Reader, AnyQuery = true, Summary = "The OData v4 service: $metadata and the entity sets Snapshots, GoalAttainment, StaffScorecards, Benchmarks, Alerts.")]
    public async Task<IActionResult> ServeAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "odata/{*path}")] HttpRequest request)
    {
        await branch.InvokeAsync(request.HttpContext);
        // The branch wrote the response.
        return new EmptyResult();
    }
}

/// <summary>
/// An ASP.NET Core pipeline of its own (routing to the MVC controllers of the OData service), built
/// once and run on the function's <see cref="HttpContext"/>. The function's endpoint and route values
/// are cleared first, or the branch's routing would take the request as routed already.
/// </summary>
public sealed class ODataBranch(IServiceProvider services)
{
    private readonly Lazy<RequestDelegate> _pipeline = new(() =>
    {
        var app = new ApplicationBuilder(services);
        app.UseRouting();
        app.UseEndpoints(endpoints => endpoints.MapControllers());
        app.Run(context => Problems.NotFound(NoSuchResource(context.Request.Path)).ExecuteAsync(context));
        return app.Build();
    });

    public async Task InvokeAsync(HttpContext context)
    {
        // The library refuses an empty option while binding it, before any action could answer: a 500 without this.
        if (context.Request.Query.FirstOrDefault(q => q.Key.StartsWith('$') && q.Value.Any(string.IsNullOrWhiteSpace)) is { Key: { } empty })
        {
            await Problems.Validation(Domain.Validation.JsonFields.Truncate(empty), "has no value: give it one, or leave the option out").ExecuteAsync(context);
            return;
        }
        // Each option once: the library joins repeated values into one text, and fails with a 500 on
        // two names that are the same option once trimmed ("$filter" and "$filter ").
        if (context.Request.Query.Where(q => q.Key.Trim().StartsWith('$')).GroupBy(q => q.Key.Trim(), StringComparer.OrdinalIgnoreCase)
                .FirstOrDefault(option => option.Count() > 1 || option.Single().Value.Count > 1) is { } repeated)
        {
            await Problems.Validation(Domain.Validation.JsonFields.Truncate(repeated.Key.ToLowerInvariant()), "must be given once").ExecuteAsync(context);
            return;
        }
        context.SetEndpoint(null);
        context.Request.RouteValues.Clear();
        await _pipeline.Value(context);
    }

    private static readonly string EntitySets = string.Join(", ", ODataModel.Build().EntityContainer.EntitySets().Select(s => s.Name));

    private static string NoSuchResource(PathString path) =>
        $"There is no OData resource {path}: this feed serves $metadata and the entity sets {EntitySets} (and their /$count), read with query options such as $filter, or one entity by its id (Snapshots('month|2026-11|com.revenue|org')).";
}
