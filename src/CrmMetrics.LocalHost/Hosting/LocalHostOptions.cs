namespace CrmMetrics.LocalHost;

/// <summary>How to run a function app locally.</summary>
public sealed class LocalHostOptions
{
    /// <summary>The built or published function app folder (host.json, worker.config.json, the worker).</summary>
    public required string AppDirectory { get; init; }

    /// <summary>Where the host serves the app's HTTP functions (<c>--urls</c>); port 0 picks a free port.</summary>
    public IReadOnlyList<string> Urls { get; init; } = ["http://127.0.0.1:7071"];

    /// <summary>Settings that win over local.settings.json and the environment (tests, command-line overrides).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>Settings that hold only where local.settings.json, the environment and <see cref="Settings"/> say nothing.</summary>
    public IReadOnlyDictionary<string, string?> DefaultSettings { get; init; } = new Dictionary<string, string?>();

    /// <summary>A local.settings.json to read instead of looking for one.</summary>
    public string? LocalSettingsPath { get; init; }

    /// <summary>
    /// Where a started Azurite keeps its data when no storage is configured; null keeps it in memory.
    /// Defaults to <c>.azurite/</c> under the repository that pins Azurite.
    /// </summary>
    public string? AzuriteDataFolder { get; init; } = AzuriteDefaults.DataFolder;

    /// <summary>How long work (an HTTP request, a queue message) waits for a worker that is starting or restarting.</summary>
    public TimeSpan WorkerWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the worker has to finish after <c>WorkerTerminate</c> before it is killed.</summary>
    public TimeSpan WorkerGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a received queue message stays invisible while its function runs (renewed at a
    /// third); after a crash of the whole host it reappears when this runs out. The Functions host uses 10 minutes.
    /// </summary>
    public TimeSpan QueueMessageLease { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The least severe log level written to the console (when no logger provider is given).</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    /// <summary>The clock timer triggers keep their schedules by (tests move it on to an occurrence months away).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Levels for categories of their own (the app's or the host's), beside <see cref="MinimumLogLevel"/>: the demo keeps runs' lifecycle lines.</summary>
    public IReadOnlyDictionary<string, LogLevel> CategoryLogLevels { get; init; } = new Dictionary<string, LogLevel>();
}

public static class AzuriteDefaults
{
    /// <summary><c>.azurite/</c> beside the package.json that pins Azurite, if there is one above the working directory.</summary>
    public static string? DataFolder => Storage.AzuriteServer.PackageRoot() is { } root ? Path.Combine(root, ".azurite") : null;
}
