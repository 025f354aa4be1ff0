using CrmMetrics.Functions.Invocation;
using CrmMetrics.Functions.LocalRuntime;
using CrmMetrics.Functions.Tests.Support;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Invocation;

/// <summary>The function.json files and the app agree: every function works, every route is a function.</summary>
public class FunctionLayoutTests(AppFixture app) : IClassFixture<AppFixture>
{
    private FunctionCatalog Catalog => FunctionCatalog.Load(AppContext.BaseDirectory);

    private static string Normalise(string route) =>
        System.Text.RegularExpressions.Regex.Replace(route.Trim('/'), @"\{[^}]+\}", "{}");

    [Fact]
    public void Every_http_function_is_a_route_the_app_serves_and_every_api_route_is_a_function()
    {
        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.TrimStart('/').StartsWith("api/", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => $"{m.ToUpperInvariant()} {Normalise(e.RoutePattern.RawText!)}"))
            .ToHashSet();
        var functions = Catalog.Functions.Where(f => f.Trigger.Type == "httpTrigger" && f.Trigger.Get("route")!.StartsWith("api/", StringComparison.Ordinal))
            .SelectMany(f => f.Trigger.Raw["methods"]!.AsArray().Select(m => $"{m!.GetValue<string>().ToUpperInvariant()} {Normalise(f.Trigger.Get("route")!)}"))
            .ToHashSet();
        Assert.Empty(functions.Except(routes));
        Assert.Empty(routes.Except(functions));
        // The OData service is one catch-all function.
        Assert.Contains(Catalog.Functions, f => f.Trigger.Get("route") == "odata/{*path}");
    }

    [Fact]
    public void Every_other_function_has_a_handler_and_every_handler_a_function_folder()
    {
        var dispatcher = app.Services.GetRequiredService<FunctionDispatcher>();
        var nonHttp = Catalog.Functions.Where(f => f.Trigger.Type != "httpTrigger").Select(f => f.Name).ToHashSet();
        Assert.Equal(nonHttp.Order(), dispatcher.Names.Order());
        Assert.Equal("", Catalog.Host.RoutePrefix);
        Assert.True(Catalog.Host.ForwardsHttp);
        Assert.Equal(5, Catalog.Host.MaxDequeueCount);
    }

    [Fact]
    public void Handlers_read_the_binding_names_their_function_json_declares()
    {
        foreach (var function in Catalog.Functions.Where(f => f.Trigger.Type == "queueTrigger"))
            Assert.Equal("message", function.Trigger.Name);
        foreach (var output in Catalog.Functions.SelectMany(f => f.Outputs))
            Assert.Contains(output.Name, new[] { "days", "periods", "alerts", "done" });
    }
}
