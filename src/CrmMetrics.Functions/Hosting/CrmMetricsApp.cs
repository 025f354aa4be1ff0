using CrmMetrics.Functions.Api;
using CrmMetrics.Functions.Invocation;
using CrmMetrics.Storage.Local;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Builds the app: configuration, services, endpoints. <c>Program</c> runs it; tests build it the
/// same way with their own settings and a real Kestrel on a free port.
/// </summary>
public static class CrmMetricsApp
{
    public sealed record Built(WebApplication App, RunMode Mode, AzuriteServer? Azurite) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            if (Azurite is not null) await Azurite.DisposeAsync();
        }
    }

    /// <param name="configureServices">Extra registrations (tests add handlers for test functions).</param>

    public static async Task<Built> BuildAsync(string[] args, IReadOnlyDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configureServices = null)
    {
        // Configuration: local.settings.json Values (locally), environment, command line, then overrides.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(LocalSettingsFile.Load(LocalSettingsFile.Find()));
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(args);
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        var demo = args.Contains("--demo");
        var demoKey = demo ? new Demo.DemoKey("demo-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16))) : null;
        if (demoKey is not null)
        {
            // A session-only admin key, so the demo can call its own API; only its hash is configured.
            builder.Configuration.AddInMemoryCollection([new KeyValuePair<string, string?>("CrmMetrics:Keys:demo-session", "admin:" + Security.ApiKey.HashHex(demoKey.Value))]);
        }
        builder.Logging.AddCrmMetricsLogging();

        var mode = RunModes.Detect(builder.Configuration);
        if (mode == RunMode.FunctionsHost)
        {
            // The host tells the handler where to listen; only the host reaches it there.
            builder.WebHost.UseUrls($"http://127.0.0.1:{builder.Configuration[RunModes.PortVariable]}");
        }
        var azurite = await LocalStorage.EnsureAsync(builder, mode);

        // Services.
        builder.Services.AddCrmMetrics(builder.Configuration, mode);
        builder.Services.AddCrmMetricsHttp();
        if (demoKey is not null)
        {
            // The demo prints its own progress; the app's routine logs would bury it.
            builder.Logging.AddFilter("CrmMetrics", LogLevel.Warning).AddFilter("Function", LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
            builder.Services.AddSingleton(demoKey);
            builder.Services.AddSingleton<Demo.DemoComputation>();
            builder.Services.AddHostedService<Demo.DemoJob>();
            if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
                builder.WebHost.UseUrls("http://127.0.0.1:7071");
        }
        configureServices?.Invoke(builder.Services);

        // Endpoints.
        var app = builder.Build();
        app.UseCrmMetricsErrors();
        app.MapCrmMetricsApi();
        app.MapCrmMetricsOData();
        if (mode == RunMode.FunctionsHost) app.MapInvocationEndpoints(app.Services.GetRequiredService<FunctionDispatcher>().Names);
        return new Built(app, mode, azurite);
    }
}
