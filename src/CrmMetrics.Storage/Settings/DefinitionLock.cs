using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Settings;

/// <summary>
/// One change to the definitions (goals, incentive plans, alert rules, derived indicators) at a time,
/// across every instance of the app. Their rules span documents and tables (no cycle of goals or of
/// derived indicators, no reference to one deleted, a staff member in one plan of a grain): a change
/// is checked against the others and written while it holds this lock, so two changes made at once
/// cannot both pass checks that together they break. Within an instance the changes take turns; across
/// instances a lease on one blob decides, and it expires on its own if its holder dies.
/// Definitions change rarely, by hand: waiting for one another costs nothing that matters.
/// </summary>
public sealed class DefinitionLock(StorageAccount account)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(15);
    // Longer than a lease, so a holder that died is outlived.
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(20);
    private readonly SemaphoreSlim _turn = new(1, 1);

    /// <summary>Waits for the lock; dispose the result to release it. Gives up with <see cref="ConcurrentChangeException"/>.</summary>
    public async Task<IAsyncDisposable> AcquireAsync(CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        if (!await _turn.WaitAsync(MaxWait, ct)) throw GaveUp();
        try
        {
            var blob = account.Container(StorageNames.Containers.Locks).GetBlobClient("definitions");
            var lease = blob.GetBlobLeaseClient();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await lease.AcquireAsync(Lease, cancellationToken: ct);
                    return new Held(this, lease);
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    // First use: the blob (and perhaps its container) does not exist yet.
                    await account.Container(StorageNames.Containers.Locks).CreateIfNotExistsAsync(cancellationToken: ct);
                    try { await blob.UploadAsync(BinaryData.FromString(""), overwrite: false, ct); }
                    catch (RequestFailedException exists) when (exists.Status is 409 or 412) { }
                }
                catch (RequestFailedException e) when (e.Status == 409 && e.ErrorCode == BlobErrorCode.LeaseAlreadyPresent)
                {
                    if (started.Elapsed > MaxWait) throw GaveUp();
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(20, 80) * Math.Min(attempt, 5)), ct);
                }
            }
        }
        catch
        {
            _turn.Release();
            throw;
        }
    }

    private static ConcurrentChangeException GaveUp() =>
        new($"Another change to the definitions held them for more than {MaxWait.TotalSeconds:0} s; nothing was changed.");

    private sealed class Held(DefinitionLock owner, BlobLeaseClient lease) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 1) return;
            try
            {
                await lease.ReleaseAsync(cancellationToken: CancellationToken.None);
            }
            catch (RequestFailedException)
            {
                // Storage did not answer: the lease runs out on its own.
            }
            finally
            {
                owner._turn.Release();
            }
        }
    }
}
