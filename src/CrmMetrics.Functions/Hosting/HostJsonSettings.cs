using System.Text.Json;
using System.Text.Json.Nodes;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// What the app's functions need to know of host.json: how many times the host delivers a queue
/// message before it goes to the poison queue, so the last attempt can record its failure on the run.
/// </summary>
public sealed record HostJsonSettings(int MaxDequeueCount)
{
    public static HostJsonSettings Load()
    {
        // The host tells the worker where the app is; beside the assembly otherwise.
        var folder = Environment.GetEnvironmentVariable("FUNCTIONS_APPLICATION_DIRECTORY") is { Length: > 0 } dir ? dir : AppContext.BaseDirectory;
        var path = Path.Combine(folder, "host.json");
        if (!File.Exists(path)) return new HostJsonSettings(5);
        var root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return new HostJsonSettings(root?["extensions"]?["queues"]?["maxDequeueCount"]?.GetValue<int>() ?? 5);
    }

    /// <summary>Whether this delivery is the last one before the message goes to the poison queue.</summary>
    public bool IsLastAttempt(int dequeueCount) => dequeueCount >= MaxDequeueCount;
}
