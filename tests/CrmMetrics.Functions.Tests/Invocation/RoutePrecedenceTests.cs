using System.Text.RegularExpressions;
using CrmMetrics.Functions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Invocation;

/// <summary>
/// The Functions host takes the first HTTP route that matches in the order of function names (ignoring case), not
/// the most specific one (azure-functions-host issue 9876). So wherever two routes of the app can match one request,
/// the function meant for it must come first by name; the local host routes the same way.
/// </summary>
public class RoutePrecedenceTests
{
    /// <summary>A path the route's template gives with its literal segments kept: parameters "x1", optional ones left out.</summary>
    private static string SamplePath(string template)
    {
        var path = Regex.Replace(template, @"\{[^{}]*(\([^)]*\))?[^{}]*\}", m => m.Value.EndsWith("?}", StringComparison.Ordinal) ? "" : "x1");
        return "/" + Regex.Replace(path, "/+", "/").Trim('/');
    }

    private static bool Matches(IServiceProvider services, string template, string method, string path)
    {
        var resolver = services.GetRequiredService<IInlineConstraintResolver>();
        var route = new Route(new RouteHandler(_ => Task.CompletedTask), template, resolver);
        var http = new DefaultHttpContext { RequestServices = services };
        http.Request.Method = method;
        http.Request.Path = path;
        var context = new RouteContext(http);
        route.RouteAsync(context).GetAwaiter().GetResult();
        return context.Handler is not null;
    }

    [Fact]
    public void Where_two_routes_match_one_request_the_function_meant_for_it_comes_first_by_name()
    {
        // Found by a review against the host's source: GoalAttainment (api/goals/attainment) came after Goal
        // (api/goals/{goalId}), so in Azure GET api/goals/attainment answered "There is no goal 'attainment'".
        using var services = new ServiceCollection().AddLogging().AddRouting().BuildServiceProvider();
        var functions = FunctionApp.HttpFunctions();
        var contested = new List<string>();
        foreach (var meant in functions)
        {
            var path = SamplePath(meant.Route);
            Assert.True(Matches(services, meant.Route, "GET", path), $"{meant.Name}: its sample {path} does not match its own route {meant.Route}");
            foreach (var method in meant.Methods)
            {
                var first = functions.Where(f => f.Methods.Contains(method) && Matches(services, f.Route, method, path))
                    .OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase).First();
                if (first.Name != meant.Name) contested.Add($"{method} {path}: meant for {meant.Name} ({meant.Route}), taken by {first.Name} ({first.Route})");
            }
        }
        Assert.Empty(contested);
    }
}
