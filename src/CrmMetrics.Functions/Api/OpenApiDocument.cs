using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CrmMetrics.Functions.Api;

/// <summary>
/// The OpenAPI document of <c>/api</c>, generated from the endpoints themselves (so it cannot drift
/// from what the app serves) and served at <c>/api/openapi/v1.json</c> without a key.
/// </summary>
public static class ApiDocument
{
    public const string Name = "v1";
    public const string Path = "/api/openapi/{documentName}.json";

    public static void Configure(OpenApiOptions options)
    {
        options.ShouldInclude = description => description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "CrmMetrics API",
                Version = "1.0",
                Description = "CRM facts in, KPI snapshots, goals, incentives, benchmarks and alerts out. Keys travel as header x-api-key or query code; roles reader, writer, admin.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["header"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "x-api-key" };
            document.Components.SecuritySchemes["query"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Query, Name = "code" };
            return Task.CompletedTask;
        });
    }

    public static void MapApiDocument(this IEndpointRouteBuilder app) =>
        app.MapOpenApi(Path).WithName("OpenApiDocument");
}
