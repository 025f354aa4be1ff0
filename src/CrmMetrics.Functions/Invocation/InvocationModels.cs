using System.Text.Json;
using System.Text.Json.Nodes;

namespace CrmMetrics.Functions.Invocation;

/// <summary>
/// The Functions host's custom-handler request: <c>{ "Data": { binding: value }, "Metadata": { ... } }</c>.
/// The local runtime builds exactly the same payload.
/// </summary>
public sealed class InvocationRequest
{
    public Dictionary<string, JsonElement> Data { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    public Dictionary<string, JsonElement> Metadata { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A trigger value as text. The host sends queue messages as JSON-encoded strings (sometimes
    /// encoded twice when the message itself is JSON text); this undoes either.
    /// </summary>
    public string? TriggerText(string binding)
    {
        if (!Data.TryGetValue(binding, out var value)) return null;
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                var text = value.GetString()!;
                var trimmed = text.AsSpan().TrimStart();
                if (trimmed.Length > 1 && trimmed[0] == '"')
                {
                    try
                    {
                        return JsonSerializer.Deserialize<string>(text) ?? text;
                    }
                    catch (JsonException)
                    {
                        return text;
                    }
                }
                return text;
            case JsonValueKind.Null or JsonValueKind.Undefined:
                return null;
            default:
                return value.GetRawText();
        }
    }

    public string? MetadataText(string name)
    {
        if (!Metadata.TryGetValue(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => TrimQuotes(value.GetString()!),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => value.GetRawText(),
        };
    }

    /// <summary>The queue message's dequeue count (the host sends it as a number or as text).</summary>
    public int DequeueCount => int.TryParse(MetadataText("DequeueCount"), out var n) ? n : 1;

    public string? MessageId => MetadataText("Id");

    private static string TrimQuotes(string s) => s.Length >= 2 && s[0] == '"' && s[^1] == '"' ? s[1..^1] : s;
}

/// <summary>The custom-handler response: <c>{ "Outputs": { binding: value }, "Logs": [...], "ReturnValue": ... }</c>.</summary>
public sealed class InvocationResponse
{
    public Dictionary<string, JsonNode?> Outputs { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    public List<string> Logs { get; set; } = [];
    public JsonNode? ReturnValue { get; set; }

    /// <summary>Adds messages to a queue or serviceBus output; several messages become a JSON array.</summary>
    public void AddMessages(string binding, IEnumerable<string> messages)
    {
        var array = Outputs.TryGetValue(binding, out var existing) && existing is JsonArray a ? a : new JsonArray();
        foreach (var m in messages) array.Add(JsonValue.Create(m));
        Outputs[binding] = array;
    }

    public void Log(string line) => Logs.Add($"{DateTimeOffset.UtcNow:O} {line}");
}

/// <summary>One function's code: what the host (or the local runtime) invokes by name.</summary>
public interface IFunctionHandler
{
    /// <summary>The function's folder name, which is also its invocation path.</summary>
    string Name { get; }

    Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken);
}
