using CrmMetrics.Functions.Hosting;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
if (HostProcessWatch.IsSupported) builder.Services.AddHostedService<HostProcessWatch>();
// URLs as long as the host forwards, as the app's server takes (HttpPipeline); headers, unlike the app's
// server, fewer than the host forwards (24 of 32 KiB), so that a refusal by the worker's own server is tested.
builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o =>
{
    o.Limits.MaxRequestLineSize = 64 * 1024;
    o.Limits.MaxRequestHeadersTotalSize = 24 * 1024;
});
await builder.Build().RunAsync();
