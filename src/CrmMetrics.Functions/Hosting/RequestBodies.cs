using System.Buffers;
using System.IO.Compression;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Reads request bodies with a size limit, whatever the Content-Length header claims, decoding a
/// compressed body (<c>Content-Encoding</c> gzip, deflate or br): the limit holds for the decoded
/// bytes, so a small compressed body cannot unfold into a large one.
/// </summary>
public static class RequestBodies
{
    /// <summary>The codings a body may come in (RFC 9110 names; <c>x-gzip</c> is gzip's old name).</summary>
    public const string Accepted = "gzip, deflate, br";

    /// <summary>The body's bytes, or the problem to answer instead (413 too large, 415 an unknown coding, 400 a broken one).</summary>
    public sealed record Read(ReadOnlyMemory<byte> Bytes, IResult? Problem);

    public static async Task<Read> ReadAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        var coding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        Stream? decoded = coding switch
        {
            "" or "identity" => null,
            "gzip" or "x-gzip" => new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true),
            "deflate" => new ZLibStream(request.Body, CompressionMode.Decompress, leaveOpen: true),
            "br" => new BrotliStream(request.Body, CompressionMode.Decompress, leaveOpen: true),
            _ => Stream.Null,
        };
        if (decoded == Stream.Null)
            return new Read(default, Problems.UnsupportedMediaType($"Content-Encoding '{Domain.Validation.JsonFields.Truncate(coding)}' is not accepted; send the body as it is or in one of: {Accepted}."));
        await using (decoded)
        {
            var tooLarge = Problems.PayloadTooLarge(decoded is null
                ? $"The body exceeds {maxBytes} bytes."
                : $"The body exceeds {maxBytes} bytes once decompressed.");
            var buffer = new ArrayBufferWriter<byte>(decoded is null && request.ContentLength is > 0 and var n && n <= maxBytes ? (int)n : 64 * 1024);
            var source = decoded ?? request.Body;
            while (true)
            {
                var memory = buffer.GetMemory(16 * 1024);
                int read;
                try
                {
                    read = await source.ReadAsync(memory, ct);
                }
                catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    return new Read(default, tooLarge);
                }
                catch (InvalidDataException) when (decoded is not null)
                {
                    return new Read(default, Problems.Validation("body", $"is not valid {coding} data, as its Content-Encoding says it is"));
                }
                if (read == 0) break;
                buffer.Advance(read);
                if (buffer.WrittenCount > maxBytes) return new Read(default, tooLarge);
            }
            return new Read(buffer.WrittenMemory, null);
        }
    }
}
