using System.Text.Json;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;

namespace CrmMetrics.Functions.Api;

/// <summary>Reads a small JSON body (at most 256 KiB) as an object, or says what is wrong with it naming <c>body</c>.</summary>
public static class JsonBodies
{
    public const int MaxBytes = 256 * 1024;

    public sealed class Body(JsonDocument? document) : IDisposable
    {
        public JsonElement Root => document?.RootElement ?? default;
        public bool IsEmpty => document is null;
        public void Dispose() => document?.Dispose();
    }

    /// <summary>The body, or a problem result (400/413/415) to return.</summary>
    public static async Task<(Body? Body, IResult? Problem)> ReadObjectAsync(HttpRequest request, bool allowEmpty, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes) return (null, Problems.PayloadTooLarge($"The body is larger than {MaxBytes} bytes."));
        var read = await RequestBodies.ReadAsync(request, MaxBytes, ct);
        if (read.Problem is not null) return (null, read.Problem);
        // A byte order mark, which some editors and Windows PowerShell write before UTF-8, is not JSON
        // but says nothing wrong: skipped, as /api/events skips it.
        var body = read.Bytes.Span.StartsWith("\uFEFF"u8) ? read.Bytes[3..] : read.Bytes;
        if (body.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return allowEmpty ? (new Body(null), null) : (null, Problems.Validation("body", "is required: send a JSON object"));
        }
        // A body there is (an empty one says nothing of its type): JSON, text with no claim to be anything else,
        // or what curl -d and PowerShell send by default (a form type, though the text is JSON); a body declared
        // as XML, multipart or any other format is not read as JSON.
        var mediaType = RequestBodies.MediaType(request);
        if (mediaType is not (null or "" or "application/json" or "text/plain" or "application/x-www-form-urlencoded") && !mediaType.EndsWith("+json", StringComparison.Ordinal))
            return (null, Problems.UnsupportedMediaType($"Content type '{Domain.Validation.JsonFields.Truncate(mediaType)}' is not accepted; send application/json."));
        if (RequestBodies.CharsetProblem(request) is { } charset) return (null, charset);
        try
        {
            var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                return (null, Problems.Validation("body", "must be a JSON object"));
            }
            return (new Body(doc), null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Validation("body", "is not valid JSON: " + e.Message));
        }
    }

    public static JsonFields Fields(Body body, ValidationErrors errors) => new(body.Root, errors);
}
