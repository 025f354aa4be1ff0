using CrmMetrics.Functions.Hosting;
using Microsoft.Azure.Functions.Worker.Builder;

// A .NET isolated-worker function app: configuration, services, the worker's middleware.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
// Outermost of ours: it tags the answer the others leave, problem documents included (only a 200 is tagged).
builder.UseMiddleware<ContentTagMiddleware>();
builder.UseMiddleware<HttpErrorsMiddleware>();
builder.UseMiddleware<StorageAnswerMiddleware>();
builder.UseMiddleware<ApiKeyMiddleware>();
builder.UseMiddleware<StorageReadyMiddleware>();
builder.Logging.AddCrmMetricsLogging();
try
{
    builder.Services.AddCrmMetrics(builder.Configuration);
}
catch (SettingsException e)
{
    // A bad setting is the operator's to fix: say which, without a stack trace.
    Console.Error.WriteLine("CrmMetrics cannot start because of its settings:");
    foreach (var (field, messages) in e.Errors.ToDictionary()) Console.Error.WriteLine($"  {field}: {string.Join("; ", messages)}");
    return 2;
}
await builder.Build().RunAsync();
return 0;
