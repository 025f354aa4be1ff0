using CrmMetrics.LocalHost.App;
using CrmMetrics.LocalHost.Bindings;
using CrmMetrics.LocalHost.Functions;
using CrmMetrics.LocalHost.Rpc;
using CrmMetrics.LocalHost.Storage;
using CrmMetrics.LocalHost.Triggers;
using CrmMetrics.LocalHost.Triggers.Http;
using CrmMetrics.LocalHost.Triggers.Queues;
using CrmMetrics.LocalHost.Triggers.Timers;
using CrmMetrics.LocalHost.Workers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CrmMetrics.LocalHost;

/// <summary>
/// A local Functions host for a .NET isolated-worker app: storage (Azurite when none is configured),
/// the gRPC endpoint its worker connects to, the worker (restarted when it dies), the app's HTTP
/// functions on <see cref="LocalHostOptions.Urls"/>, and its queue and timer triggers. Start it with
/// <see cref="StartAsync"/>, stop it with <see cref="DisposeAsync"/>.
/// </summary>
public sealed class LocalFunctionsHost : IAsyncDisposable
{
    /// <summary>
    /// The longest URL (path and query, as sent) the host forwards: what the Functions host in Azure takes, whose
    /// Kestrel keeps its default 8 KiB request line (method, URL and version; found by a review against its source:
    /// this host took 32 KiB, so long OData filters worked here and were a 414 in Azure). A longer one is a 414 problem.
    /// </summary>
    public const int MaxUrlBytes = 8 * 1024 - 32;

    /// <summary>Kestrel's own limit on the request line, above <see cref="MaxUrlBytes"/> so that the host answers the lines between.</summary>
    private const int KestrelRequestLineBytes = 256 * 1024;

    /// <summary>The most header bytes the host forwards (Kestrel's default); the worker's server takes twice as many, room for the forwarding headers.</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    /// <summary>Kestrel's own limit on the headers, above <see cref="MaxHeaderBytes"/> so that the host answers the sizes between.</summary>
    private const int KestrelHeaderBytes = 128 * 1024;

    /// <summary>The headers' size as Kestrel counts it: names and values with their separators.</summary>
    private static int HeaderBytes(IHeaderDictionary headers)
    {
        var bytes = 0;
        foreach (var (name, values) in headers)
        {
            foreach (var value in values) bytes += name.Length + (value?.Length ?? 0) + 4;
        }
        return bytes;
    }

    private readonly WebApplication _rpc;
    private readonly WebApplication _web;
    private readonly WorkerSupervisor _workers;
    private AzuriteServer? _azurite;
    private readonly SemaphoreSlim _azuriteGate = new(1, 1);
    private readonly string? _azuriteFolder;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task<IReadOnlyList<Task>> _startTriggers;
    private int _disposed;

    private LocalFunctionsHost(WebApplication rpc, WebApplication web, WorkerSupervisor workers, AzuriteServer? azurite, string? azuriteFolder, FunctionAppFolder app, AppSettings settings,
        Uri baseAddress, ILogger logger, Func<IReadOnlyList<HostedFunction>, CancellationToken, IReadOnlyList<Task>> startTriggers)
    {
        _azuriteFolder = azuriteFolder;
        _rpc = rpc;
        _web = web;
        _workers = workers;
        _azurite = azurite;
        App = app;
        Settings = settings;
        BaseAddress = baseAddress;
        _logger = logger;
        _startTriggers = Task.Run(async () =>
        {
            var functions = await workers.FirstLoad.WaitAsync(_stopping.Token);
            return startTriggers(functions, _stopping.Token);
        });
        if (azurite is not null) _ = Task.Run(() => WatchAzuriteAsync(_stopping.Token));
    }

