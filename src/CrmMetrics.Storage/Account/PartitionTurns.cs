using System.Collections.Concurrent;

namespace CrmMetrics.Storage.Account;

/// <summary>
/// One caller at a time per partition, within this process. The customer and case stores take a
/// partition's turn around its read-merge-write: concurrent requests that touch the same customer or
/// case then meet each other's rows in the <see cref="RowCache"/>, instead of in a transaction that
/// fails (409 or 412) and a second round of reads and writes. Other instances still race; the ETag
/// checks settle that as before. The keys are a store's shards, so the gates are few and kept.
/// </summary>
public sealed class PartitionTurns
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    /// <summary>Waits for the partition's turn; disposing the result ends it.</summary>
    public async Task<Turn> EnterAsync(string partitionKey, CancellationToken ct)
    {
        var gate = _gates.GetOrAdd(partitionKey, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        return new Turn(gate);
    }

    public sealed class Turn : IDisposable
    {
        private SemaphoreSlim? _gate;

        internal Turn(SemaphoreSlim gate) => _gate = gate;

        public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release();
    }
}
