using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// Reads request bodies with a size limit, whatever the Content-Length header claims, decoding a
/// compressed body (<c>Content-Encoding</c> gzip, deflate or br): the limit holds for the decoded
/// bytes too, so a small compressed body cannot unfold into a large one, and a compressed body must be
/// whole (the decoders stop quietly at a cut-off stream, which would lose the rest of the body).
/// </summary>
public static class RequestBodies
{
    /// <summary>The codings a body may come in (RFC 9110 names; <c>x-gzip</c> is gzip's old name).</summary>
    public const string Accepted = "gzip, deflate, br";

    /// <summary>The body's bytes, or the problem to answer instead (413 too large, 415 an unknown coding, 400 a broken one).</summary>
    public sealed record Read(ReadOnlyMemory<byte> Bytes, IResult? Problem);

    /// <summary>The request's media type, lower case and without parameters (<c>application/json</c> of <c>application/json; charset=utf-8</c>); null when it has none.</summary>
    public static string? MediaType(HttpRequest request) => request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();

    /// <summary>
    /// A 415 when the body declares a charset other than UTF-8 (or its subset US-ASCII): JSON is exchanged as
    /// UTF-8 (RFC 8259), and a body declared otherwise was read as UTF-8 all the same (found by a contract probe).
    /// </summary>
    public static IResult? CharsetProblem(HttpRequest request)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || type.Charset.Value is not { } charset) return null;
        return charset.Trim('"').ToLowerInvariant() is "utf-8" or "utf8" or "us-ascii"
            ? null
            : Problems.UnsupportedMediaType($"Charset '{Domain.Validation.JsonFields.Truncate(charset)}' is not accepted; send the body as UTF-8 (charset=utf-8, or no charset).");
    }

    public static async Task<Read> ReadAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        var coding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        if (coding is not ("" or "identity" or "gzip" or "x-gzip" or "deflate" or "br"))
            return new Read(default, Problems.UnsupportedMediaType($"Content-Encoding '{Domain.Validation.JsonFields.Truncate(coding)}' is not accepted; send the body as it is or in one of: {Accepted}."));
        var tooLarge = Problems.PayloadTooLarge(coding is "" or "identity" ? $"The body exceeds {maxBytes} bytes." : $"The body exceeds {maxBytes} bytes once decompressed.");

        var raw = await ReadAllAsync(request, maxBytes, ct);
        if (raw is null) return new Read(default, tooLarge);
        if (coding is "" or "identity") return new Read(raw.Value, null);

        var broken = Problems.Validation("body", $"is not complete {coding} data, as its Content-Encoding says it is (cut off, corrupt, or several gzip members)");
        try
        {
            var decoded = coding == "br" ? Brotli(raw.Value.Span, maxBytes) : Inflate(raw.Value, coding == "deflate", maxBytes);
            if (decoded is null) return new Read(default, tooLarge);
            return Whole(raw.Value.Span, decoded.Value.Span, coding) ? new Read(decoded.Value, null) : new Read(default, broken);
        }
        catch (InvalidDataException)
        {
            return new Read(default, broken);
        }
    }

    /// <summary>The bytes as sent, or null past <paramref name="maxBytes"/>.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadAllAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is > 0 and var n && n <= maxBytes ? (int)n : 64 * 1024);
        while (true)
        {
            int read;
            try
            {
                read = await request.Body.ReadAsync(buffer.GetMemory(16 * 1024), ct);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return null;
            }
            if (read == 0) return buffer.WrittenMemory;
            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes) return null;
        }
    }

    /// <summary>gzip or zlib (HTTP's "deflate") data decoded, or null past <paramref name="maxBytes"/>.</summary>
    private static ReadOnlyMemory<byte>? Inflate(ReadOnlyMemory<byte> raw, bool zlib, int maxBytes)
    {
        // The bytes read are an array already: wrapped, not copied.
        using var source = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(raw, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(raw.ToArray(), writable: false);
        using Stream decoder = zlib ? new ZLibStream(source, CompressionMode.Decompress) : new GZipStream(source, CompressionMode.Decompress);
        var output = new ArrayBufferWriter<byte>(Math.Min(maxBytes + 1, Math.Max(raw.Length * 4, 4096)));
        while (true)
        {
            var read = decoder.Read(output.GetSpan(16 * 1024));
            if (read == 0) return output.WrittenMemory;
            output.Advance(read);
            if (output.WrittenCount > maxBytes) return null;
        }
    }

    /// <summary>Brotli data decoded, or null past <paramref name="maxBytes"/>; cut-off or corrupt data throws <see cref="InvalidDataException"/>.</summary>
    private static ReadOnlyMemory<byte>? Brotli(ReadOnlySpan<byte> source, int maxBytes)
    {
        using var decoder = new BrotliDecoder();
        var output = new ArrayBufferWriter<byte>(Math.Min(maxBytes + 1, Math.Max(source.Length * 4, 4096)));
        while (true)
        {
            var status = decoder.Decompress(source, output.GetSpan(64 * 1024), out var consumed, out var written);
            source = source[consumed..];
            output.Advance(written);
            if (output.WrittenCount > maxBytes) return null;
            switch (status)
            {
                case System.Buffers.OperationStatus.Done when source.IsEmpty:
                    return output.WrittenMemory;
                case System.Buffers.OperationStatus.DestinationTooSmall:
                    continue;
                default: // invalid data, data cut off (more needed), or bytes after the end
                    throw new InvalidDataException("not complete brotli data");
            }
        }
    }

    /// <summary>
    /// Whether gzip or zlib data ended with its trailer, checked against what was decoded: the gzip
    /// length (ISIZE, of its one member), the zlib Adler-32. A cut-off stream decodes to a prefix with no
    /// error, and only this tells. (Brotli says so itself.)
    /// </summary>
    private static bool Whole(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> decoded, string coding) => coding switch
    {
        "br" => true,
        "deflate" => raw.Length >= 6 && BinaryPrimitives.ReadUInt32BigEndian(raw[^4..]) == Adler32(decoded),
        _ => raw.Length >= 18 && BinaryPrimitives.ReadUInt32LittleEndian(raw[^4..]) == unchecked((uint)decoded.Length),
    };

    private static uint Adler32(ReadOnlySpan<byte> data)
    {
        const uint Mod = 65521;
        uint a = 1, b = 0;
        while (!data.IsEmpty)
        {
            // 5552 bytes is the most that can be summed before the sums must be reduced (zlib's NMAX).
            var chunk = data[..Math.Min(5552, data.Length)];
            foreach (var x in chunk)
            {
                a += x;
                b += a;
            }
            a %= Mod;
            b %= Mod;
            data = data[chunk.Length..];
        }
        return (b << 16) | a;
    }
}
