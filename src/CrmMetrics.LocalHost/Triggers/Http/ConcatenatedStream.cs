namespace CrmMetrics.LocalHost.Triggers.Http;

/// <summary>
/// Reads one stream to its end, then another: a body whose start was already read, followed by the
/// rest. Forward-only and of unknown length, so an HTTP client sends it chunked.
/// </summary>
public sealed class ConcatenatedStream(Stream first, Stream second) : Stream
{
    private bool _firstDone;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0) return 0; // a zero-byte read says nothing about the end of the first stream
        if (!_firstDone)
        {
            var read = await first.ReadAsync(buffer, cancellationToken);
            if (read > 0) return read;
            _firstDone = true;
        }
        return await second.ReadAsync(buffer, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (count == 0) return 0;
        if (!_firstDone)
        {
            var read = first.Read(buffer, offset, count);
            if (read > 0) return read;
            _firstDone = true;
        }
        return second.Read(buffer, offset, count);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        // The request body is the server's to dispose; the held start is ours.
        if (disposing) first.Dispose();
        base.Dispose(disposing);
    }
}
