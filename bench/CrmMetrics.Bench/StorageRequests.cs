using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace CrmMetrics.Bench;

/// <summary>
/// Counts the storage requests this process sends while it is alive, by method and table or
/// container, from the Azure SDK's own request events; failed ones are also listed under their
/// status (<c>PUT x -> 404</c>), not added to the total. It formats every request's headers, so use
/// it in a pass that is not timed.
/// </summary>
public sealed class StorageRequests : EventListener
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private volatile bool _counting;

    public StorageRequests() => _counting = true;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Azure-Core") EnableEvents(source, EventLevel.Informational);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_counting || e.Payload is null) return;
        var names = e.PayloadNames!;
        if (e.EventName == "Request")
        {
            var method = e.Payload[names.IndexOf("method")] as string;
            var uri = e.Payload[names.IndexOf("uri")] as string;
            if (method is null || uri is null) return;
            var key = $"{method} {Target(uri)}";
            _requests[(string)e.Payload[names.IndexOf("requestId")]!] = key;
            _counts.AddOrUpdate(key, 1, (_, n) => n + 1);
        }
        else if (e.EventName is "Response" or "ErrorResponse" && _requests.TryRemove((string)e.Payload[names.IndexOf("requestId")]!, out var request)
                 && e.EventName == "ErrorResponse")
        {
            // Failed requests are counted again under their status, so "of which" can be read off.
            _counts.AddOrUpdate($"{request} -> {e.Payload[names.IndexOf("status")]}", 1, (_, n) => n + 1);
        }
    }

    private readonly ConcurrentDictionary<string, string> _requests = new(StringComparer.Ordinal);

    /// <summary>The request counts, most first; stops counting.</summary>
    public IReadOnlyList<(string Request, int Count)> Stop()
    {
        _counting = false;
        return _counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key).Select(c => (c.Key, c.Value)).ToList();
    }

    /// <summary>The requests sent, without the failures listed again under their status.</summary>
    public static int Total(IEnumerable<(string Request, int Count)> counts) => counts.Where(c => !c.Request.Contains(" -> ")).Sum(c => c.Count);

    /// <summary>The table or container a request addresses: the first path segment after the account, without keys.</summary>
    private static string Target(string uri)
    {
        var path = new Uri(uri).AbsolutePath.Trim('/').Split('/');
        var first = path.Length > 1 ? path[1] : path[0];
        var paren = first.IndexOf('(');
        var name = paren >= 0 ? first[..paren] : first;
        var query = new Uri(uri).Query;
        var comp = System.Web.HttpUtility.ParseQueryString(query)["comp"];
        return comp is null ? name : $"{name} ({comp})";
    }
}
