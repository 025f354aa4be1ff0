using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.LocalHost.TestApp;

/// <summary>HTTP functions: echo what reached the worker, route templates, failures.</summary>
public sealed class HttpFunctions
{
    [Function("Echo")]
    public async Task<IResult> Echo([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = "echo/{id}/{*rest}")] HttpRequest request, string id, string? rest)
    {
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync();
        return Results.Json(new
        {
            id,
            rest,
            method = request.Method,
            path = request.Path.Value,
            query = request.QueryString.Value,
            host = request.Host.Value,
            scheme = request.Scheme,
            bodyLength = body.Length,
            bodyHash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(body))),
            invocation = request.Headers["x-ms-invocation-id"].ToString(),
            note = request.Headers["x-note"].ToString(),
        });
    }

    [Function("Item")]
    public IResult Item([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "items/{n:int}")] HttpRequest request, int n) => Results.Json(new { n });

    [Function("SpecialItem")]
    public IResult SpecialItem([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "items/special")] HttpRequest request) => Results.Json(new { special = true });

    [Function("Fail")]
    public IResult Fail([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "fail")] HttpRequest request) => throw new InvalidOperationException("failing on purpose");

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> BusyAttempts = new();

    /// <summary>
    /// Fails its first <c>times</c> invocations of a key as the ASP.NET Core integration does when a busy worker
    /// cannot pair a request with its invocation in time (before any function runs); then answers how many it saw.
    /// </summary>
    [Function("Busy")]
    public IResult Busy([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = "busy/{key}/{times:int}")] HttpRequest request, string key, int times)
    {
        var attempt = BusyAttempts.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (attempt <= times) throw new TimeoutException($"Timed out waiting for the function start call. Invocation: '{request.Headers["x-ms-invocation-id"]}'.");
        return Results.Json(new { key, attempts = attempt });
    }

    [Function("Setting")]
    public IResult Setting([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "settings/{name}")] HttpRequest request, string name) =>
        Results.Json(new { name, value = Environment.GetEnvironmentVariable(name), pid = Environment.ProcessId });

    [Function("Default")]
    public IActionResult Default([HttpTrigger(AuthorizationLevel.Anonymous)] HttpRequest request) => new OkObjectResult(new { route = "default" });
}

/// <summary>What a <c>lh-work</c> message asks for.</summary>
public sealed record Work(string Name, int FailUntil = 0, string[]? Out = null, int BusyMs = 0);

/// <summary>The next step's messages (a string[] output: one message per element).</summary>
public sealed class WorkOutputs
{
    [QueueOutput("lh-out")]
    public string[]? Out { get; init; }
}

/// <summary>Queue functions: record every attempt with its metadata, fail on demand, write outputs.</summary>
public sealed class QueueFunctions
{
    [Function("Work")]
    public async Task<WorkOutputs> WorkAsync([QueueTrigger("%WorkQueue%")] string message, int dequeueCount, string id, string popReceipt, DateTimeOffset insertionTime,
        DateTimeOffset nextVisibleTime, CancellationToken ct)
    {
        var work = JsonSerializer.Deserialize<Work>(message, JsonSerializerOptions.Web)!;
        var started = DateTimeOffset.UtcNow;
        if (work.BusyMs > 0) await Task.Delay(work.BusyMs, ct);
        await Record.WriteAsync(new { function = "Work", work.Name, dequeueCount, id, popReceipt, insertionTime, nextVisibleTime, started, finished = DateTimeOffset.UtcNow, pid = Environment.ProcessId });
        if (dequeueCount <= work.FailUntil) throw new InvalidOperationException($"failing attempt {dequeueCount} on purpose");
        return new WorkOutputs { Out = work.Out };
    }

    [Function("Bytes")]
    public Task BytesAsync([QueueTrigger("lh-bytes")] byte[] message) =>
        Record.WriteAsync(new { function = "Bytes", length = message.Length });
}

/// <summary>Timer functions: record the TimerInfo each invocation gets, and how long it ran.</summary>
public sealed class TimerFunctions
{
    [Function("Tick")]
    [QueueOutput("lh-ticks")]
    public async Task<string> TickAsync([TimerTrigger("%TickSchedule%")] TimerInfo timer)
    {
        var started = DateTimeOffset.UtcNow;
        if (int.TryParse(Environment.GetEnvironmentVariable("TickBusyMs"), out var busy))
        {
            // Says the run is under way, so that a test can move the host's clock on while it is.
            await Record.WriteAsync(new { function = "TickBusy", next = timer.ScheduleStatus?.Next, started });
            await Task.Delay(busy);
        }
        await Record.WriteAsync(new { function = "Tick", timer.IsPastDue, last = timer.ScheduleStatus?.Last, next = timer.ScheduleStatus?.Next, started, finished = DateTimeOffset.UtcNow, pid = Environment.ProcessId });
        return "tick";
    }

    [Function("OnStartup")]
    public Task OnStartupAsync([TimerTrigger("0 0 0 1 1 *", RunOnStartup = true)] TimerInfo timer) =>
        Record.WriteAsync(new { function = "OnStartup", timer.IsPastDue, started = DateTimeOffset.UtcNow, pid = Environment.ProcessId });
}
