using System.Security.Cryptography;
using CrmMetrics.Domain.Periods;
using CrmMetrics.LocalHost;
using CrmMetrics.LocalHost.App;
using Microsoft.Extensions.Logging;

namespace CrmMetrics.Demo;

/// <summary>
/// Runs the demo: the function app under the local host (Azurite started when no storage is
/// configured), a session-only admin key, then the demo's steps; the app keeps serving until Ctrl+C.
/// </summary>
public static class DemoCommand
{
    public const string Usage = """
        Usage: dotnet run --project tools/CrmMetrics.Demo -c Release -- [options]
          --urls URL[;URL]       where the app is served (default http://127.0.0.1:7071, or ASPNETCORE_URLS)
          --setting NAME=VALUE   an app setting for this run, such as --setting CrmMetrics__Calendar=persian
          --help                 this text
        The local host's other options (--app, --queue-lease) are taken as well: see
        dotnet run --project src/CrmMetrics.LocalHost -c Release -- --help
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        // The local host's own parser: one reading of --urls and --setting, and an unknown argument is refused rather than ignored.
        LocalHostOptions parsed;
        try
        {
            parsed = HostCommand.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (parsed is null) { Console.WriteLine(Usage); return 0; }
        // Keys that exist only while this process runs (only their hashes are configured): an admin key for the
        // demo's own calls, and a reader key for the dashboard link it prints, which can read figures and nothing else.
        var key = "demo-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var readerKey = "demo-reader-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var settings = new Dictionary<string, string?>(parsed.Settings, StringComparer.OrdinalIgnoreCase)
        {
            ["CrmMetrics__Keys__demo-session"] = "admin:" + Hash(key),
            ["CrmMetrics__Keys__demo-dashboard"] = "reader:" + Hash(readerKey),
        };
        var options = new LocalHostOptions
        {
            AppDirectory = parsed.AppDirectory,
            Urls = parsed.Urls,
            Settings = settings,
            DefaultSettings = DefaultSettings(parsed.Urls),
            QueueMessageLease = parsed.QueueMessageLease,
            // The demo prints its own progress; the app's routine logs would bury it. A run's lifecycle is one line at
            // each step (planned, skipped, ended with its figures), so a long catch-up or a skipped firing is told.
            MinimumLogLevel = LogLevel.Warning,
            CategoryLogLevels = new Dictionary<string, LogLevel> { ["CrmMetrics.Runs"] = LogLevel.Information },
        };

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });

        Console.WriteLine("Starting CrmMetrics (the isolated worker under the local Functions host) ...");
        LocalFunctionsHost host;
        try
        {
            host = await LocalFunctionsHost.StartAsync(options, ct: stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM while starting (installing or starting Azurite, starting the worker).
            Console.WriteLine("Stopped before the app had started.");
            return 0;
        }
        catch (CrmMetrics.LocalHost.Storage.AzuriteFolderInUseException e)
        {
            Console.Error.WriteLine("The demo cannot start the app: " + e.Message);
            return 2;
        }
        catch (AppFolderException e)
        {
            Console.Error.WriteLine("The demo cannot start the app: " + e.Message);
            return 2;
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            // Most often a demo already running (from another clone: one from the same clone is met at its storage folder).
            Console.Error.WriteLine($"The demo cannot start the app: {e.Message} Another program is listening there (another demo or Functions host?): " +
                                    "stop it, or serve this one elsewhere with --urls http://127.0.0.1:<port>.");
            return 2;
        }
        var demoFailed = false;
        await using (host)
        {
            try
            {
                if (await SettingsRefusedWhileStartingAsync(host, stop.Token) is { } refused)
                {
                    // The worker exits on settings it refuses, and would refuse them again at every restart.
                    Console.Error.WriteLine("The app cannot start: " + refused);
                    return 2;
                }
                var address = host.BaseAddress.ToString().TrimEnd('/');
                Console.WriteLine($"CrmMetrics is listening on {address} (worker process {host.Workers.ProcessId}).");
                var dashboard = $"{address}/dashboard?code={readerKey}";
                Console.WriteLine();
                Console.WriteLine($"Open the executive scorecard: {dashboard}");
                Console.WriteLine("  (its figures appear as the sample data below is loaded and computed; the key in the link is a reader key for this session)");
                var calendar = Calendar(host.Settings);
                demoFailed = !await new DemoJob(address, key, new DemoComputation(calendar, TimeProvider.System), dashboard, readerKey).RunAsync(stop.Token);
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (TimeoutException)
            {
                Console.Error.WriteLine("The app did not get ready within two minutes; its log above says why.");
                return 1;
            }
            Console.WriteLine("Stopping ...");
        }
        return demoFailed ? 1 : 0;
    }

    /// <summary>
    /// Waits up to two minutes for the app to be ready (a <see cref="TimeoutException"/> after that);
    /// returns why the worker refused its settings instead, as soon as it does.
    /// </summary>
    private static async Task<string?> SettingsRefusedWhileStartingAsync(LocalFunctionsHost host, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(2);
        while (!host.Ready.IsCompleted)
        {
            if (host.Workers.LastStartFailure is { } failure && failure.Contains(SettingsRefusal, StringComparison.Ordinal))
                return failure[failure.IndexOf(SettingsRefusal, StringComparison.Ordinal)..].Trim();
            if (DateTimeOffset.UtcNow > deadline) throw new TimeoutException();
            await Task.WhenAny(host.Ready, Task.Delay(TimeSpan.FromMilliseconds(250), ct));
            ct.ThrowIfCancellationRequested();
        }
        await host.Ready;
        return null;
    }

    /// <summary>
    /// What the demo sets unless local.settings.json, the environment or --setting says otherwise: alert links
    /// (the snapshot and the dashboard at the alert's figure) name this session's address, as they name the
    /// app's in Azure; without it they would be relative, and useless in a message read elsewhere.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> DefaultSettings(IReadOnlyList<string> urls) =>
        PublicAddress(urls) is { } address ? new Dictionary<string, string?> { ["CrmMetrics__PublicBaseUrl"] = address } : new Dictionary<string, string?>();

    /// <summary>
    /// The first of the served addresses that names a host a reader can reach (not a wildcard such as
    /// 0.0.0.0, + or *) with a port, as scheme://host:port; null when none does.
    /// </summary>
    public static string? PublicAddress(IReadOnlyList<string> urls) =>
        urls.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri : null)
            .FirstOrDefault(u => u is { Scheme: "http" or "https", Port: > 0 } && u.Host is not ("0.0.0.0" or "[::]" or "+" or "*"))
            ?.GetLeftPart(UriPartial.Authority);

    /// <summary>What the worker prints, and exits with code 2 after, when a setting is wrong (see its Program.cs).</summary>
    private const string SettingsRefusal = "CrmMetrics cannot start because of its settings";

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));

    /// <summary>The reporting calendar the app uses, from the same settings (default Gregorian, UTC).</summary>
    private static PeriodCalendar Calendar(AppSettings settings) =>
        PeriodCalendar.TryCreate(settings["CrmMetrics__Calendar"], settings["CrmMetrics__TimeZone"], out var calendar, out var error)
            ? calendar!
            : throw new InvalidOperationException($"CrmMetrics:Calendar/TimeZone: {error}");
}
