using System.Reflection;
using CrmMetrics.LocalHost.App;

namespace CrmMetrics.LocalHost;

/// <summary>
/// <c>dotnet run --project src/CrmMetrics.LocalHost -- [--urls URL[;URL]] [--app FOLDER] [--setting NAME=VALUE]…</c>:
/// serves a function app until Ctrl+C or SIGTERM, then stops gracefully.
/// </summary>
public static class HostCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        LocalHostOptions options;
        try
        {
            options = Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (options is null) { Console.WriteLine(Usage); return 0; }

        using var stop = new CancellationTokenSource();
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        LocalFunctionsHost host;
        try
        {
            host = await LocalFunctionsHost.StartAsync(options, ct: stop.Token);
        }
        catch (CrmMetrics.LocalHost.Storage.AzuriteFolderInUseException e)
        {
            Console.Error.WriteLine("The local host cannot start: " + e.Message);
            return 2;
        }
        catch (AppFolderException e)
        {
            Console.Error.WriteLine("The local host cannot run this app: " + e.Message);
            return 2;
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            // Found by probing: this crashed with ~30 lines of stack trace and exit code 134. Most often another
            // host or the demo is already serving there; e.Message names the address.
            Console.Error.WriteLine($"The local host cannot start: {e.Message} Another program is listening there (another local host or demo?): " +
                                    "stop it, or serve this one elsewhere with --urls http://127.0.0.1:<port>.");
            return 2;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        await using (host)
        {
            try { await Task.Delay(Timeout.Infinite, stop.Token); } catch (OperationCanceledException) { }
            Console.WriteLine("Stopping: running invocations get the grace period, then the worker is terminated.");
        }
        return 0;
    }

    public const string Usage = """
        Usage: dotnet run --project src/CrmMetrics.LocalHost -c Release -- [options]
          --urls URL[;URL]       where the app's HTTP functions are served (default http://127.0.0.1:7071)
          --app FOLDER           a built or published .NET isolated-worker function app
                                 (default: this repository's function app, built with the host)
          --setting NAME=VALUE   an app setting that wins over local.settings.json and the environment
          --queue-lease SPAN     how long a received queue message stays hidden while it runs
                                 (default 00:10:00, at most 7.00:00:00)
          --help                 this text
        Storage: AzureWebJobsStorage (a connection string, or __accountName with managed identity);
        when it is not set, Azurite is started with its data in .azurite/.
        """;

    private static readonly TimeSpan MinQueueLease = TimeSpan.FromSeconds(5);

    /// <summary>The longest visibility timeout Azure Storage (and Azurite) takes on a receive or an update.</summary>
    private static readonly TimeSpan MaxQueueLease = TimeSpan.FromDays(7);

    /// <summary>The options the arguments ask for; null for --help.</summary>
    public static LocalHostOptions Parse(string[] args)
    {
        var urls = new List<string>();
        string? app = null;
        TimeSpan? lease = null;
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            var arg = args[i];
            // --name=value for every option, --setting=NAME=VALUE included (found by probing: only --setting refused it).
            var (name, inline) = arg.Contains('=') && arg.StartsWith("--", StringComparison.Ordinal)
                ? (arg[..arg.IndexOf('=')], arg[(arg.IndexOf('=') + 1)..])
                : (arg, null);
            switch (name)
            {
                case "--help" or "-h":
                    return null!;
                case "--urls":
                    urls.AddRange((inline ?? Value()).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--app":
                    app = inline ?? Value();
                    break;
                case "--queue-lease":
                    var text = inline ?? Value();
                    // Storage hides a received message for 7 days at most: a longer lease made every receive fail, for good.
                    // Hours and minutes at least: a bare number reads as days (found by probing: "--queue-lease 5" hid messages for 5 days).
                    if (!text.Contains(':') || !TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var parsed) || parsed < MinQueueLease || parsed > MaxQueueLease)
                        throw new ArgumentException($"--queue-lease: '{text}' is not a time span [d.]hh:mm[:ss] from 00:00:05 to 7.00:00:00 (Azure Storage hides a received message for 7 days at most).");
                    lease = parsed;
                    break;
                case "--setting":
                    var pair = inline ?? Value();
                    var eq = pair.IndexOf('=');
                    if (eq <= 0) throw new ArgumentException($"--setting {pair}: write NAME=VALUE.");
                    settings[pair[..eq]] = pair[(eq + 1)..];
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{arg}'.");
            }
        }
        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"--urls: '{url}' is not an http(s) URL.");
        }
        var environmentUrls = Environment.GetEnvironmentVariable("ASPNETCORE_URLS");
        return new LocalHostOptions
        {
            AppDirectory = app ?? DefaultApp() ?? throw new ArgumentException("--app is needed: no default function app is known to this build."),
            Urls = urls.Count > 0 ? urls : environmentUrls is { Length: > 0 } ? environmentUrls.Split(';', StringSplitOptions.RemoveEmptyEntries) : ["http://127.0.0.1:7071"],
            Settings = settings,
            QueueMessageLease = lease ?? TimeSpan.FromMinutes(10),
        };
    }

    /// <summary>The folder this host was built to (to start it as a process of its own).</summary>
    public static string? HostDirectory() =>
        typeof(HostCommand).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "HostDirectory")?.Value;

    /// <summary>The function app this build of the host was built with (this repository's app).</summary>
    public static string? DefaultApp() =>
        typeof(HostCommand).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "DefaultFunctionApp")?.Value;
}
