using System.Buffers;

namespace CrmMetrics.Functions.Hosting;

/// <summary>Reads request bodies with a size limit, whatever the Content-Length header claims.</summary>
public static class RequestBodies
{
    /// <summary>The body, or null when it is longer than <paramref name="maxBytes"/>.</summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is > 0 and var n && n <= maxBytes ? (int)n : 64 * 1024);
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            int read;
            try
            {
                read = await request.Body.ReadAsync(memory, ct);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return null;
            }
            if (read == 0) break;
            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes) return null;
        }
        return buffer.WrittenMemory;
    }
}
