using CrmMetrics.LocalHost.Functions;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Primitives;

namespace CrmMetrics.LocalHost.Triggers.Http;

/// <summary>The route of one HTTP function: its template under the host.json route prefix, and its methods (none: any).</summary>
public sealed record HttpFunctionRoute(string Function, string Template, IReadOnlyList<string> Methods)
{
    public static HttpFunctionRoute From(HostedFunction function, string routePrefix)
    {
        var trigger = function.Trigger;
        var route = (trigger.Get("route") ?? function.Name).Trim('/');
        var template = string.IsNullOrEmpty(routePrefix) ? route : routePrefix + "/" + route;
        var methods = (trigger.GetList("methods") ?? []).Select(m => m.ToUpperInvariant()).Where(m => m.Length > 0).ToList();
        return new HttpFunctionRoute(function.Name, template, methods);
    }
}

/// <summary>
/// The host's routes: one ASP.NET Core endpoint per HTTP function, so templates, constraints and
/// catch-all parameters behave as in the Functions host (which routes with ASP.NET Core too). Set once
/// the worker has said which functions it has.
/// </summary>
/// <remarks>
/// Precedence is the Functions host's, not ASP.NET Core's: it maps its functions' routes in the order of their
/// names (ignoring case) and takes the first that matches the path and method, so a literal segment does not
/// win over a parameter by itself (azure-functions-host issue 9876: <c>api/goals/{goalId}</c> of a function
/// named <c>Goal</c> takes <c>GET api/goals/attainment</c> from <c>GoalAttainment</c>). Each endpoint's order is
/// its function's place in that order, which endpoint routing ranks before a template's precedence. Found by a
/// review against the host's source: locally the literal route won, and in Azure the goals panel broke.
/// </remarks>
public sealed class HttpFunctionEndpoints : EndpointDataSource
{
    private readonly Lock _lock = new();
    private IReadOnlyList<Endpoint> _endpoints = [];
    private CancellationTokenSource _changed = new();

    public IReadOnlyList<HttpFunctionRoute> Routes { get; private set; } = [];

    /// <summary>Whether the routes are known (the worker has declared its functions).</summary>
    public bool IsSet { get; private set; }

    public override IReadOnlyList<Endpoint> Endpoints => _endpoints;

    public override IChangeToken GetChangeToken() => new CancellationChangeToken(_changed.Token);

    public void Set(IEnumerable<HttpFunctionRoute> routes, Func<HttpFunctionRoute, RequestDelegate> handler)
    {
        var list = routes.ToList();
        var endpoints = list.OrderBy(route => route.Function, StringComparer.OrdinalIgnoreCase).Select((route, rank) =>
        {
            var builder = new RouteEndpointBuilder(handler(route), RoutePatternFactory.Parse(route.Template), order: rank) { DisplayName = route.Function };
            if (route.Methods.Count > 0) builder.Metadata.Add(new HttpMethodMetadata(route.Methods));
            builder.Metadata.Add(route);
            return (Endpoint)builder.Build();
        }).ToList();
        CancellationTokenSource previous;
        lock (_lock)
        {
            Routes = list;
            _endpoints = endpoints;
            IsSet = true;
            previous = _changed;
            _changed = new CancellationTokenSource();
        }
        previous.Cancel();
    }
}
