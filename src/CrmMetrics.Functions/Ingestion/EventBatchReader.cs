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
/// Reads a JSON array, a single JSON object, or NDJSON (one event per line) into events. A body
/// that is one JSON value is read as that value whatever its content type (a pretty-printed event is
/// one event, not a line each); one that is not is read line by line when it was declared NDJSON or
/// has more than one line, each bad line becoming one rejected event beside its valid neighbours. A
/// body that is not events at all (nothing, one broken JSON array, a bare number, lines none of which is
/// a JSON object) is an error.
/// </summary>
public static class EventBatchReader
{
    public const int MaxEvents = 5_000;
    public const int MaxBytes = 4 * 1024 * 1024;

    // Any depth the body can hold: unknown members are ignored, however deep, and one event must not refuse
    // its neighbours (found by a contract probe: a member nested 300 deep made its whole array a 400 at the
    // 256 levels this allowed). The body's 4 MiB bounds the work; parsing is not recursive, and nothing
    // here walks an event's unknown members.
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = MaxBytes };

    /// <param name="what">What the bytes are, for the errors: "body" (HTTP) or "message" (the queue).</param>
    public static EventBatch Read(ReadOnlyMemory<byte> body, bool ndjson, string what = "body")
    {
        var unit = what == "body" ? "request" : what;
        var span = body.Span;
        var start = span.StartsWith("\uFEFF"u8) ? 3 : 0;
        while (start < span.Length && span[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') start++;
        if (start == span.Length) throw new EventBatchException(400, $"The {what} is empty; send a JSON array of events or NDJSON.");
        var text = body[start..];

        JsonDocument? doc = null;
        string? notJson = null;
        try
        {
            doc = JsonDocument.Parse(text, Options);
        }
        catch (JsonException e)
        {
            notJson = e.Message;
        }
        if (doc is not null)
        {
            var kind = doc.RootElement.ValueKind;
            if (kind is JsonValueKind.Array or JsonValueKind.Object) return FromDocument(doc, what, unit);
            doc.Dispose();
            // Declared NDJSON, a line that is no object is one rejected event.
            if (ndjson) return ReadNdjson(text, what, unit);
            throw new EventBatchException(400, $"The {what} must be a JSON array of events (or NDJSON, one event per line).");
        }
        // Not one JSON value. A JSON array with a mistake in it is refused whole (which events it held
        // cannot be told); otherwise it is NDJSON, line by line, when declared so or when it has lines.
        if (ndjson || span[start] != (byte)'[' && HasSecondLine(text.Span)) return ReadNdjson(text, what, unit);
        throw new EventBatchException(400, $"The {what} is not valid JSON: {notJson}");
    }

    /// <summary>A body that is one JSON value: an array of events, or one event.</summary>
    private static EventBatch FromDocument(JsonDocument doc, string what, string unit)
    {
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object) return new EventBatch([new RawEvent(root, null)], [doc]);
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
        // Lines none of which is a JSON object are no events at all (found by review: "hello\nworld" was a 202
        // with two rejections, and a queue message of such lines lost its text as a whole).
        if (!events.Any(e => e.ParseError is null && e.Element.ValueKind == JsonValueKind.Object))
        {
            foreach (var d in documents) d.Dispose();
            throw new EventBatchException(400, $"The {what} is neither a JSON array of events nor NDJSON: none of its lines is a JSON object.");
        }
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
