using System.Text.Json;

namespace CrmMetrics.Functions.Ingestion;

/// <summary>Events read from one body or message, with the JSON documents that back them (dispose after use).</summary>
public sealed class EventBatch(List<RawEvent> events, List<JsonDocument> documents) : IDisposable
{
    public IReadOnlyList<RawEvent> Events => events;

    public void Dispose()
    {
        foreach (var d in documents) d.Dispose();
    }
}

/// <summary>Why a body could not be read as events at all, and the status that says so.</summary>
public sealed class EventBatchException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Reads a JSON array, a single JSON object, or NDJSON (one event per line) into events. A bad
/// NDJSON line becomes one rejected event; a body that is not events at all is an error.
/// </summary>
public static class EventBatchReader
{
    public const int MaxEvents = 5_000;
    public const int MaxBytes = 4 * 1024 * 1024;

    // Deep enough for any event with unknown members nested in it (they are ignored, and one event must not
    // refuse its neighbours); the body's 4 MiB bounds the work, and parsing is not recursive.
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 256 };

    /// <param name="what">What the bytes are, for the errors: "body" (HTTP) or "message" (the queue).</param>
    public static EventBatch Read(ReadOnlyMemory<byte> body, bool ndjson, string what = "body")
    {
        var unit = what == "body" ? "request" : what;
        var span = body.Span;
        var start = span.StartsWith("\uFEFF"u8) ? 3 : 0;
        while (start < span.Length && span[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') start++;
        if (start == span.Length) throw new EventBatchException(400, $"The {what} is empty; send a JSON array of events or NDJSON.");

        // A body that starts with '[' is a JSON array whatever its content type says.
        if (span[start] == (byte)'[' || !ndjson && span[start] == (byte)'{' && !HasSecondLine(span[start..]))
        {
            return ReadJson(body[start..], what, unit);
        }
        if (span[start] != (byte)'{')
        {
            throw new EventBatchException(400, $"The {what} is neither a JSON array of events nor NDJSON (one JSON object per line).");
        }
        return ReadNdjson(body[start..], what, unit);
    }

    private static EventBatch ReadJson(ReadOnlyMemory<byte> body, string what, string unit)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, Options);
        }
        catch (JsonException e)
        {
            throw new EventBatchException(400, $"The {what} is not valid JSON: {e.Message}");
        }
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object) return new EventBatch([new RawEvent(root, null)], [doc]);
        if (root.ValueKind != JsonValueKind.Array)
        {
            doc.Dispose();
            throw new EventBatchException(400, $"The {what} must be a JSON array of events.");
        }
        var count = root.GetArrayLength();
        if (count > MaxEvents)
        {
            doc.Dispose();
            throw new EventBatchException(413, $"The {what} has {count} events; at most {MaxEvents} are accepted per {unit}.");
        }
        var events = new List<RawEvent>(count);
        foreach (var e in root.EnumerateArray()) events.Add(new RawEvent(e, null));
        return new EventBatch(events, [doc]);
    }

    private static EventBatch ReadNdjson(ReadOnlyMemory<byte> body, string what, string unit)
    {
        var events = new List<RawEvent>();
        var documents = new List<JsonDocument>();
        var line = 0;
        var rest = body;
        while (!rest.IsEmpty)
        {
            var newline = rest.Span.IndexOf((byte)'\n');
            var current = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? ReadOnlyMemory<byte>.Empty : rest[(newline + 1)..];
            line++;
            if (IsBlank(current.Span)) continue;
            if (events.Count == MaxEvents)
            {
                foreach (var d in documents) d.Dispose();
                throw new EventBatchException(413, $"The {what} has more than {MaxEvents} events; at most {MaxEvents} are accepted per {unit}.");
            }
            try
            {
                var doc = JsonDocument.Parse(current, Options);
                documents.Add(doc);
                events.Add(new RawEvent(doc.RootElement, null));
            }
            catch (JsonException e)
            {
                events.Add(new RawEvent(default, $"line {line} is not valid JSON: {e.Message}", System.Text.Encoding.UTF8.GetString(current.Span)));
            }
        }
        if (events.Count == 0) throw new EventBatchException(400, $"The {what} holds no events.");
        return new EventBatch(events, documents);
    }

    private static bool HasSecondLine(ReadOnlySpan<byte> span)
    {
        var newline = span.IndexOf((byte)'\n');
        return newline >= 0 && !IsBlank(span[(newline + 1)..]);
    }

    private static bool IsBlank(ReadOnlySpan<byte> span)
    {
        foreach (var b in span)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return false;
        }
        return true;
    }
}
