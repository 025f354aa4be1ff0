using System.Text.Json;
using System.Text.Json.Nodes;
using CrmMetrics.LocalHost.Rpc.Messages;

namespace CrmMetrics.LocalHost.Functions;

/// <summary>One binding of a function, as the worker's metadata declares it (the raw binding JSON).</summary>
public sealed record FunctionBinding(string Name, string Type, string Direction, JsonObject Raw)
{
    public string? Get(string property) =>
        Raw.FirstOrDefault(p => string.Equals(p.Key, property, StringComparison.OrdinalIgnoreCase)).Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public bool? GetBool(string property) =>
        Raw.FirstOrDefault(p => string.Equals(p.Key, property, StringComparison.OrdinalIgnoreCase)).Value switch
        {
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            JsonValue v when v.TryGetValue<string>(out var s) && bool.TryParse(s, out var b) => b,
            _ => null,
        };

    public IReadOnlyList<string>? GetList(string property) =>
        Raw.FirstOrDefault(p => string.Equals(p.Key, property, StringComparison.OrdinalIgnoreCase)).Value is JsonArray a
            ? a.Select(x => x?.GetValue<string>() ?? "").ToList()
            : null;

    public bool IsTrigger => Type.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase) && Direction.Equals("in", StringComparison.OrdinalIgnoreCase);
    public bool IsOutput => Direction.Equals("out", StringComparison.OrdinalIgnoreCase);

    public static FunctionBinding Parse(string rawJson, string function)
    {
        JsonObject raw;
        try
        {
            raw = JsonNode.Parse(rawJson)?.AsObject() ?? throw new FormatException("empty");
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new FormatException($"Function {function} has a binding that is not a JSON object: {e.Message}");
        }
        string Required(string name) =>
            raw.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0
                ? s
                : throw new FormatException($"Function {function} has a binding without '{name}'.");
        return new FunctionBinding(Required("name"), Required("type"), Required("direction"), raw);
    }
}

/// <summary>A function the worker declared and loaded: its id in the current worker, its name and bindings.</summary>
public sealed record HostedFunction(string Id, string Name, string EntryPoint, IReadOnlyList<FunctionBinding> Bindings, RpcFunctionMetadata Metadata)
{
    public FunctionBinding Trigger => Bindings.Single(b => b.IsTrigger);
    public IEnumerable<FunctionBinding> Outputs => Bindings.Where(b => b.IsOutput);

    public static HostedFunction From(RpcFunctionMetadata metadata)
    {
        var bindings = metadata.RawBindings.Select(b => FunctionBinding.Parse(b, metadata.Name)).ToList();
        var triggers = bindings.Count(b => b.IsTrigger);
        if (triggers != 1) throw new FormatException($"Function {metadata.Name} declares {triggers} triggers; a function has exactly one.");
        return new HostedFunction(metadata.FunctionId, metadata.Name, metadata.EntryPoint, bindings, metadata);
    }
}
