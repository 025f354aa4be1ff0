using CrmMetrics.Functions.Hosting;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
if (HostProcessWatch.IsSupported) builder.Services.AddHostedService<HostProcessWatch>();
await builder.Build().RunAsync();
