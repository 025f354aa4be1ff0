using System.Text.Json;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Reads <c>local.settings.json</c> (the Functions tooling's file) so its <c>Values</c> become
/// settings when running locally, as <c>func start</c> would make them environment variables.
/// Environment variables still win.
/// </summary>
public static class LocalSettingsFile
{
    public static IDictionary<string, string?> Load(string? path)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (path is null || !File.Exists(path)) return result;
        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!doc.RootElement.TryGetProperty("Values", out var values) || values.ValueKind != JsonValueKind.Object) return result;
        foreach (var p in values.EnumerateObject())
        {
            result[p.Name.Replace("__", ":", StringComparison.Ordinal)] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText();
        }
        return result;
    }

    /// <summary>The first local.settings.json in the working directory or above it.</summary>
    public static string? Find()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "local.settings.json");
            if (File.Exists(candidate)) return candidate;
            if (File.Exists(Path.Combine(dir.FullName, "CrmMetrics.sln"))) break;
        }
        return null;
    }
}
