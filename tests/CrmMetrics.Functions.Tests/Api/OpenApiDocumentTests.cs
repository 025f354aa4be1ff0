using System.Text.Json.Nodes;
using CrmMetrics.Functions.Api;

namespace CrmMetrics.Functions.Tests.Api;

/// <summary>The OpenAPI document as a code generator reads it (pure: built from the functions' declarations).</summary>
public class OpenApiDocumentTests
{
    private static readonly JsonObject Document = OpenApiDocument.Build();

    private static IEnumerable<(string Where, JsonNode Schema)> Schemas(JsonNode? node, string where)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["type"] is not null || o["oneOf"] is not null) yield return (where, o);
                foreach (var (name, child) in o)
                {
                    foreach (var found in Schemas(child, $"{where}.{name}")) yield return found;
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    foreach (var found in Schemas(a[i], $"{where}[{i}]")) yield return found;
                }
                break;
        }
    }

    [Fact]
    public void The_events_body_is_an_array_of_events_or_ndjson_not_an_object()
    {
        // Found by a contract probe: the document gave POST /api/events an object body, so a generated client sent one.
        var body = Document["paths"]!["/api/events"]!["post"]!["requestBody"]!;
        Assert.True(body["required"]!.GetValue<bool>());
        var json = body["content"]!["application/json"]!["schema"]!["oneOf"]!.AsArray();
        Assert.Equal("array", json[0]!["type"]!.GetValue<string>());
        Assert.Equal(5000, json[0]!["maxItems"]!.GetValue<int>());
        Assert.NotNull(body["content"]!["application/x-ndjson"]);
        // A run may be asked for with no body at all (no period: the current and just-closed periods).
        Assert.Null(Document["paths"]!["/api/runs"]!["post"]!["requestBody"]!["required"]);
    }

    [Fact]
    public void Numbers_are_typed_as_numbers_as_the_app_writes_them()
    {
        // Found by a contract probe: counts and versions were typed "string or integer" with a digit pattern.
        var numbers = Schemas(Document["paths"], "paths").Where(s => s.Schema["type"] is JsonArray types && types.Any(t => t!.GetValue<string>() == "string")
            && types.Any(t => t!.GetValue<string>() is "integer" or "number")).Select(s => s.Where).ToList();
        Assert.Empty(numbers);
        var accepted = Document["paths"]!["/api/events"]!["post"]!["responses"]!["202"]!["content"]!["application/json"]!["schema"]!["properties"]!["accepted"]!;
        Assert.Equal("integer", accepted["type"]!.GetValue<string>());
    }
}
