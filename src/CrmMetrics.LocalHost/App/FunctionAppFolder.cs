using System.Text.Json;

namespace CrmMetrics.LocalHost.App;

/// <summary>
/// A built or published .NET isolated-worker function app: the folder with host.json,
/// worker.config.json (how to start the worker) and the app's assemblies.
/// </summary>
public sealed class FunctionAppFolder
{
    private FunctionAppFolder(string path, HostJson host, string executable, string workerPath, IReadOnlyList<string> arguments)
    {
        Path = path;
        Host = host;
        Executable = executable;
        WorkerPath = workerPath;
        Arguments = arguments;
    }

    /// <summary>The app folder, with a trailing separator.</summary>
    public string Path { get; }
    public HostJson Host { get; }

    /// <summary>What starts the worker (<c>dotnet</c>, or the app's own executable when published self-contained).</summary>
    public string Executable { get; }

    /// <summary>The worker assembly, passed to <see cref="Executable"/> when that is <c>dotnet</c>.</summary>
    public string WorkerPath { get; }

    public IReadOnlyList<string> Arguments { get; }

    /// <summary>The app's name as the host derives a host id from it.</summary>
    public string Name => System.IO.Path.GetFileNameWithoutExtension(WorkerPath);

    public static FunctionAppFolder Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(full)) throw new AppFolderException($"The function app folder {full} does not exist; build the app first (dotnet build).");
        full = System.IO.Path.TrimEndingDirectorySeparator(full) + System.IO.Path.DirectorySeparatorChar;
        var host = HostJson.Load(System.IO.Path.Combine(full, "host.json"));

        var configPath = System.IO.Path.Combine(full, "worker.config.json");
        if (!File.Exists(configPath))
            throw new AppFolderException($"{full} has no worker.config.json: it is not a .NET isolated-worker app built with Microsoft.Azure.Functions.Worker.Sdk.");
        using var config = JsonDocument.Parse(File.ReadAllText(configPath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!config.RootElement.TryGetProperty("description", out var description))
            throw new AppFolderException($"{configPath} has no description.");
        string? Text(string name) => description.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var executable = Text("defaultExecutablePath") ?? throw new AppFolderException($"{configPath}: description.defaultExecutablePath is missing.");
        var worker = Text("defaultWorkerPath") ?? throw new AppFolderException($"{configPath}: description.defaultWorkerPath is missing.");
        var arguments = description.TryGetProperty("arguments", out var args) && args.ValueKind == JsonValueKind.Array
            ? args.EnumerateArray().Select(a => a.GetString() ?? "").Where(a => a.Length > 0).ToList()
            : [];
        // A relative executable other than "dotnet" lives in the app folder (a self-contained publish).
        if (executable != "dotnet" && !System.IO.Path.IsPathRooted(executable)) executable = System.IO.Path.Combine(full, executable);
        var workerPath = System.IO.Path.Combine(full, worker);
        if (!File.Exists(workerPath)) throw new AppFolderException($"The worker {workerPath} named by {configPath} does not exist.");
        return new FunctionAppFolder(full, host, executable, workerPath, arguments);
    }
}
