using System.Text.Json;

namespace CrmMetrics.LocalHost.Triggers.Http;

/// <summary>The host's own answers (no route, wrong method, no worker) as RFC 9457 problem details.</summary>
public static class HostProblems
{
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail, int? retryAfterSeconds = null)
    {
        if (context.Response.HasStarted) return;
        context.Response.StatusCode = status;
        if (retryAfterSeconds is { } seconds) context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.ContentType = "application/problem+json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            type = $"https://tools.ietf.org/html/rfc9110#section-15.{(status >= 500 ? 6 : 5)}.{StatusSection(status)}",
            title,
            status,
            detail,
            instance = context.Request.Path.Value,
        }), context.RequestAborted);
    }

    private static int StatusSection(int status) => status switch
    {
        404 => 5,
        405 => 6,
        500 => 1,
        502 => 3,
        503 => 4,
        _ => 1,
    };
}
