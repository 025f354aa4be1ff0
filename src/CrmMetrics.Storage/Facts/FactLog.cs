using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>
/// The facts of each UTC day as an append blob log: <see cref="FactLogFormat"/> blocks, in the order
/// the appends landed (an append carries one writer's block, or several laid end to end). An append
/// blob holds at most 50,000 blocks, so a day's log is a run of segments (<c>yyyyMMdd/00000</c>, <c>/00001</c>, …); a writer moves to the next
/// segment only when the current one is full, so the segments have no gaps, and a segment that was
/// short of full when it was read had no successor then. The log itself does not deduplicate: a
/// block appended twice (a retried request) shows its facts twice, and readers keep an id's first
/// occurrence.
/// </summary>
/// <param name="container">The container of the logs.</param>
/// <param name="segmentBlocks">
/// The blocks a segment holds when full: the service's limit for an append blob. Only tests set
/// another (a real full segment takes 50,000 appends).
/// </param>
public sealed class FactLog(BlobContainerClient container, int segmentBlocks = FactLog.SegmentBlocks)
{
    /// <summary>The most blocks an append blob holds (the storage service's limit).</summary>
    private const int SegmentBlocks = 50_000;

    /// <summary>The download header that states how many blocks an append blob held.</summary>
    private const string CommittedBlockCountHeader = "x-ms-blob-committed-block-count";

    /// <summary>
    /// The segment each day was last appended to by this process, so a full segment is tried once and
    /// a segment known to exist is appended to without creating it first.
    /// </summary>
    private readonly ConcurrentDictionary<DateOnly, int> _segments = new();

    public static string SegmentName(DateOnly utcDay, int segment) => $"{StorageKeys.DayKey(utcDay)}/{segment:D5}";

    /// <summary>Each day's appends of this process: writers that append to one day at about the same time share requests.</summary>
    private readonly ConcurrentDictionary<DateOnly, GroupCommit<byte[]>> _appends = new();

    /// <summary>
    /// Appends facts of one UTC day, in blocks of at most 4 MiB; returns once they are in the log.
    /// Blocks that writers of this process append to the same day at about the same time go in one
    /// append (blocks laid end to end, as separate appends would leave them, up to 4 MiB a request).
    /// Cancelling stops the wait, not an append the facts already joined.
    /// </summary>
    public Task AppendAsync(DateOnly utcDay, IEnumerable<Fact> facts, CancellationToken cancellationToken) =>
        _appends.GetOrAdd(utcDay, day => new GroupCommit<byte[]>(blocks => AppendGroupAsync(day, blocks)))
            .AddAsync(FactLogFormat.Blocks(facts).ToList(), cancellationToken);

    private async Task AppendGroupAsync(DateOnly utcDay, List<byte[]> blocks)
    {
        // The append serves several writers: none of them can cancel it for the others.
        foreach (var joined in FactLogFormat.Joined(blocks)) await AppendBlockAsync(utcDay, joined, CancellationToken.None);
    }

    private async Task AppendBlockAsync(DateOnly utcDay, byte[] block, CancellationToken ct)
    {
        // Each full segment moves the writer on by one; segments are finite, so this ends.
        var known = _segments.TryGetValue(utcDay, out var first);
        for (var segment = first; ; segment++)
        {
            try
            {
                // A segment this process has not appended to yet is most likely new (facts of a day
                // arrive around that day, and a moved-on writer starts a fresh segment).
                var unseen = !known || segment != first;
                await AppendBlobs.AppendCreatingAsync(container.GetAppendBlobClient(SegmentName(utcDay, segment)), block, unseen, ct);
                _segments[utcDay] = segment;
                return;
            }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlockCountExceedsLimit)
            {
            }
        }
    }

    /// <summary>Every fact logged for the UTC day, in log order (repeats included).</summary>
    public async IAsyncEnumerable<Fact> ReadAsync(DateOnly utcDay, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var block in ReadBlocksAsync(utcDay, cancellationToken))
        {
            foreach (var fact in FactLogFormat.Decode(block)) yield return fact;
        }
    }

    /// <summary>
    /// The UTC day's log as blocks, in log order; each is valid only until the next is asked for.
    /// A segment's download states how many blocks it held; one short of full ends the log, so a day
    /// of one segment costs one request rather than a second that answers 404. Facts appended after
    /// a segment was read may be missed, as they would be had they come a moment later.
    /// </summary>
    public async IAsyncEnumerable<FactBlock> ReadBlocksAsync(DateOnly utcDay, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var opened = Open(utcDay, cancellationToken);
        await foreach (var block in ReadBlocksAsync(opened, cancellationToken)) yield return block;
    }

    /// <summary>
    /// Starts fetching the UTC day's log (its first segment), to be read with
    /// <see cref="ReadBlocksAsync(OpenedLog, CancellationToken)"/>: a reader of several days opens them
    /// all at once and waits for one round trip, not one per day. Dispose it once read or given up.
    /// </summary>
    public OpenedLog Open(DateOnly utcDay, CancellationToken cancellationToken) =>
        new(utcDay, OpenAsync(SegmentName(utcDay, 0), cancellationToken));

    /// <summary>The blocks of a log opened with <see cref="Open"/>, as <see cref="ReadBlocksAsync(DateOnly, CancellationToken)"/> gives them.</summary>
    public async IAsyncEnumerable<FactBlock> ReadBlocksAsync(OpenedLog opened, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var segment = 0; ; segment++)
        {
            var download = segment == 0 ? await opened.First : await OpenAsync(SegmentName(opened.UtcDay, segment), cancellationToken);
            if (download is null) yield break;
            await using (download.Content)
            {
                await foreach (var block in FactLogFormat.ReadBlocksAsync(download.Content, cancellationToken)) yield return block;
            }
            // Without the count (a service that leaves the header out) the next segment is asked for, as before.
            if (download.Blocks is { } blocks && blocks < segmentBlocks) yield break;
        }
    }

    /// <summary>A UTC day's log whose first segment is being fetched; disposing it lets go of a download nobody read.</summary>
    public sealed class OpenedLog : IAsyncDisposable
    {
        internal OpenedLog(DateOnly utcDay, Task<SegmentDownload?> first) => (UtcDay, First) = (utcDay, first);

        public DateOnly UtcDay { get; }

        internal Task<SegmentDownload?> First { get; }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (await First is { } download) await download.Content.DisposeAsync();
            }
            catch (Exception)
            {
                // A fetch that failed or was cancelled holds nothing; whoever read it saw the failure.
            }
        }
    }

    /// <summary>A segment's content as it streams in, and how many blocks it held (when the service says).</summary>
    internal sealed record SegmentDownload(Stream Content, int? Blocks);

    private async Task<SegmentDownload?> OpenAsync(string name, CancellationToken ct)
    {
        try
        {
            var response = await container.GetBlobClient(name).DownloadStreamingAsync(cancellationToken: ct);
            var counted = response.GetRawResponse().Headers.Contains(CommittedBlockCountHeader);
            return new SegmentDownload(response.Value.Content, counted ? response.Value.Details.BlobCommittedBlockCount : null);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }
}
