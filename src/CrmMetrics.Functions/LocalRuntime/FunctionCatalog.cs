using System.Text.Json;
using System.Text.Json.Nodes;

namespace CrmMetrics.Functions.LocalRuntime;

/// <summary>One binding of a function.json.</summary>
public sealed record BindingDefinition(string Type, string Direction, string Name, JsonObject Raw)
{
    public string? Get(string property) => Raw[property]?.GetValue<string>();

    public bool IsTrigger => Type.EndsWith("Trigger", StringComparison.Ordinal);
}

/// <summary>A function folder: its name and its bindings, as the Functions host reads them.</summary>
public sealed record FunctionDefinition(string Name, IReadOnlyList<BindingDefinition> Bindings, bool Disabled)
{
    public BindingDefinition Trigger => Bindings.Single(b => b.IsTrigger);
    public IEnumerable<BindingDefinition> Outputs => Bindings.Where(b => b.Direction == "out" && b.Type != "http");
}

/// <summary>The app's host.json, for the parts the local runtime honours.</summary>
public sealed record HostSettings(
    string RoutePrefix,
    int MaxDequeueCount,
    TimeSpan VisibilityTimeout,
    TimeSpan MaxPollingInterval,
    int BatchSize,
    string? HandlerPath,
    bool ForwardsHttp);

/// <summary>
/// Reads host.json and every <c>&lt;Function&gt;/function.json</c> in the app folder: the same files
/// the Functions host reads in Azure, so triggers have one source of truth.
/// </summary>
public sealed class FunctionCatalog
{
    private FunctionCatalog(string root, HostSettings host, IReadOnlyList<FunctionDefinition> functions)
    {
        Root = root;
        Host = host;
        Functions = functions;
    }

    public string Root { get; }
    public HostSettings Host { get; }
    public IReadOnlyList<FunctionDefinition> Functions { get; }

    public static FunctionCatalog Load(string root)
    {
        var hostPath = Path.Combine(root, "host.json");
        if (!File.Exists(hostPath)) throw new InvalidOperationException($"host.json is missing in {root}; the function app is not laid out.");
        var hostJson = JsonNode.Parse(File.ReadAllText(hostPath), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();

        var queues = hostJson["extensions"]?["queues"];
        var http = hostJson["extensions"]?["http"];
        var handler = hostJson["customHandler"];
        var host = new HostSettings(
            RoutePrefix: http?["routePrefix"]?.GetValue<string>() ?? "api",
            MaxDequeueCount: queues?["maxDequeueCount"]?.GetValue<int>() ?? 5,
            VisibilityTimeout: TimeSpan.Parse(queues?["visibilityTimeout"]?.GetValue<string>() ?? "00:00:00"),
            MaxPollingInterval: TimeSpan.Parse(queues?["maxPollingInterval"]?.GetValue<string>() ?? "00:01:00"),
            BatchSize: queues?["batchSize"]?.GetValue<int>() ?? 16,
            HandlerPath: handler?["description"]?["defaultExecutablePath"]?.GetValue<string>(),
            ForwardsHttp: handler?["enableForwardingHttpRequest"]?.GetValue<bool>() ?? false);

        var functions = new List<FunctionDefinition>();
        foreach (var dir in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            var path = Path.Combine(dir, "function.json");
            if (!File.Exists(path)) continue;
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            var bindings = (json["bindings"]?.AsArray() ?? [])
                .Select(b => b!.AsObject())
                .Select(b => new BindingDefinition(b["type"]!.GetValue<string>(), b["direction"]!.GetValue<string>(), b["name"]!.GetValue<string>(), b))
                .ToList();
            functions.Add(new FunctionDefinition(Path.GetFileName(dir), bindings, json["disabled"]?.GetValue<bool>() ?? false));
        }
        return new FunctionCatalog(root, host, functions);
    }

    /// <summary>Resolves <c>%Setting%</c> binding expressions from configuration, as the host does.</summary>
    public static string Resolve(string value, IConfiguration configuration)
    {
        if (value.Length > 2 && value[0] == '%' && value[^1] == '%')
        {
            var name = value[1..^1];
            return configuration[name] is { Length: > 0 } resolved
                ? resolved
                : throw new InvalidOperationException($"The binding expression %{name}% names a setting '{name}' that is not set.");
        }
        return value;
    }
}
