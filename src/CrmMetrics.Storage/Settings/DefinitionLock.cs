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
/// instances a lease on one blob decides. The holder renews the lease while it works; if it dies, the
/// lease runs out on its own. Definitions change rarely, by hand: waiting for one another costs nothing that matters.
/// </summary>
public sealed class DefinitionLock(StorageAccount account, string name = "definitions")
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(10);
    // Longer than a lease, so a holder that died is outlived.
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan ReleaseWithin = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim _turn = new(1, 1);

    /// <summary>Waits for the lock; dispose the result to release it. Gives up with <see cref="ConcurrentChangeException"/>.</summary>
    public async Task<IAsyncDisposable> AcquireAsync(CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        if (!await _turn.WaitAsync(MaxWait, ct)) throw GaveUp();
        try
        {
            var container = account.Container(StorageNames.Containers.Locks);
            var blob = container.GetBlobClient(name);
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
                    await container.CreateIfNotExistsAsync(cancellationToken: ct);
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

    /// <summary>The lease while a change works: renewed in the background, released (briefly tried) when the change is done.</summary>
    private sealed class Held : IAsyncDisposable
    {
        private readonly DefinitionLock _owner;
        private readonly BlobLeaseClient _lease;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _renewing;
        private int _released;

        public Held(DefinitionLock owner, BlobLeaseClient lease)
        {
            _owner = owner;
            _lease = lease;
            _renewing = RenewAsync(_stop.Token);
        }

        private async Task RenewAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(RenewEvery, stop);
                    await _lease.RenewAsync(cancellationToken: stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception)
                {
                    // Tried again at the next turn; a lease not renewed for 30 s lapses.
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 1) return;
            try
            {
                await _stop.CancelAsync();
                await _renewing;
                // The change is stored by now: a release that fails must not turn it into an error, and need
                // not be waited for long, since the lease lapses on its own.
                using var within = new CancellationTokenSource(ReleaseWithin);
                await _lease.ReleaseAsync(cancellationToken: within.Token);
            }
            catch (Exception)
            {
                // The lease runs out on its own.
            }
            finally
            {
                _stop.Dispose();
                _owner._turn.Release();
            }
        }
    }
}
