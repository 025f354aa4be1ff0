using CrmMetrics.LocalHost.Bindings;
using CrmMetrics.LocalHost.Functions;
using CrmMetrics.LocalHost.Rpc;
using CrmMetrics.LocalHost.Rpc.Messages;
using CrmMetrics.LocalHost.Workers;
using Microsoft.AspNetCore.Http.Features;

namespace CrmMetrics.LocalHost.Triggers.Http;

/// <summary>
/// Runs an HTTP function with the ASP.NET Core integration, as the Functions host does: makes an
/// invocation id, sends the invocation (an empty <c>RpcHttp</c> as trigger input, the route values
/// as trigger metadata) and forwards the request itself, with <c>x-ms-invocation-id</c> and
/// <c>X-Forwarded-*</c> headers, to the worker's own HTTP server, which pairs the two. The worker's
/// response is streamed back; outputs other than the response are written after the invocation.
/// </summary>
public sealed class HttpTriggerProxy(FunctionInvoker invoker, QueueOutputWriter outputs, IHttpClientFactory clients, LocalHostOptions options, ILogger<HttpTriggerProxy> logger)
{
    public const string InvocationIdHeader = "x-ms-invocation-id";
    public const string ClientName = "worker";

    // Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are not forwarded.
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
        { "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host" };

    /// <summary>Bodies up to this size are held by the host, so a request a dying worker never ran can go to its successor.</summary>
    public const int ReplayableBodyBytes = 8 * 1024 * 1024;

    public async Task HandleAsync(HttpContext context, HttpFunctionRoute route)
    {
        var aborted = context.RequestAborted;
        RequestBody body;
        try
        {
            body = await BufferAsync(context.Request, aborted);
        }
        catch (Exception e) when (e is BadHttpRequestException or IOException or OperationCanceledException)
        {
            // The client's body could not be read (sent too slowly, cut short, a broken chunk): the client's doing, so
            // said to it (if it still listens) and logged as such, not as an unhandled error with its stack (found by
            // probing: 100 slow clients left 101 error entries, 211 KB, and got empty answers).
            var status = e is BadHttpRequestException bad ? bad.StatusCode : 400;
            logger.LogInformation("{Method} {Path}: the request's body could not be read ({Reason}); answered {Status}", context.Request.Method, context.Request.Path, e.Message, status);
            if (!context.Response.HasStarted && !aborted.IsCancellationRequested)
                await HostProblems.WriteAsync(context, status, status == 408 ? "Request Timeout" : "Bad Request", $"The request's body could not be read: {e.Message}");
            return;
        }
        // A worker that just died (or whose server is a moment behind its handshake) fails the
        // request before its function ran: then the request goes to the next worker, for as long
        // as requests wait for a worker at all.
        var deadline = DateTimeOffset.UtcNow + options.WorkerWait;
        var busyRetries = 0;
        while (true)
        {
            ReadyWorker worker;
            try
            {
                worker = await invoker.WorkerAsync(aborted);
            }
            catch (WorkerUnavailableException e)
            {
                await HostProblems.WriteAsync(context, 503, "Service Unavailable", $"The function app's worker is not ready ({e.Message}); retry shortly.", retryAfterSeconds: 5);
                return;
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                return;
            }
            if (worker.HttpUri is null)
            {
                await HostProblems.WriteAsync(context, 502, "Bad Gateway", "The worker does not serve HTTP (it announced no HttpUri); it needs the ASP.NET Core integration (ConfigureFunctionsWebApplication).");
                return;
            }
            var outcome = await RunAsync(context, route, worker, body, retryable: DateTimeOffset.UtcNow < deadline, busyRetries < MaxBusyRetries);
            if (outcome == Outcome.Done) return;
            if (outcome == Outcome.RetryBusy) busyRetries++;
            // Give a dying worker a moment to be noticed, so the next attempt finds its successor.
            await Task.WhenAny(worker.Channel.Closed, Task.Delay(200, aborted));
        }
    }

    private enum Outcome { Done, RetryOnAnotherAttempt, RetryBusy }

    /// <summary>How many times a request the worker was too busy to start goes again before it is a 503.</summary>
    private const int MaxBusyRetries = 2;

