using CrmMetrics.Functions.Api;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Invocation;
using CrmMetrics.Storage.Account;

// Configuration: appsettings, local.settings.json Values (locally), environment, command line.
var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddInMemoryCollection(LocalSettingsFile.Load(LocalSettingsFile.Find()));
builder.Configuration.AddEnvironmentVariables();
builder.Configuration.AddCommandLine(args);
builder.Logging.AddCrmMetricsLogging();
var mode = RunModes.Detect(builder.Configuration);
if (mode == RunMode.FunctionsHost)
{
    // The host tells the handler where to listen; only the host can reach it there.
    builder.WebHost.UseUrls($"http://127.0.0.1:{builder.Configuration[RunModes.PortVariable]}");
}
await using var azurite = await LocalStorage.EnsureAsync(builder, mode);

// Services.
builder.Services.AddCrmMetrics(builder.Configuration, mode);
builder.Services.AddCrmMetricsHttp();

// Endpoints.
var app = builder.Build();
app.UseCrmMetricsErrors();
app.MapCrmMetricsApi();
if (mode == RunMode.FunctionsHost) app.MapInvocationEndpoints(app.Services.GetRequiredService<FunctionDispatcher>().Names);

await app.Services.GetRequiredService<StorageAccount>().InitializeAsync(app.Lifetime.ApplicationStopping);
await app.RunAsync();

/// <summary>Entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
