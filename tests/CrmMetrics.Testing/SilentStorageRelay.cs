namespace CrmMetrics.Testing;

/// <summary>
/// A relay in front of one storage port that can go silent: once <see cref="Silence"/> is called it
/// keeps taking connections and reading requests but forwards nothing and answers nothing, as storage
/// that is up but hung does, until <see cref="Resume"/>. What it read while silent is dropped (the
/// client gives up on those connections).
/// </summary>
public sealed class SilentStorageRelay(int targetPort) : TcpRelay(targetPort)
{
    private volatile bool _silent;
    private int _dropped;

    /// <summary>How many reads of request bytes were dropped while silent.</summary>
    public int DroppedReads => Volatile.Read(ref _dropped);

    public void Silence() => _silent = true;

    public void Resume() => _silent = false;

    protected override ValueTask<bool> ForwardAsync(ReadOnlyMemory<byte> read, bool request)
    {
        if (!request || !_silent) return ValueTask.FromResult(true);
        Interlocked.Increment(ref _dropped);
        return ValueTask.FromResult(false);
    }
}
