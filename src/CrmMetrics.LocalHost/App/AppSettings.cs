using System.Collections;
using System.Text.Json;

namespace CrmMetrics.LocalHost.App;

/// <summary>
/// The app settings the host resolves binding expressions from and passes to the worker as
/// environment variables, as Core Tools does: <c>local.settings.json</c> <c>Values</c>, then the
/// host's environment (which wins), then explicit overrides (tests, the command line).
/// Keys compare case-insensitively and <c>:</c> equals <c>__</c>.
/// </summary>
public sealed class AppSettings
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    private AppSettings(string? localSettingsPath) => LocalSettingsPath = localSettingsPath;

    /// <summary>The local.settings.json that was read, if any.</summary>
    public string? LocalSettingsPath { get; }

    public IReadOnlyDictionary<string, string> Values => _values;

    public string? this[string name]
    {
        get => _values.TryGetValue(Normalize(name), out var v) ? v : null;
        set
        {
            if (value is null) _values.Remove(Normalize(name));
            else _values[Normalize(name)] = value;
        }
    }

    public bool IsSet(string name) => !string.IsNullOrEmpty(this[name]);

    /// <summary>Whether a setting or any setting below it (<c>name__child</c>) is set: identity-based connections use children.</summary>
    public bool IsSection(string name)
    {
        var prefix = Normalize(name) + "__";
        return _values.Any(kv => kv.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && kv.Value.Length > 0);
    }

    /// <param name="defaults">Settings that hold only where local.settings.json, the environment and <paramref name="overrides"/> say nothing.</param>
    public static AppSettings Load(FunctionAppFolder app, IEnumerable<KeyValuePair<string, string?>>? overrides = null, string? localSettingsPath = null,
        IEnumerable<KeyValuePair<string, string?>>? defaults = null)
    {
        var path = localSettingsPath ?? FindLocalSettings(app.Path);
        var settings = new AppSettings(path);
        foreach (var (k, v) in defaults ?? []) settings[k] = v;
        if (path is not null)
        {
            foreach (var (k, v) in ReadValues(path)) settings[k] = v;
        }
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            if (e.Key is string k && e.Value is string v) settings[k] = v;
        }
        foreach (var (k, v) in overrides ?? []) settings[k] = v;
        return settings;
    }

    /// <summary>
    /// Resolves a binding expression: <c>%Name%</c> becomes that setting, anything else stays.
    /// Returns false (with the setting's name) when the setting is not set: the host then reports the
    /// function in error, as the Functions host does, and runs the others.
    /// </summary>
    public bool TryResolve(string value, out string resolved, out string? missing)
    {
        missing = null;
        resolved = value;
        if (value.Length > 2 && value[0] == '%' && value[^1] == '%')
        {
            var name = value[1..^1];
            // Blank counts as unset, as the worker reads its settings.
            if (this[name] is { } found && !string.IsNullOrWhiteSpace(found))
            {
                resolved = found;
                return true;
            }
            missing = name;
            return false;
        }
        return true;
    }

    /// <summary>The settings as environment variables (<c>:</c> written as <c>__</c>, which every platform accepts).</summary>
    public IEnumerable<KeyValuePair<string, string>> AsEnvironment() => _values;

    private static string Normalize(string name) => name.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>local.settings.json in the app folder, else in the working directory or the nearest folder above it.</summary>
    private static string? FindLocalSettings(string appPath)
    {
        var inApp = Path.Combine(appPath, "local.settings.json");
        if (File.Exists(inApp)) return inApp;
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "local.settings.json");
            if (File.Exists(candidate)) return candidate;
            if (Directory.Exists(Path.Combine(dir.FullName, ".git"))) break;
        }
        return null;
    }

    private static IEnumerable<KeyValuePair<string, string>> ReadValues(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new AppFolderException($"{path} is not valid JSON: {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new AppFolderException($"{path} must be a JSON object with a Values object.");
            if (!doc.RootElement.TryGetProperty("Values", out var values)) return [];
            if (values.ValueKind != JsonValueKind.Object) throw new AppFolderException($"{path}: Values must be an object of setting names and strings.");
            return values.EnumerateObject()
                .Select(p => new KeyValuePair<string, string>(p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()))
                .ToList();
        }
    }
}
