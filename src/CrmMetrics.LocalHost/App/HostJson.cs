using System.Text.Json;
using System.Text.Json.Nodes;

namespace CrmMetrics.LocalHost.App;

/// <summary>The queue trigger settings of host.json (<c>extensions.queues</c>), with the Functions host's defaults.</summary>
public sealed record QueueOptions(
    int BatchSize,
    int NewBatchThreshold,
    TimeSpan MaxPollingInterval,
    TimeSpan VisibilityTimeout,
    int MaxDequeueCount,
    bool Base64Messages);

/// <summary>
/// The parts of an app's host.json that the local host honours: the HTTP route prefix, the queue
/// trigger settings and the function timeout. Values it cannot read are errors naming their path,
/// as the real host refuses such a host.json.
/// </summary>
public sealed record HostJson(string RoutePrefix, QueueOptions Queues, TimeSpan FunctionTimeout)
{
    public static readonly HostJson Defaults = new("api", new QueueOptions(16, 8, TimeSpan.FromMinutes(1), TimeSpan.Zero, 5, true), TimeSpan.FromMinutes(30));

    public static HostJson Load(string path)
    {
        if (!File.Exists(path)) throw new AppFolderException($"host.json is missing: {path} is not a function app folder.");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })?.AsObject()
                   ?? throw new AppFolderException($"{path} is empty.");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new AppFolderException($"{path} is not valid JSON: {e.Message}");
        }
        return Parse(root, path);
    }

    public static HostJson Parse(JsonObject root, string source)
    {
        var d = Defaults;
        var http = root["extensions"]?["http"];
        var queues = root["extensions"]?["queues"];
        var batchSize = Int(queues, "batchSize", d.Queues.BatchSize, 1, 32);
        var options = new QueueOptions(
            BatchSize: batchSize,
            NewBatchThreshold: Int(queues, "newBatchThreshold", batchSize / 2, 0, 10_000),
            MaxPollingInterval: Span(queues, "maxPollingInterval", d.Queues.MaxPollingInterval, TimeSpan.FromMilliseconds(100)),
            VisibilityTimeout: Span(queues, "visibilityTimeout", d.Queues.VisibilityTimeout, TimeSpan.Zero),
            MaxDequeueCount: Int(queues, "maxDequeueCount", d.Queues.MaxDequeueCount, 1, 1000),
            Base64Messages: (Text(queues, "messageEncoding") ?? "base64").ToLowerInvariant() switch
            {
                "base64" => true,
                "none" => false,
                var other => throw new AppFolderException($"{source}: extensions.queues.messageEncoding '{other}' must be base64 or none."),
            });
        var prefix = Text(http, "routePrefix") ?? d.RoutePrefix;
        return new HostJson(prefix.Trim('/'), options, Span(root, "functionTimeout", d.FunctionTimeout, TimeSpan.FromSeconds(1)));

        int Int(JsonNode? section, string name, int fallback, int min, int max)
        {
            var node = section?[name];
            if (node is null) return fallback;
            if (node is JsonValue v && v.TryGetValue<int>(out var n) && n >= min && n <= max) return n;
            throw new AppFolderException($"{source}: {name} must be a whole number from {min} to {max}.");
        }

        TimeSpan Span(JsonNode? section, string name, TimeSpan fallback, TimeSpan min)
        {
            var text = Text(section, name);
            if (text is null) return fallback;
            if (TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var span) && span >= min) return span;
            throw new AppFolderException($"{source}: {name} must be a time span (hh:mm:ss) of at least {min}.");
        }

        static string? Text(JsonNode? section, string name) => section?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    }
}

/// <summary>A function app folder the local host cannot run, with what is wrong in it.</summary>
public sealed class AppFolderException(string message) : Exception(message);