    private async Task<Outcome> RunAsync(HttpContext context, HttpFunctionRoute route, ReadyWorker worker, RequestBody body, bool retryable, bool busyRetryable)
    {
        var aborted = context.RequestAborted;
        var function = worker.Function(route.Function);
        var invocationId = Guid.NewGuid().ToString();
        var metadata = new Dictionary<string, TypedData>();
        foreach (var (name, value) in context.Request.RouteValues)
        {
            if (value is not null) metadata[name] = TypedDataText.String(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
        }
        var trigger = new ParameterBinding
        {
            Name = function.Trigger.Name,
            Data = new TypedData { Http = new RpcHttp { Method = context.Request.Method, Url = context.Request.GetEncodedUrlForLog() } },
        };

        using var invocationCancel = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var invocation = invoker.InvokeAsync(function.Name, trigger, metadata, invocationCancel.Token, worker, invocationId);
        HttpResponseMessage response;
        try
        {
            if (worker.Channel.IsClosed) throw new HttpRequestException(HttpRequestError.ConnectionError, "the worker's channel is closed");
            response = await clients.CreateClient(ClientName).SendAsync(Forward(context, worker.HttpUri!, invocationId, body), HttpCompletionOption.ResponseHeadersRead, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            await invocationCancel.CancelAsync();
            await Observe(invocation);
            return Outcome.Done;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await invocationCancel.CancelAsync();
            await Observe(invocation);
            var replayable = e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } || body.Replayable && await IsGoneAsync(worker);
            if (retryable && replayable)
            {
                logger.LogDebug("{Function}: the worker did not take the request ({Error}); sending it to the next worker", function.Name, e.Message);
                return Outcome.RetryOnAnotherAttempt;
            }
            logger.LogWarning("{Function}: the worker did not answer the forwarded request: {Error}", function.Name, e.Message);
            await HostProblems.WriteAsync(context, 502, "Bad Gateway", "The function app's worker did not answer; retry shortly.", retryAfterSeconds: 5);
            return Outcome.Done;
        }

        using (response)
        {
            // The worker's server refused the request itself (headers or URL past its limits): no function ran,
            // and none will answer the invocation, so it is not waited for.
            if (response.Content.Headers.ContentLength == 0 && response.Headers.ConnectionClose == true && (int)response.StatusCode is 400 or 413 or 414 or 431)
            {
                await invocationCancel.CancelAsync();
                await Observe(invocation);
                logger.LogWarning("{Function}: the worker's server refused the forwarded request with {Status}", function.Name, (int)response.StatusCode);
                await HostProblems.WriteAsync(context, (int)response.StatusCode, response.ReasonPhrase ?? "Bad Request",
                    $"The function app's server refused the request ({(int)response.StatusCode}) before any function ran: its URL, headers or body pass the server's limits.");
                return Outcome.Done;
            }
            // A failed function leaves an empty response behind: wait for the invocation's own verdict before sending it.
            if (response.Content.Headers.ContentLength == 0)
            {
                InvocationResult? result = null;
                try
                {
                    result = await invocation.WaitAsync(TimeSpan.FromSeconds(30), aborted);
                }
                catch (FunctionFailedException e) when (NeverStarted(e))
                {
                    // The worker's ASP.NET Core integration gave up pairing the request with its invocation (a busy
                    // machine: it waits 5 s for one and 15 s for the other) before the function ran: nothing ran, so
                    // the request goes again while requests wait for a worker, else it is a 503 to retry (found in CI
                    // under a load of 25 on two cores: ingestion answered 500).
                    var again = retryable && busyRetryable && body.Replayable;
                    logger.LogWarning("{Function}: the worker did not start the function in time ({Error}); {Next}", function.Name, FirstLine(e.Reason),
                        again ? "sending the request again" : "answered 503");
                    if (again) return Outcome.RetryBusy;
                    await HostProblems.WriteAsync(context, 503, "Service Unavailable", $"The function app's worker was too busy to start {function.Name} in time; it did not run. Retry shortly.", retryAfterSeconds: 5);
                    return Outcome.Done;
                }
                catch (FunctionFailedException e)
                {
                    logger.LogError("{Function} failed: {Error}", function.Name, e.Message);
                    await HostProblems.WriteAsync(context, 500, "Internal Server Error", $"The function {function.Name} failed; the host's log says why.");
                    return Outcome.Done;
                }
                catch (Exception e) when (e is TimeoutException or WorkerUnavailableException)
                {
                    logger.LogWarning("{Function}: no invocation result after its response: {Error}", function.Name, e.Message);
                }
                await CopyAsync(response, context, aborted);
                if (result is not null) await outputs.WriteAsync(function, result, aborted);
                return Outcome.Done;
            }
            await CopyAsync(response, context, aborted);
        }
        try
        {
            var result = await invocation.WaitAsync(TimeSpan.FromSeconds(30), aborted);
            await outputs.WriteAsync(function, result, aborted);
        }
        catch (Exception e) when (e is FunctionFailedException or TimeoutException or WorkerUnavailableException or OperationCanceledException)
        {
            logger.LogWarning("{Function}: its invocation did not complete after its response was sent: {Error}", function.Name, e.Message);
        }
        return Outcome.Done;
    }

    /// <summary>
    /// Whether the invocation failed in the worker's pairing of the request with the invocation, before the
    /// function started: the ASP.NET Core integration's own timeouts (its <c>DefaultHttpCoordinator</c>).
    /// </summary>
    /// <remarks>
    /// Known by their messages, which the worker reports as the exception's text (its type and message, or only its
    /// message, as its version does) and which nothing else in a function's pipeline says.
    /// </remarks>
    internal static bool NeverStarted(FunctionFailedException e) =>
        e.Reason.Contains("Timed out waiting for the function start call", StringComparison.Ordinal)
        || e.Reason.Contains("Timed out waiting for the HTTP context to be set", StringComparison.Ordinal);

    private static string FirstLine(string text) => text.Split('\n', 2)[0].TrimEnd();

    /// <summary>Whether the worker died (its channel closes within a moment): then its function never answered.</summary>
    private static async Task<bool> IsGoneAsync(ReadyWorker worker)
    {
        await Task.WhenAny(worker.Channel.Closed, Task.Delay(TimeSpan.FromSeconds(2)));
        return worker.Channel.IsClosed;
    }

    /// <summary>
    /// A request's body as the host forwards it: held whole when it is small enough to send twice (to a
    /// worker that replaces one that died), otherwise streamed once.
    /// </summary>
    private sealed record RequestBody(byte[]? Held, Stream? Streamed)
    {
        public bool Replayable => Held is not null;
    }

    /// <summary>
    /// Reads the body up to <see cref="ReplayableBodyBytes"/>. A larger one (by its Content-Length, or
    /// found so while reading a chunked one) is streamed on: what was read, then the rest, with no
    /// length claimed.
    /// </summary>
    private static async Task<RequestBody> BufferAsync(HttpRequest request, CancellationToken ct)
    {
        // Whether a body may follow as the server knows it (HTTP/2 bodies carry neither length nor chunking).
        var canHaveBody = request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody
                          ?? (request.ContentLength is not null || request.Headers.TransferEncoding.Count > 0);
        if (request.ContentLength is 0 || !canHaveBody) return new RequestBody([], null);
        if (request.ContentLength > ReplayableBodyBytes) return new RequestBody(null, request.Body);
        var held = new MemoryStream();
        var buffer = new byte[81_920];
        while (held.Length <= ReplayableBodyBytes)
        {
            var read = await request.Body.ReadAsync(buffer, ct);
            if (read == 0) return new RequestBody(held.ToArray(), null);
            held.Write(buffer, 0, read);
        }
        held.Position = 0;
        return new RequestBody(null, new ConcatenatedStream(held, request.Body));
    }

    private static HttpRequestMessage Forward(HttpContext context, Uri worker, string invocationId, RequestBody body)
    {
        var request = context.Request;
        // The target as the client wrote it: rebuilt from the decoded path, an escaped '%' (%25) reached
        // the worker as a '%' escape it decoded again, so the worker saw another path than the host had
        // routed (found by probing: /api/goals/%252e%252e became '..', matched no function there, and the
        // invocation timed out into a 500 after 15 s).
        // Sent as it is, not resolved as a relative URI: resolving turned '\' into '/' and collapsed the '..' around
        // it, which Kestrel on either side takes as plain characters (found in review), and '//host/…' would name
        // another authority. The worker's server normalises dot segments as the host's did. A target with
        // characters beyond printable ASCII is rebuilt from the path instead.
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var target = raw is ['/', ..] && raw.All(c => c is > ' ' and < '\u007f')
            ? new Uri(worker.GetLeftPart(UriPartial.Authority) + raw, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true })
            : new Uri(worker, request.Path.ToUriComponent() + request.QueryString.ToUriComponent());
        var forward = new HttpRequestMessage(new HttpMethod(request.Method), target) { Version = System.Net.HttpVersion.Version11 };
        if (body.Held is { Length: > 0 } held) forward.Content = new ByteArrayContent(held);
        else if (body.Streamed is { } streamed) forward.Content = new StreamContent(streamed);
        foreach (var (name, values) in request.Headers)
        {
            if (HopByHop.Contains(name)) continue;
            if (!forward.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values)) forward.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
        forward.Headers.Remove(InvocationIdHeader);
        forward.Headers.TryAddWithoutValidation(InvocationIdHeader, invocationId);
        forward.Headers.TryAddWithoutValidation("X-Forwarded-For", context.Connection.RemoteIpAddress?.ToString() ?? "127.0.0.1");
        forward.Headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);
        forward.Headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
        return forward;
    }

    private static async Task CopyAsync(HttpResponseMessage response, HttpContext context, CancellationToken ct)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers)
        {
            if (!HopByHop.Contains(name)) context.Response.Headers[name] = values.ToArray();
        }
        foreach (var (name, values) in response.Content.Headers) context.Response.Headers[name] = values.ToArray();
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await body.CopyToAsync(context.Response.Body, ct);
    }

    private static async Task Observe(Task task)
    {
        try { await task; } catch (Exception) { /* cancelled or failed with the request; nothing more to do */ }
    }
}

internal static class RequestText
{
    public static string GetEncodedUrlForLog(this HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{request.QueryString}";
}
