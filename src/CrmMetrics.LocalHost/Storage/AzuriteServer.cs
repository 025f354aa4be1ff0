using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using CrmMetrics.LocalHost.Hosting;

namespace CrmMetrics.LocalHost.Storage;

/// <summary>
/// A real Azurite (the npm package pinned in the repository's package.json) started on free loopback
/// ports, for local runs and tests. Installs it with npm when node_modules lacks it, and stops it on dispose:
/// Azurite saves its tables and queue metadata to disk only every 5 seconds, so one that keeps its data
/// in a folder is asked to close (<see cref="CloseSignal"/>), which saves them, and killed only if it does not; one that
/// keeps its data in memory is simply killed.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    // Azurite's documented, public development account; it protects nothing.
    private const string DevAccount = "devstoreaccount1";
    private const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;
    private readonly bool _persisted;
    private int _closedServices;
    private Task? _stopping;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How long a persisted Azurite may take to save and close before it is killed.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(15);

    private AzuriteServer(Process process, bool persisted, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        _persisted = persisted;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    private readonly LastLines _output = new();

    /// <summary>The last lines Azurite wrote (it writes none per request), to say why it stopped.</summary>
    public LastLines Output => _output;

    /// <summary>The node process that runs Azurite.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Whether its data lives in a folder (and so survives a restart), rather than in memory.</summary>
    public bool Persisted => _persisted;

    /// <summary>Completes when the process exits for a reason other than <see cref="StopAsync"/>, with its exit code and last output.</summary>
    public Task<(int Code, string Output)> ExitedUnasked => _exitedUnasked.Task;

    private readonly TaskCompletionSource<(int Code, string Output)> _exitedUnasked = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    /// <summary>The connection string for Azurite on these ports (whether or not one listens there).</summary>
    public static string ConnectionStringFor(int blob, int queue, int table) =>
        $"DefaultEndpointsProtocol=http;AccountName={DevAccount};AccountKey={DevKey};" +
        $"BlobEndpoint=http://127.0.0.1:{blob}/{DevAccount};" +
        $"QueueEndpoint=http://127.0.0.1:{queue}/{DevAccount};" +
        $"TableEndpoint=http://127.0.0.1:{table}/{DevAccount};";

    /// <summary>
    /// Three distinct free loopback ports (blob, queue, table). All three listeners are held until the last is chosen: a port given
    /// back can be handed out again at once, and then two services were told to listen on one port
    /// (seen: "listen EADDRINUSE", the blob and queue services on one port).
    /// </summary>
    public static (int Blob, int Queue, int Table) FreePorts()
    {
        var listeners = Enumerable.Range(0, 3).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            foreach (var listener in listeners) listener.Start();
            var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
            return (ports[0], ports[1], ports[2]);
        }
        finally
        {
            foreach (var listener in listeners) listener.Dispose();
        }
    }

    public string ConnectionString => ConnectionStringFor(BlobPort, QueuePort, TablePort);

    /// <summary>
    /// Starts Azurite. With <paramref name="dataFolder"/> null, data lives in memory and is gone on exit
    /// (what tests want); otherwise it is kept in that folder.
    /// </summary>
    /// <param name="ports">Ports to listen on (to start Azurite again where clients expect it); free ones when null.</param>
    public static async Task<AzuriteServer> StartAsync(string? dataFolder, Action<string>? log = null, CancellationToken cancellationToken = default,
        (int Blob, int Queue, int Table)? ports = null)
    {
        log ??= _ => { };
        var script = await LocateOrInstallAsync(log, cancellationToken);
        var folderLock = dataFolder is null ? null : LockDataFolder(dataFolder);
        try
        {
            if (ports is { } fixedPorts) return (await LaunchAsync(script, dataFolder, fixedPorts.Blob, fixedPorts.Queue, fixedPorts.Table, cancellationToken)).Holding(folderLock);
            Exception? last = null;
            for (var attempt = 1; attempt <= 3; attempt++)
            {
                var (blob, queue, table) = FreePorts();
                try
                {
                    return (await LaunchAsync(script, dataFolder, blob, queue, table, cancellationToken)).Holding(folderLock);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A port taken between probing and binding: try others.
                    last = e;
                    log($"Azurite did not start on ports {blob}/{queue}/{table} ({e.Message}); retrying.");
                }
            }
            throw new InvalidOperationException("Azurite could not be started.", last);
        }
        catch
        {
            folderLock?.Dispose();
            throw;
        }
    }

    /// <summary>The name of the lock file a running Azurite's data folder holds.</summary>
    public const string LockFileName = "crmmetrics-localhost.lock";

    /// <summary>The lock on the data folder, held until this Azurite has saved and closed.</summary>
    private FileStream? _folderLock;

    private AzuriteServer Holding(FileStream? folderLock)
    {
        _folderLock = folderLock;
        return this;
    }

    /// <summary>
    /// Takes the data folder for this Azurite alone: two Azurites on one folder each save their whole
    /// database over the other's (a second host started from the same checkout would do that).
    /// </summary>
    private static FileStream LockDataFolder(string dataFolder)
    {
        Directory.CreateDirectory(dataFolder);
        try
        {
            return new FileStream(Path.Combine(dataFolder, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new AzuriteFolderInUseException(
                $"Another local host runs Azurite on the data in {dataFolder}; two would overwrite each other's data. Stop that one, " +
                "or give this one storage of its own: set AzureWebJobsStorage to a storage account or to another Azurite's connection string.");
        }
    }

    /// <summary>
    /// Run by node before Azurite. Azurite must outlive the host's graceful stop (which still finishes
    /// running invocations, releases messages and leases), so the stop signals meant for the host leave
    /// it serving: Ctrl+C in a terminal (SIGINT to every process of the foreground group) is ignored, and
    /// a service manager's stop (SIGTERM, sent by systemd to every process of the service) is deferred:
    /// Azurite closes when the host asks (<see cref="CloseSignal"/>, once the host has stopped), or 60 s
    /// after the signal if it never does (found by probing: a SIGTERM to the group closed Azurite at
    /// once, and the requests the host was still finishing failed with 503). When the process that
    /// started it is gone (killed outright, so it could not ask), it closes the same way, saving its data,
    /// instead of living on as an orphan that holds the ports and the data folder. Its output goes to the
    /// host through pipes: once the host is gone a write there fails (EPIPE), and node would die of it
    /// before saving (found by probing: a host killed outright lost the last seconds of acknowledged
    /// facts), so such failures are ignored. Azurite registers its closing for SIGINT and SIGTERM with
    /// <c>process.once</c>; the bootstrap keeps those listeners to call itself.
    /// </summary>
    public const string Bootstrap =
        "process.stdout.on('error', () => {}); process.stderr.on('error', () => {}); " +
        "const closers = []; const close = () => { for (const f of closers.splice(0)) f(); }; " +
        "const once = process.once.bind(process); " +
        "process.once = (event, listener) => { if (event === 'SIGTERM') closers.push(listener); else if (event !== 'SIGINT') once(event, listener); return process; }; " +
        "process.on('SIGINT', () => {}); " +
        "process.on('SIGTERM', () => { console.log('" + StopSignalLine + "'); setTimeout(close, 60000).unref(); }); " +
        "process.on('" + CloseSignalName + "', close); " +
        "const parent = process.ppid; setInterval(() => { if (process.ppid !== parent) close(); }, 1000).unref(); " +
        "require(process.argv[1]);";

    /// <summary>What Azurite prints when a SIGTERM reaches it: it keeps serving until the host closes it.</summary>
    public const string StopSignalLine = "Stop signal received: Azurite keeps serving until the host that started it has stopped and closes it (at most 60 s)";

    /// <summary>The signal by which the host asks its Azurite to save and close: SIGUSR2 (SIGTERM is the host's own stop).</summary>
    public static int CloseSignal => OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 31 : 12;

    private const string CloseSignalName = "SIGUSR2";

    /// <summary>The arguments of <c>node</c> that start Azurite's <paramref name="script"/> on these ports.</summary>
    public static IReadOnlyList<string> NodeArguments(string script, string? dataFolder, int blob, int queue, int table)
    {
        var args = new List<string>
        {
            "-e", Bootstrap, script,
            "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(),
            "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(),
            "--tableHost", "127.0.0.1", "--tablePort", table.ToString(),
            // The SDKs may speak a newer service version than this Azurite knows.
            "--skipApiVersionCheck",
            "--disableProductStyleUrl",
            // No usage reports leave a developer's machine or a CI runner.
            "--disableTelemetry",
            // No access log: a line per request, which the starter would read for as long as Azurite runs.
            "--silent",
        };
        if (dataFolder is null) args.Add("--inMemoryPersistence");
        else args.AddRange(["--location", dataFolder]);
        return args;
    }

    private static async Task<AzuriteServer> LaunchAsync(string script, string? dataFolder, int blob, int queue, int table, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (dataFolder is not null) Directory.CreateDirectory(dataFolder);
        foreach (var arg in NodeArguments(script, dataFolder, blob, queue, table)) start.ArgumentList.Add(arg);

        var process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started");
        var server = new AzuriteServer(process, dataFolder is not null, blob, queue, table);
        var listening = 0;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = server._output;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            output.Add(e.Data);
            if (e.Data.Contains("successfully listening", StringComparison.OrdinalIgnoreCase) && Interlocked.Increment(ref listening) == 3)
                ready.TrySetResult();
            // Each service logs this once its data is saved and its store closed.
            if (e.Data.Contains("successfully closed", StringComparison.OrdinalIgnoreCase) && Interlocked.Increment(ref server._closedServices) == 3)
                server._closed.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Add(e.Data); };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) =>
        {
            ready.TrySetException(new InvalidOperationException("Azurite exited: " + output.Tail(5, " | ")));
            if (Volatile.Read(ref server._stopping) is null)
            {
                int code;
                try { code = process.ExitCode; } catch (InvalidOperationException) { code = -1; }
                server._exitedUnasked.TrySetResult((code, output.Tail(5, " | ")));
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        // A process that ends without disposing it still lets a persisted Azurite save its data.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopAsync().Wait(CloseTimeout + TimeSpan.FromSeconds(10));
        return server;
    }

    /// <summary>Finds Azurite's entry script under the repository's node_modules, installing it with npm when missing.</summary>
    public static async Task<string> LocateOrInstallAsync(Action<string> log, CancellationToken cancellationToken)
    {
        var root = PackageRoot() ?? throw new InvalidOperationException(
            "No package.json that pins azurite was found above the current or the application directory; " +
            "set AzureWebJobsStorage to a storage account or run from the repository.");
        var script = ScriptIn(root);
        if (IsInstalled(root)) return script;

        // Test processes start in parallel: one installs, the others wait for it.
        await using var installLock = await AcquireInstallLockAsync(Path.Combine(root, ".azurite-install.lock"), cancellationToken);
        if (IsInstalled(root)) return script;

        log($"Azurite is not installed yet: running 'npm {(File.Exists(Path.Combine(root, "package-lock.json")) ? "ci" : "install")}' in {root} (first run only)...");
        var npm = new ProcessStartInfo("npm") { WorkingDirectory = root, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        npm.ArgumentList.Add(File.Exists(Path.Combine(root, "package-lock.json")) ? "ci" : "install");
        foreach (var a in new[] { "--no-audit", "--no-fund", "--loglevel=error" }) npm.ArgumentList.Add(a);
        using var process = Process.Start(npm) ?? throw new InvalidOperationException("npm could not be started; install Node.js 20+.");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0 || !IsInstalled(root))
            throw new InvalidOperationException($"npm could not install Azurite (exit {process.ExitCode}): {await stderr}");
        log("Azurite installed.");
        return script;
    }

    private static string ScriptIn(string root) => Path.Combine(root, "node_modules", "azurite", "dist", "src", "azurite.js");

    /// <summary>
    /// Whether npm has finished installing Azurite under <paramref name="root"/>: its script is there and so is
    /// npm's own record of the finished install (<c>node_modules/.package-lock.json</c>, written last). The
    /// script alone appears seconds before its dependencies, and a process that started it then (tests start
    /// in parallel while one of them installs) saw node fail with "Cannot find module".
    /// </summary>
    public static bool IsInstalled(string root) =>
        File.Exists(ScriptIn(root)) && File.Exists(Path.Combine(root, "node_modules", ".package-lock.json"));

    private static async Task<FileStream> AcquireInstallLockAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500, cancellationToken);
            }
        }
    }

    /// <summary>The folder of the package.json that pins azurite, above the working or the application directory.</summary>
    public static string? PackageRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var package = Path.Combine(dir.FullName, "package.json");
                if (File.Exists(package) && File.ReadAllText(package).Contains("\"azurite\"", StringComparison.Ordinal)) return dir.FullName;
            }
        }
        return null;
    }

    /// <summary>
    /// Stops Azurite (once; later calls wait for that stop). One with a data folder is asked to close
    /// first, so what it acknowledged in its last seconds is on disk when it is started again on the same folder.
    /// </summary>
    public Task StopAsync()
    {
        lock (_process) return _stopping ??= StopOnceAsync();
    }

    private async Task StopOnceAsync()
    {
        if (_persisted && !OperatingSystem.IsWindows())
        {
            try
            {
                if (!_process.HasExited && SendSignal(_process.Id, CloseSignal) == 0)
                    await Task.WhenAny(_closed.Task, _process.WaitForExitAsync()).WaitAsync(CloseTimeout);
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                // It did not close in time (or is gone): killed below.
            }
        }
        try
        {
            // Killed at once: in memory there is nothing to save; on disk it closed above, or would not.
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            // It was killed; the OS reaps it.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        _folderLock?.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}

/// <summary>The Azurite data folder is held by another local host: a setting to change, not a fault.</summary>
public sealed class AzuriteFolderInUseException(string message) : InvalidOperationException(message);
