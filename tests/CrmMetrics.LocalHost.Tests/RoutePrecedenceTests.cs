using CrmMetrics.LocalHost.Triggers.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>
/// Routes are tried as the Functions host tries them: in the order of function names (ignoring case), the first that
/// matches path and method answering, not the most specific template (azure-functions-host issue 9876).
/// </summary>
public sealed class RoutePrecedenceTests
{
    private static async Task<string> AnsweringAsync(IEnumerable<HttpFunctionRoute> routes, string method, string path)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddRouting();
        await using var web = builder.Build();
        var endpoints = new HttpFunctionEndpoints();
        endpoints.Set(routes, route => context => { context.Response.Headers["x-function"] = route.Function; return Task.CompletedTask; });
        web.UseRouting();
        ((IEndpointRouteBuilder)web).DataSources.Add(endpoints);
        await web.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await web.StopAsync();
        return response.Headers.TryGetValues("x-function", out var f) ? f.Single() : $"none: {(int)response.StatusCode}";
    }

    [Fact]
    public async Task The_first_route_by_function_name_answers_even_when_a_later_one_is_more_specific()
    {
        // Found by a review against the host's source: here the literal route won, in Azure the parameter route of the
        // function whose name sorts first, so GET api/goals/attainment worked locally and answered 404 in Azure.
        HttpFunctionRoute Route(string name, string template, params string[] methods) => new(name, template, methods);
        Assert.Equal("Goal", await AnsweringAsync([Route("GoalAttainment", "api/goals/attainment", "GET"), Route("Goal", "api/goals/{goalId}", "GET", "PUT")], "GET", "/api/goals/attainment"));
        Assert.Equal("GoalAttainment", await AnsweringAsync([Route("GoalAttainment", "api/goals/attainment", "GET"), Route("GoalById", "api/goals/{goalId}", "GET", "PUT")], "GET", "/api/goals/attainment"));
        // Names compare ignoring case; a route whose method does not match is passed over for the next.
        Assert.Equal("goal", await AnsweringAsync([Route("GoalAttainment", "api/goals/attainment", "GET"), Route("goal", "api/goals/{goalId}", "GET")], "GET", "/api/goals/attainment"));
        Assert.Equal("GoalAttainment", await AnsweringAsync([Route("GoalAttainment", "api/goals/attainment", "GET"), Route("Goal", "api/goals/{goalId}", "PUT")], "GET", "/api/goals/attainment"));
    }
}
