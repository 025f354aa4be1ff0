namespace CrmMetrics.Testing;

/// <summary>A body whose length the client cannot know, so <c>HttpClient</c> sends it chunked (no Content-Length).</summary>
public sealed class LengthUnknownStream(byte[] bytes) : MemoryStream(bytes)
{
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
}
