namespace CrmMetrics.Functions.Api;

/// <summary>The HTTP API under <c>/api</c>, area by area.</summary>
public static class ApiEndpoints
{
    public const string Prefix = "/api";

    public static void MapCrmMetricsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix);
        api.MapHealthEndpoints();
        api.MapEventsEndpoints();
        api.MapIndicatorsEndpoints();
        api.MapSnapshotsEndpoints();
        api.MapRunsEndpoints();
        api.MapGoalsEndpoints();
        api.MapIncentivesEndpoints();
        api.MapBenchmarksEndpoints();
        api.MapAlertsEndpoints();
        app.MapApiDocument();
    }
}
