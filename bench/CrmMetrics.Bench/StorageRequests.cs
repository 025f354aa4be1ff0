using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace CrmMetrics.Bench;

/// <summary>
/// Counts the storage requests this process sends while it is alive, by method and table or
/// container, from the Azure SDK's own request events. It formats every request's headers, so use
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
        if (!_counting || e.EventName != "Request" || e.Payload is null) return;
        var names = e.PayloadNames!;
        var method = e.Payload[names.IndexOf("method")] as string;
        var uri = e.Payload[names.IndexOf("uri")] as string;
        if (method is null || uri is null) return;
        _counts.AddOrUpdate($"{method} {Target(uri)}", 1, (_, n) => n + 1);
    }

    /// <summary>The request counts, most first; stops counting.</summary>
    public IReadOnlyList<(string Request, int Count)> Stop()
    {
        _counting = false;
        return _counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key).Select(c => (c.Key, c.Value)).ToList();
    }

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
