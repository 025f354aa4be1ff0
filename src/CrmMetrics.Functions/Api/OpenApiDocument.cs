using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Api;

/// <summary>
/// The OpenAPI 3.1 document of <c>/api</c>, written from the HTTP functions' own declarations (their
/// routes and <see cref="ApiOperationAttribute"/>s, the same ones the key check enforces), so it cannot
/// drift from what the app serves. Served at <c>/api/openapi/v1.json</c> without a key.
/// </summary>
public sealed partial class OpenApiDocument
{
    public const string Name = "v1";

    private static readonly Lazy<string> Document = new(() => Build().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    [Function("OpenApi")]
    [ApiOperation("GET", "OpenApiDocument", Access.Anonymous, Summary = "This document.", Problems = [404])]
    public IResult Serve([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/openapi/{documentName}.json")] HttpRequest request, string documentName) =>
        documentName == Name
            ? Results.Text(Document.Value, "application/json; charset=utf-8")
            : Hosting.Problems.NotFound($"There is no OpenAPI document '{Domain.Validation.JsonFields.Truncate(documentName)}'; the document is {Name}.");

    private static JsonObject RequestBodyOf(RequestBody body) => body switch
    {
        RequestBody.Events => new JsonObject
        {
            ["required"] = true,
            ["description"] = "Events as events.md describes them: a JSON array of at most 5,000 (or one event object), or NDJSON, one event a line; at most 4 MiB.",
            ["content"] = new JsonObject
            {
                ["application/json"] = new JsonObject
                {
                    ["schema"] = new JsonObject
                    {
                        ["oneOf"] = new JsonArray(
                            new JsonObject { ["type"] = "array", ["maxItems"] = 5000, ["items"] = new JsonObject { ["type"] = "object" } },
                            new JsonObject { ["type"] = "object" }),
                    },
                },
                ["application/x-ndjson"] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "string", ["description"] = "One event object a line." } },
            },
        },
        _ => new JsonObject { ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "object" } } } },
    };

    public static JsonObject Build()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() };
        Hosting.HttpPipeline.Configure(json);
        // The web defaults read numbers from strings too, which the schemas then allowed ("string" or "integer"
        // with a pattern); the app writes numbers as numbers (found by a contract probe).
        json.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        var exporter = new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true };
        var paths = new JsonObject();
        foreach (var function in ApiOperations.All().Where(f => f.Route.StartsWith("api/", StringComparison.Ordinal) && f.Name != "OpenApi").OrderBy(f => f.Route, StringComparer.Ordinal))
        {
            var path = "/" + RouteParameter().Replace(function.Route, m => "{" + m.Groups["name"].Value + "}");
            // Functions may share a route with other methods (POST and GET /api/runs): their operations share its path item.
            if (paths[path] is not JsonObject item) paths[path] = item = new JsonObject();
            foreach (var operation in function.Operations.OrderBy(o => o.Method, StringComparer.Ordinal))
            {
                var op = new JsonObject
                {
                    ["operationId"] = operation.OperationId,
                    ["summary"] = operation.Summary,
                    ["x-function"] = function.Name,
                };
                var parameters = new JsonArray();
                foreach (Match m in RouteParameter().Matches(function.Route))
                    parameters.Add(new JsonObject { ["name"] = m.Groups["name"].Value, ["in"] = "path", ["required"] = true, ["schema"] = new JsonObject { ["type"] = "string" } });
                foreach (var name in operation.Query)
                    parameters.Add(new JsonObject { ["name"] = name, ["in"] = "query", ["required"] = operation.RequiredQuery.Contains(name), ["schema"] = new JsonObject { ["type"] = name is "pageSize" or "version" ? "integer" : "string" } });
                if (operation.Problems.Contains(412))
                {
                    // A definition's version is its entity tag (VersionPreconditions).
                    parameters.Add(Header("If-Match", "The definition must still be at this version (its ETag, such as \"3\"), or exist (*); else 412 and nothing changes."));
                    if (operation.Method == "PUT") parameters.Add(Header("If-None-Match", "* creates only: 412 when the definition exists."));
                }
                if (parameters.Count > 0) op["parameters"] = parameters;
                if (operation.Method is "PUT" or "POST" && operation.Body != RequestBody.None) op["requestBody"] = RequestBodyOf(operation.Body);

                var responses = new JsonObject();
                foreach (var status in new[] { operation.Status, operation.AlsoStatus }.Where(s => s > 0))
                {
                    var response = new JsonObject { ["description"] = Describe(status) };
                    if (operation.Response is { } type)
                    {
                        var content = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = json.GetJsonSchemaAsNode(type, exporter) } };
                        if (operation.AlsoProduces is { } other) content[other] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "string" } };
                        response["content"] = content;
                    }
                    responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = response;
                }
                var problems = operation.Problems.AsEnumerable();
                if (operation.Access != Access.Anonymous) problems = problems.Concat([401, 403]);
                foreach (var status in problems.Distinct().Order())
                {
                    responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
                    {
                        ["description"] = Describe(status),
                        ["content"] = new JsonObject { ["application/problem+json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = "#/components/schemas/ProblemDetails" } } },
                    };
                }
                op["responses"] = responses;
                if (operation.Access != Access.Anonymous)
                {
                    op["security"] = new JsonArray(new JsonObject { ["header"] = new JsonArray() }, new JsonObject { ["query"] = new JsonArray() });
                    op["x-role"] = operation.Access.ToString().ToLowerInvariant();
                }
                item[operation.Method.ToLowerInvariant()] = op;
            }
        }

        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject
            {
                ["title"] = "CrmMetrics API",
                ["version"] = "1.0",
                ["description"] = "CRM facts in, KPI snapshots, goals, incentives, benchmarks and alerts out. Keys travel as header x-api-key or query code; roles reader, writer, admin.",
            },
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["securitySchemes"] = new JsonObject
                {
                    ["header"] = new JsonObject { ["type"] = "apiKey", ["in"] = "header", ["name"] = "x-api-key" },
                    ["query"] = new JsonObject { ["type"] = "apiKey", ["in"] = "query", ["name"] = "code" },
                },
                ["schemas"] = new JsonObject
                {
                    ["ProblemDetails"] = new JsonObject
                    {
                        ["type"] = "object",
                        ["properties"] = new JsonObject
                        {
                            ["type"] = new JsonObject { ["type"] = "string" },
                            ["title"] = new JsonObject { ["type"] = "string" },
                            ["status"] = new JsonObject { ["type"] = "integer" },
                            ["detail"] = new JsonObject { ["type"] = "string" },
                            ["instance"] = new JsonObject { ["type"] = "string" },
                            ["errors"] = new JsonObject { ["type"] = "object", ["additionalProperties"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" } } },
                        },
                    },
                },
            },
        };
    }

    private static JsonObject Header(string name, string description) =>
        new() { ["name"] = name, ["in"] = "header", ["required"] = false, ["description"] = description, ["schema"] = new JsonObject { ["type"] = "string" } };

    private static string Describe(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);

    // {name}, {name:constraint}, {*name}; a literal suffix such as {documentName}.json stays.
    [GeneratedRegex(@"\{\*?(?<name>[A-Za-z0-9_]+)(:[^}]*)?\}")]
    private static partial Regex RouteParameter();
}