    /// <summary>
    /// The Azurite this host started must not die unnoticed: the app would answer 503 for good. One
    /// that keeps its data in a folder is started again on the same ports (what it had saved is
    /// there); one in memory lost its data with it, which a restart cannot give back, so that is said.
    /// </summary>
    private async Task WatchAzuriteAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var current = _azurite!;
            (int Code, string Output) exit;
            try { exit = await current.ExitedUnasked.WaitAsync(stopping); }
            catch (OperationCanceledException) { return; }
            if (!current.Persisted)
            {
                _logger.LogError("Azurite (process {Pid}) exited with code {Code} ({Output}); its data was in memory and is gone: stop this host and start it again", current.ProcessId, exit.Code, exit.Output);
                return;
            }
            _logger.LogError("Azurite (process {Pid}) exited with code {Code} ({Output}); starting it again on the same ports with the data in {Folder}",
                current.ProcessId, exit.Code, exit.Output, _azuriteFolder);
            for (var delay = TimeSpan.FromSeconds(1); !stopping.IsCancellationRequested; delay = TimeSpan.FromSeconds(Math.Min(30, delay.TotalSeconds * 2)))
            {
                await _azuriteGate.WaitAsync(CancellationToken.None);
                try
                {
                    if (stopping.IsCancellationRequested) return;
                    await current.DisposeAsync();
                    _azurite = await AzuriteServer.StartAsync(_azuriteFolder, cancellationToken: stopping, ports: (current.BlobPort, current.QueuePort, current.TablePort));
                    _logger.LogInformation("Azurite is listening again (process {Pid})", _azurite.ProcessId);
                    break;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogError("Azurite did not start again ({Error}); trying again in {Delay} s", e.Message, delay.TotalSeconds);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                finally
                {
                    _azuriteGate.Release();
                }
                try { await Task.Delay(delay, stopping); } catch (OperationCanceledException) { return; }
            }
        }
    }

    public FunctionAppFolder App { get; }
    public AppSettings Settings { get; }

    /// <summary>The first address the app's HTTP functions are served on.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The storage connection string, when this host started Azurite itself.</summary>
    public string? AzuriteConnectionString => _azurite?.ConnectionString;

    /// <summary>The node process of the Azurite this host started, while it runs.</summary>
    public int? AzuriteProcessId => _azurite?.ProcessId;

    public WorkerSupervisor Workers => _workers;

    /// <summary>Completes when the worker has loaded the functions and the triggers are running.</summary>
    public Task Ready => _startTriggers;

    public static async Task<LocalFunctionsHost> StartAsync(LocalHostOptions options, ILoggerProvider? logs = null, CancellationToken ct = default)
    {
        var app = FunctionAppFolder.Open(options.AppDirectory);
        var settings = AppSettings.Load(app, options.Settings, options.LocalSettingsPath, options.DefaultSettings);
        using var bootLoggers = CreateLoggers(logs, options.MinimumLogLevel);
        var boot = bootLoggers.CreateLogger("Host");
        boot.LogInformation("Function app {App} ({Folder}); settings from {Settings}", app.Name, app.Path, settings.LocalSettingsPath ?? "the environment");

        // Storage: the configured account, or an Azurite of our own.
        AzuriteServer? azurite = null;
        var connections = new StorageConnections(settings);
        if (!connections.IsConfigured())
        {
            boot.LogInformation("No AzureWebJobsStorage is configured: starting Azurite ({Where})", options.AzuriteDataFolder is null ? "in memory" : "data in " + options.AzuriteDataFolder);
            azurite = await AzuriteServer.StartAsync(options.AzuriteDataFolder, line => boot.LogInformation("{Line}", line), ct);
            settings[StorageConnections.Default] = azurite.ConnectionString;
            boot.LogInformation("Azurite is listening (blob {Blob}, queue {Queue}, table {Table})", azurite.BlobPort, azurite.QueuePort, azurite.TablePort);
        }

        WebApplication? rpc = null;
        try
        {
            // The gRPC endpoint the worker connects to: HTTP/2 without TLS, loopback only, a free port.
            var rpcBuilder = WebApplication.CreateSlimBuilder();
            rpcBuilder.Logging.ClearProviders();
            if (logs is not null) rpcBuilder.Logging.AddProvider(new NonDisposingProvider(logs));
            ConfigureLogging(rpcBuilder.Logging, logs is null, options.MinimumLogLevel, options.CategoryLogLevels);
            rpcBuilder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
            rpcBuilder.Services.AddGrpc(o =>
            {
                o.MaxReceiveMessageSize = null;
                o.MaxSendMessageSize = null;
            });
            var registry = new WorkerChannelRegistry();
            rpcBuilder.Services.AddSingleton(registry);
            rpc = rpcBuilder.Build();
            rpc.MapGrpcService<FunctionRpcService>();
            await rpc.StartAsync(ct);
            var rpcAddress = new Uri(rpc.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("[::]", "127.0.0.1") + "/");

            // The public side: the app's HTTP functions.
            var webBuilder = WebApplication.CreateSlimBuilder();
            webBuilder.Logging.ClearProviders();
            if (logs is not null) webBuilder.Logging.AddProvider(new NonDisposingProvider(logs));
            ConfigureLogging(webBuilder.Logging, logs is null, options.MinimumLogLevel, options.CategoryLogLevels);
            webBuilder.WebHost.UseUrls([.. options.Urls]);
            webBuilder.WebHost.ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                // Past Kestrel's limits a request gets an empty 414 or 431; up to them it gets a problem (below).
                k.Limits.MaxRequestLineSize = KestrelRequestLineBytes;
                k.Limits.MaxRequestHeadersTotalSize = KestrelHeaderBytes;
            });
            webBuilder.Services.AddRouting();
            webBuilder.Services.AddHttpClient(HttpTriggerProxy.ClientName)
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    UseCookies = false,
                    UseProxy = false,
                    AutomaticDecompression = System.Net.DecompressionMethods.None,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                    MaxConnectionsPerServer = 1024,
                    // Kestrel read the caller's header values as UTF-8; they go on to the worker's Kestrel
                    // the same way (the default, ASCII only, refuses them and the request never arrives).
                    RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8,
                    ResponseHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8,
                })
                .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan);
            webBuilder.Services.AddSingleton(options);
            webBuilder.Services.AddSingleton(app);
            webBuilder.Services.AddSingleton(app.Host);
            webBuilder.Services.AddSingleton(settings);
            webBuilder.Services.AddSingleton(connections);
            webBuilder.Services.AddSingleton(options.Clock);
            webBuilder.Services.AddSingleton<QueueWakeups>();
            webBuilder.Services.AddSingleton<QueueOutputWriter>();
            webBuilder.Services.AddSingleton<FunctionInvoker>();
            webBuilder.Services.AddSingleton<HttpTriggerProxy>();
            webBuilder.Services.AddSingleton<HttpFunctionEndpoints>();
            webBuilder.Services.AddSingleton(sp => new WorkerSupervisor(app, settings, registry, () => rpcAddress, sp.GetRequiredService<ILoggerFactory>(), options));
            var web = webBuilder.Build();
            var endpoints = web.Services.GetRequiredService<HttpFunctionEndpoints>();
            var workers = web.Services.GetRequiredService<WorkerSupervisor>();
            web.UseStatusCodePages(async status =>
            {
                // Routing answers a known route with the wrong method by a bare 405 (and an Allow header).
                if (status.HttpContext.Response.StatusCode == 405)
                    await HostProblems.WriteAsync(status.HttpContext, 405, "Method Not Allowed", $"{status.HttpContext.Request.Method} is not allowed on {status.HttpContext.Request.Path}.");
            });
            web.Use(async (context, next) =>
            {
                // BI tools fold filters into the URL: a long one is refused saying how long it may be, not by an empty 414.
                var target = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? "";
                if (target.Length > MaxUrlBytes)
                    await HostProblems.WriteAsync(context, 414, "URI Too Long", $"The request's URL is {target.Length} bytes; at most {MaxUrlBytes} are accepted. Ask for less in one request (fewer filter terms).");
                else if (HeaderBytes(context.Request.Headers) is var headerBytes && headerBytes > MaxHeaderBytes)
                    await HostProblems.WriteAsync(context, 431, "Request Header Fields Too Large", $"The request's headers are {headerBytes} bytes; at most {MaxHeaderBytes} are accepted.");
                else await next();
            });
            web.UseRouting();
            web.Use(async (context, next) =>
            {
                // Only the app's functions are served here; what matches none is answered by the host.
                if (context.GetEndpoint() is not null) { await next(); return; }
                if (!endpoints.IsSet && workers.LastStartFailure is { } failure)
                    await HostProblems.WriteAsync(context, 503, "Service Unavailable",
                        $"The function app is not running: {(failure.Length > 2000 ? failure[..2000] + "…" : failure)}{Environment.NewLine}The host starts it again with back-off; fix what this names.", 30);
                else if (!endpoints.IsSet)
                    await HostProblems.WriteAsync(context, 503, "Service Unavailable", "The function app is starting: its worker has not loaded its functions yet. Retry shortly.", 5);
                else
                    await HostProblems.WriteAsync(context, 404, "Not Found", $"There is no route {context.Request.Path}: no HTTP function of this app matches it.");
            });
            web.MapAdminEndpoints(workers, web.Services.GetRequiredService<FunctionInvoker>(), web.Services.GetRequiredService<QueueOutputWriter>());
            ((IEndpointRouteBuilder)web).DataSources.Add(endpoints);
            await web.StartAsync(ct);
            var addresses = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
            var baseAddress = new Uri(addresses.First().Replace("[::]", "127.0.0.1").Replace("0.0.0.0", "127.0.0.1"));

            var loggers = web.Services.GetRequiredService<ILoggerFactory>();
            var logger = loggers.CreateLogger("Host");
            var host = new LocalFunctionsHost(rpc, web, workers, azurite, options.AzuriteDataFolder, app, settings, baseAddress, logger,
                (functions, stopping) => StartTriggers(web.Services, functions, endpoints, addresses, stopping));
            workers.Start();
            logger.LogInformation("Listening on {Addresses}; starting the worker", string.Join(", ", addresses));
            return host;
        }
        catch
        {
            if (rpc is not null) await rpc.DisposeAsync();
            if (azurite is not null) await azurite.DisposeAsync();
            throw;
        }
    }

    private static IReadOnlyList<Task> StartTriggers(IServiceProvider services, IReadOnlyList<HostedFunction> functions, HttpFunctionEndpoints endpoints,
        IReadOnlyList<string> addresses, CancellationToken stopping)
    {
        var host = services.GetRequiredService<HostJson>();
        var settings = services.GetRequiredService<AppSettings>();
        var app = services.GetRequiredService<FunctionAppFolder>();
        var loggers = services.GetRequiredService<ILoggerFactory>();
        var logger = loggers.CreateLogger("Host");
        var triggers = new List<Func<Task>>();
        var lines = new List<string>();

        var http = functions.Where(f => f.Trigger.Type.Equals("httpTrigger", StringComparison.OrdinalIgnoreCase)).Select(f => HttpFunctionRoute.From(f, host.RoutePrefix)).ToList();
        var proxy = services.GetRequiredService<HttpTriggerProxy>();
        endpoints.Set(http, route => context => proxy.HandleAsync(context, route));
        var address = addresses.First().TrimEnd('/');
        lines.AddRange(http.Select(r => $"{r.Function}: [{(r.Methods.Count == 0 ? "ANY" : string.Join(",", r.Methods))}] {address}/{r.Template}"));

        foreach (var function in functions)
        {
            var trigger = function.Trigger;
            var log = loggers.CreateLogger("Function." + function.Name);
            try
            {
                switch (trigger.Type.ToLowerInvariant())
                {
                    case "httptrigger":
                        break;
                    case "queuetrigger":
                    {
                        var raw = trigger.Get("queueName") ?? throw new FormatException("its queueTrigger names no queueName");
                        if (!settings.TryResolve(raw, out var queueName, out var missing)) throw new FormatException($"its queue name {raw} names the setting {missing}, which is not set");
                        queueName = queueName.ToLowerInvariant();
                        var connection = services.GetRequiredService<StorageConnections>().Get(trigger.Get("connection"));
                        // As Azure's queue extension: no poison queue for a poison queue, nor where its name would be too long.
                        var poisonName = queueName + "-poison";
                        var poison = queueName.EndsWith("-poison", StringComparison.Ordinal) || poisonName.Length > 63 ? null : connection.Queues.GetQueueClient(poisonName);
                        var listener = new QueueTriggerListener(function.Name, connection.Queues.GetQueueClient(queueName), poison,
                            host.Queues, services.GetRequiredService<LocalHostOptions>(), services.GetRequiredService<FunctionInvoker>(), services.GetRequiredService<QueueOutputWriter>(),
                            services.GetRequiredService<QueueWakeups>(), log);
                        triggers.Add(() => listener.RunAsync(stopping));
                        lines.Add($"{function.Name}: queueTrigger ({queueName})");
                        break;
                    }
                    case "timertrigger":
                    {
                        var raw = trigger.Get("schedule") ?? throw new FormatException("its timerTrigger has no schedule");
                        if (!settings.TryResolve(raw, out var text, out var missing))
                            throw new FormatException($"its schedule {raw} names the setting {missing}, which is not set (a 6-field NCRONTAB expression turns the timer on)");
                        var schedule = TimerSchedule.Parse(text, raw, settings["WEBSITE_TIME_ZONE"]);
                        var connection = services.GetRequiredService<StorageConnections>().Get(null);
                        var scheduler = new TimerTriggerScheduler(function.Name, schedule, trigger.GetBool("runOnStartup") ?? false, trigger.GetBool("useMonitor") ?? true,
                            connection.Blobs.GetBlobContainerClient("azure-webjobs-hosts"), HostId(settings, app), services.GetRequiredService<FunctionInvoker>(),
                            services.GetRequiredService<QueueOutputWriter>(), services.GetRequiredService<TimeProvider>(), log);
                        triggers.Add(() => scheduler.RunAsync(stopping));
                        lines.Add($"{function.Name}: timerTrigger ({text})");
                        break;
                    }
                    default:
                        lines.Add($"{function.Name}: {trigger.Type} (not supported by the local host: not run)");
                        break;
                }
            }
            catch (FormatException e)
            {
                // As the Functions host does: the function is in error, the others run.
                logger.LogWarning("Function {Function} does not run: {Reason}", function.Name, e.Message);
                lines.Add($"{function.Name}: not running ({e.Message})");
            }
        }
        logger.LogInformation("Functions:");
        foreach (var line in lines) logger.LogInformation("    {Function}", line);
        return triggers.Select(start => Guard(start(), logger)).ToList();
    }

    private static async Task Guard(Task trigger, ILogger logger)
    {
        try { await trigger; }
        catch (OperationCanceledException) { }
        catch (Exception e) { logger.LogCritical(e, "A trigger stopped"); }
    }

    /// <summary>The host id that names the app's locks: <c>AzureFunctionsWebHost__hostid</c>, else derived from the app's name.</summary>
    private static string HostId(AppSettings settings, FunctionAppFolder app)
    {
        if (settings["AzureFunctionsWebHost__hostid"] is { Length: > 0 } configured) return configured;
        var id = new string(app.Name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        return id.Length > 32 ? id[..32] : id;
    }

    internal static void ConfigureLogging(ILoggingBuilder logging, bool console, LogLevel minimum, IReadOnlyDictionary<string, LogLevel>? categories = null)
    {
        if (console)
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }
        logging.SetMinimumLevel(minimum);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        // A server that fails to start (its address in use) throws what Hosting logs here, stack trace and all:
        // the caller says it in one line. Hosting's other errors are about background services, which the host has none of.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        logging.AddFilter("System.Net.Http", LogLevel.Warning);
        logging.AddFilter("Grpc", LogLevel.Warning);
        logging.AddFilter("Azure", LogLevel.Warning);
        // The worker's plumbing (its system logs) only when something is wrong.
        logging.AddFilter("Worker.Microsoft", LogLevel.Warning);
        foreach (var (category, level) in categories ?? new Dictionary<string, LogLevel>()) logging.AddFilter(category, level);
    }

    private static ILoggerFactory CreateLoggers(ILoggerProvider? provider, LogLevel minimum) => LoggerFactory.Create(b =>
    {
        if (provider is not null) b.AddProvider(new NonDisposingProvider(provider));
        ConfigureLogging(b, provider is null, minimum);
    });

    /// <summary>
    /// Stops gracefully: triggers stop taking work and give running invocations the grace period,
    /// the worker gets <c>WorkerTerminate</c>, then the servers and Azurite stop.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        // Stop taking work (new requests, new messages, new occurrences); what runs gets the grace period.
        _workers.HostStopping();
        await _stopping.CancelAsync();
        _logger.LogInformation("Stopping: no new work is taken; what is running has {Grace} s to finish", _workers.GracePeriod.TotalSeconds);
        var triggers = Task.Run(async () =>
        {
            try { await Task.WhenAll(await _startTriggers); } catch (OperationCanceledException) { }
        });
        using (var grace = new CancellationTokenSource(_workers.GracePeriod)) await _web.StopAsync(grace.Token);
        await triggers;
        await _workers.StopAsync();
        await _web.DisposeAsync();
        await _rpc.StopAsync();
        await _rpc.DisposeAsync();
        await _azuriteGate.WaitAsync();
        try
        {
            if (_azurite is not null) await _azurite.DisposeAsync();
        }
        finally
        {
            _azuriteGate.Release();
        }
        _stopping.Dispose();
        _logger.LogInformation("Host stopped");
    }

    /// <summary>Lets several logger factories share one provider the caller owns.</summary>
    private sealed class NonDisposingProvider(ILoggerProvider inner) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => inner.CreateLogger(categoryName);
        public void Dispose() { }
    }
}
