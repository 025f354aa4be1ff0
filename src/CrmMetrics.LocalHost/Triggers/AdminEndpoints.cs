using System.Text.Json;
using CrmMetrics.LocalHost.Bindings;
using CrmMetrics.LocalHost.Functions;
using CrmMetrics.LocalHost.Rpc;
using CrmMetrics.LocalHost.Rpc.Messages;
using CrmMetrics.LocalHost.Triggers.Http;
using CrmMetrics.LocalHost.Workers;

namespace CrmMetrics.LocalHost.Triggers;

/// <summary>
/// The Functions host's admin routes that matter locally: <c>GET /admin/host/status</c>, and
/// <c>POST /admin/functions/{name}</c> with <c>{ "input": "…" }</c> to run a timer or queue function
/// now, as Core Tools allows without a key on a developer's machine. Here the call answers when
/// the invocation has finished (202, or a problem saying why it failed), so a script can wait for it.
/// These routes have no key, so they answer only requests from this machine (loopback), as Core
/// Tools' keyless admin routes are meant for a developer's machine; from elsewhere they are a 403.
/// A web page open on the same machine is no tool of the developer's: a request a browser sends for
/// one (it carries <c>Origin</c> or <c>Sec-Fetch-Site</c>), one addressed to another host name (a
/// name rebound to 127.0.0.1 by a page's DNS), and a body that is not declared JSON (a form or a
/// text/plain post, which a browser sends without asking) are refused too (found by probing: any
/// page could ingest events or start runs through <c>POST /admin/functions/IngestQueuedEvents</c>).
/// </summary>
public static class AdminEndpoints
{
    public static void MapAdminEndpoints(this IEndpointRouteBuilder routes, WorkerSupervisor workers, FunctionInvoker invoker, QueueOutputWriter outputs)
    {
        var admin = routes.MapGroup("/admin").AddEndpointFilter(async (context, next) =>
            Refusal(context.HttpContext.Request) is { } refused ? refused : await next(context));
        admin.MapGet("/host/status", () => Results.Json(new
        {
            state = workers.Current is null ? "Starting" : "Running",
            version = WorkerSupervisor.HostVersion,
            workerProcessId = workers.ProcessId,
            workerStarts = workers.Starts,
            functions = workers.Current?.Functions.Keys.Order(StringComparer.Ordinal).ToArray() ?? [],
        }));

        admin.MapPost("/functions/{name}", async (HttpContext context, string name) =>
        {
            var ct = context.RequestAborted;
            string? input = null;
            if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            {
                try
                {
                    using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: ct);
                    if (body.RootElement.ValueKind != JsonValueKind.Object || (body.RootElement.TryGetProperty("input", out var i) && i.ValueKind != JsonValueKind.String))
                        return Problem(400, "Bad Request", "The body must be { \"input\": \"<text>\" }.");
                    input = body.RootElement.TryGetProperty("input", out var text) ? text.GetString() : null;
                }
                catch (JsonException e)
                {
                    return Problem(400, "Bad Request", "The body is not JSON: " + e.Message);
                }
            }
            ReadyWorker worker;
            try
            {
                worker = await invoker.WorkerAsync(ct);
            }
            catch (WorkerUnavailableException e)
            {
                return Problem(503, "Service Unavailable", e.Message);
            }
            if (!worker.Functions.TryGetValue(name, out var function)) return Problem(404, "Not Found", $"There is no function {name}.");
            var trigger = function.Trigger.Type.ToLowerInvariant() switch
            {
                "timertrigger" => TypedDataText.Json(new { Schedule = new { AdjustForDST = true }, ScheduleStatus = (object?)null, IsPastDue = false }),
                "queuetrigger" => TypedDataText.String(input ?? ""),
                _ => null,
            };
            if (trigger is null) return Problem(400, "Bad Request", $"{name} has a {function.Trigger.Type}; only timer and queue functions run through this route.");
            var metadata = new Dictionary<string, TypedData>();
            if (function.Trigger.Type.Equals("queueTrigger", StringComparison.OrdinalIgnoreCase))
            {
                metadata["DequeueCount"] = TypedDataText.Json(1);
                metadata["Id"] = TypedDataText.String(Guid.NewGuid().ToString());
                metadata["QueueTrigger"] = trigger;
            }
            try
            {
                var result = await invoker.InvokeAsync(name, new ParameterBinding { Name = function.Trigger.Name, Data = trigger }, metadata, ct, worker);
                await outputs.WriteAsync(function, result, ct);
            }
            catch (FunctionFailedException e)
            {
                return Problem(500, "Internal Server Error", e.Message);
            }
            catch (Exception e) when (e is Azure.RequestFailedException or AggregateException { InnerException: Azure.RequestFailedException })
            {
                // The function ran; storage did not take its output (as a trigger's run would be retried, ask again).
                context.Response.Headers.RetryAfter = "5";
                return Problem(503, "Service Unavailable", $"{name} ran, but storage did not take its output: {e.Message.Split('\n')[0]}");
            }
            return Results.StatusCode(StatusCodes.Status202Accepted);
        });
    }

    /// <summary>Why an admin request is refused (see the class's remarks), or null when a tool on this machine sent it.</summary>
    public static IResult? Refusal(HttpRequest request)
    {
        if (!IsFromThisMachine(request.HttpContext.Connection.RemoteIpAddress))
            return Problem(403, "Forbidden", "The host's admin routes have no key, so they answer only on this machine (loopback), as a local Functions host's do.");
        if (request.Headers.Origin.Count > 0 || request.Headers["Sec-Fetch-Site"].Any(v => v != "none"))
            return Problem(403, "Forbidden", "The host's admin routes have no key, so they answer tools on this machine, not web pages (this request came from a browser page).");
        if (!IsLoopbackName(request.Host.Host))
            return Problem(403, "Forbidden", "The host's admin routes answer requests addressed to this machine (localhost, 127.0.0.1 or [::1]), not to another host name.");
        var hasBody = request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0;
        if (hasBody && !(request.ContentType is { } type && type.Split(';', 2)[0].Trim().Equals("application/json", StringComparison.OrdinalIgnoreCase)))
            return Problem(415, "Unsupported Media Type", "The body must be JSON, sent with Content-Type: application/json ({ \"input\": \"<text>\" }).");
        return null;
    }

    /// <summary>Whether a request's host name names this machine: localhost, or a loopback address.</summary>
    public static bool IsLoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var address) && IsFromThisMachine(address));

    /// <summary>Whether a request came over loopback (an IPv4 loopback address mapped into IPv6 too); unknown is not.</summary>
    public static bool IsFromThisMachine(System.Net.IPAddress? remote) =>
        remote is not null && System.Net.IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote);

    private static IResult Problem(int status, string title, string detail) =>
        Results.Json(new { title, status, detail }, statusCode: status, contentType: "application/problem+json");
}
