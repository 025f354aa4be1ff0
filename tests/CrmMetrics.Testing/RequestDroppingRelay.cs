using System.Text;

namespace CrmMetrics.Testing;

/// <summary>
/// A relay in front of one storage port that drops the requests a test picks by their request line
/// (<c>GET /devstoreaccount1/queue/messages?… HTTP/1.1</c>): storage never hears of them and the client
/// waits for an answer that never comes, as from storage that hung on that one request, while every
/// other request goes through.
/// </summary>
public sealed class RequestDroppingRelay(int targetPort) : TcpRelay(targetPort)
{
    /// <summary>Given each request's first line, whether to drop that request; null drops none. Called from several connections at once.</summary>
    public Func<string, bool>? Drop { get; set; }

    protected override ValueTask<bool> ForwardAsync(ReadOnlyMemory<byte> read, bool request)
    {
        if (!request || Drop is not { } drop || RequestLine(read.Span) is not { } line) return ValueTask.FromResult(true);
        return ValueTask.FromResult(!drop(line));
    }

    /// <summary>The request line a read starts with; null for a read that does not start a request (the rest of a body).</summary>
    private static string? RequestLine(ReadOnlySpan<byte> read)
    {
        var end = read.IndexOf("\r\n"u8);
        if (end < 0) return null;
        var line = Encoding.ASCII.GetString(read[..end]);
        return line.EndsWith(" HTTP/1.1", StringComparison.Ordinal) ? line : null;
    }
}
