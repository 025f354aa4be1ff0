using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace CrmMetrics.Storage.Account;

/// <summary>Appending to append blobs that may not exist yet.</summary>
public static class AppendBlobs
{
    /// <summary>
    /// Appends one block, creating the blob first if it is not there. A caller that has not seen the
    /// blob yet says so (<paramref name="unseen"/>): it is then created (if missing) before the
    /// append, two requests, instead of an append that fails, a create and the append again.
    /// </summary>
    public static async Task AppendCreatingAsync(AppendBlobClient blob, byte[] block, bool unseen, CancellationToken ct)
    {
        if (unseen) await blob.CreateIfNotExistsAsync(cancellationToken: ct);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var content = new MemoryStream(block, writable: false);
                await blob.AppendBlockAsync(content, cancellationToken: ct);
                return;
            }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound && attempt < 5)
            {
                await blob.CreateIfNotExistsAsync(cancellationToken: ct);
            }
        }
    }
}
