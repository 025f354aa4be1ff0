using CrmMetrics.Functions.Hosting;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
if (HostProcessWatch.IsSupported) builder.Services.AddHostedService<HostProcessWatch>();
// As the app's server does (HttpPipeline): URLs as long as the host forwards.
builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestLineSize = 64 * 1024);
await builder.Build().RunAsync();
