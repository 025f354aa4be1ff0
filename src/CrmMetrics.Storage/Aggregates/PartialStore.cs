using System.IO.Compression;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Aggregates;

/// <summary>The partials of some days, and the days whose stored partial is of an older format (to aggregate again).</summary>
public sealed record StoredPartials(IReadOnlyList<DayPartial> Partials, IReadOnlyList<DateOnly> Outdated);

/// <summary>
/// Day partials as one compressed blob per local day (<see cref="DayPartialFormat"/>). Writing a blob
/// replaces it whole and atomically, so re-aggregating a day replaces its partials and a reader never
/// sees half of one. Days aggregated before the binary format have a JSON blob under the old name;
/// readers report them as outdated, so they are aggregated again before they are used.
/// </summary>
public sealed class PartialStore
{
    private const int ParallelReads = 16;
    private readonly BlobContainerClient _container;
    private readonly GroupCall<DateOnly, IReadOnlyDictionary<DateOnly, ETag>> _versions;

    public PartialStore(StorageAccount account)
    {
        _container = account.Container(StorageNames.Containers.Partials);
        _versions = new(ListVersionsAsync);
    }

    private BlobClient Blob(DateOnly day) => _container.GetBlobClient($"days/{StorageKeys.DayKey(day)}.bin.gz");

    private BlobClient LegacyBlob(DateOnly day) => _container.GetBlobClient($"days/{StorageKeys.DayKey(day)}.json.gz");

    /// <summary>The days before <paramref name="before"/> that have a stored partial (were aggregated), from one listing.</summary>
    public async Task<IReadOnlyList<DateOnly>> DaysBeforeAsync(DateOnly before, CancellationToken ct)
    {
        var days = new SortedSet<DateOnly>();
        await foreach (var blob in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "days/", ct))
        {
            // days/yyyyMMdd.bin.gz (and the older .json.gz)
            var name = blob.Name["days/".Length..];
            if (name.Length > 8 && name[8] == '.' && StorageKeys.TryParseDayKey(name[..8], out var day) && day < before) days.Add(day);
        }
        return [.. days];
    }

    /// <summary>Whether any day summary is stored (any day was ever aggregated).</summary>
    public async Task<bool> AnyAsync(CancellationToken ct)
    {
        await foreach (var page in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "days/", ct).AsPages(pageSizeHint: 1))
        {
            return page.Values.Count > 0 || page.ContinuationToken is { Length: > 0 };
        }
        return false;
    }

    /// <summary>
    /// The version of the day's stored partial (its blob's ETag), or null when the day has none. Given
    /// to <see cref="TryReplaceAsync"/> or <see cref="TryDeleteAsync"/>, it keeps an aggregation from
    /// replacing a partial that another one stored after this version was read. Days that callers ask
    /// for at the same time share one listing.
    /// </summary>
    public async Task<ETag?> VersionAsync(DateOnly day, CancellationToken ct)
    {
        var versions = await _versions.AddAsync([day], ct);
        return versions.TryGetValue(day, out var version) ? version : null;
    }

    /// <summary>
    /// Stores the day's partial if the stored one is still at <paramref name="seen"/> (null: if the day
    /// still has none). Returns false, having written nothing, when another partial was stored since.
    /// </summary>
    public async Task<bool> TryReplaceAsync(DayPartial partial, ETag? seen, CancellationToken ct)
    {
        var conditions = seen is { } version ? new BlobRequestConditions { IfMatch = version } : new BlobRequestConditions { IfNoneMatch = ETag.All };
        try
        {
            await Blob(partial.Day).UploadAsync(Encode(partial), new BlobUploadOptions { Conditions = conditions }, ct);
            return true;
        }
        catch (RequestFailedException e) when (IsRefusal(e))
        {
            return false;
        }
    }

    /// <summary>
    /// Removes the day's partial (a day left without facts) if it is still at <paramref name="seen"/>;
    /// returns false, having removed nothing, when another partial was stored or removed since. A day
    /// that had none is left as it is: a partial stored since is another aggregation's, of newer facts.
    /// The JSON partial of an older format goes too.
    /// </summary>
    public async Task<bool> TryDeleteAsync(DateOnly day, ETag? seen, CancellationToken ct)
    {
        if (seen is { } version)
        {
            try
            {
                await Blob(day).DeleteAsync(conditions: new BlobRequestConditions { IfMatch = version }, cancellationToken: ct);
            }
            catch (RequestFailedException e) when (IsRefusal(e))
            {
                return false;
            }
        }
        await DeleteLegacyAsync(day, ct);
        return true;
    }

    /// <summary>
    /// A condition that did not hold: the blob changed (412), exists already (409), or went (404).
    /// Any other failure, a missing container included, is an error.
    /// </summary>
    private static bool IsRefusal(RequestFailedException e) =>
        e.ErrorCode is "ConditionNotMet" or "BlobAlreadyExists" or "BlobNotFound" || (e.Status == 412 && e.ErrorCode is null);

    /// <summary>
    /// The ETags of the days' partials that exist, from one listing per year under those days' common
    /// name prefix (a listing across years would go through every partial of the years between).
    /// </summary>
    internal async Task<IReadOnlyDictionary<DateOnly, ETag>> ListVersionsAsync(List<DateOnly> days)
    {
        var listings = days.Distinct().GroupBy(day => day.Year).Select(async year =>
        {
            var wanted = year.ToDictionary(day => Blob(day).Name, day => day, StringComparer.Ordinal);
            var prefix = wanted.Keys.Aggregate((common, name) => common[..CommonLength(common, name)]);
            var found = new List<(DateOnly Day, ETag Version)>();
            await foreach (var blob in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, CancellationToken.None))
            {
                // A listing gives ETags without the quotes that response headers carry; conditions use the quoted form.
                if (wanted.TryGetValue(blob.Name, out var day) && blob.Properties.ETag is { } etag) found.Add((day, Quoted(etag)));
            }
            return found;
        });
        return (await Task.WhenAll(listings)).SelectMany(found => found).ToDictionary(f => f.Day, f => f.Version);
    }

    private static ETag Quoted(ETag etag)
    {
        var text = etag.ToString();
        return text.StartsWith('"') || text.StartsWith("W/", StringComparison.Ordinal) ? etag : new ETag($"\"{text}\"");
    }

    private static int CommonLength(string a, string b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n]) n++;
        return n;
    }

    /// <summary>A partial as its blob holds it: <see cref="DayPartialFormat"/>, compressed.</summary>
    public static BinaryData Encode(DayPartial partial)
    {
        var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var bytes = new BufferedStream(gzip, 64 * 1024))
        {
            DayPartialFormat.Write(bytes, partial);
        }
        return new BinaryData(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    /// <summary>
    /// The partials of these days that exist (a day without facts has none), downloaded and
    /// decompressed in parallel into pooled buffers, then read in day order into
    /// <paramref name="labels"/>, which they then share (the labels are not thread-safe, so that
    /// part is sequential; a label already known is found from its bytes, so it allocates little).
    /// </summary>
    public async Task<StoredPartials> ReadManyAsync(IEnumerable<DateOnly> days, FactLabels labels, CancellationToken ct)
    {
        var downloads = new System.Collections.Concurrent.ConcurrentDictionary<DateOnly, PlainBytes>();
        var outdated = new System.Collections.Concurrent.ConcurrentBag<DateOnly>();
        try
        {
            await Parallel.ForEachAsync(days, new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = ct }, async (day, token) =>
            {
                if (await DownloadAsync(day, token) is { } plain) downloads[day] = plain;
                else if ((await LegacyBlob(day).ExistsAsync(token)).Value) outdated.Add(day);
            });
            var partials = new List<DayPartial>(downloads.Count);
            foreach (var (day, plain) in downloads.OrderBy(d => d.Key))
            {
                if (DayPartialFormat.Read(plain.Span, labels) is { } partial) partials.Add(partial);
                else outdated.Add(day);
            }
            return new StoredPartials(partials, outdated.Order().ToList());
        }
        finally
        {
            foreach (var plain in downloads.Values) plain.Dispose();
        }
    }

    /// <summary>Removes the day's partial of the JSON format, once the day has been aggregated again.</summary>
    public async Task DeleteLegacyAsync(DateOnly day, CancellationToken ct) =>
        await LegacyBlob(day).DeleteIfExistsAsync(cancellationToken: ct);

    /// <summary>The day's partial, inflated as it downloads into a pooled buffer; null when the day has none.</summary>
    private async Task<PlainBytes?> DownloadAsync(DateOnly day, CancellationToken ct)
    {
        Response<BlobDownloadStreamingResult> download;
        try
        {
            download = await Blob(day).DownloadStreamingAsync(cancellationToken: ct);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        using var result = download.Value;
        return await PlainBytes.InflateAsync(result.Content, result.Details.ContentLength, ct);
    }

    /// <summary>
    /// A decompressed partial in a pooled buffer. It is inflated straight from the download, so the
    /// compressed bytes are never held whole (3.3 MB a month at a million facts, each day's in a
    /// buffer of its own on the large-object heap).
    /// </summary>
    private sealed class PlainBytes : IDisposable
    {
        private byte[] _buffer;
        private int _length;

        private PlainBytes(int capacity) => _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 256));

        public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

        /// <summary>Inflates a gzip stream of <paramref name="compressedLength"/> bytes (a first guess at the size; the buffer grows as needed).</summary>
        public static async Task<PlainBytes> InflateAsync(Stream compressed, long compressedLength, CancellationToken ct)
        {
            var plain = new PlainBytes((int)Math.Clamp(compressedLength * 4, 256, 64 << 20));
            try
            {
                await using var gzip = new GZipStream(compressed, CompressionMode.Decompress);
                while (true)
                {
                    if (plain._length == plain._buffer.Length) plain.Grow();
                    var read = await gzip.ReadAsync(plain._buffer.AsMemory(plain._length), ct);
                    if (read == 0) return plain;
                    plain._length += read;
                }
            }
            catch
            {
                plain.Dispose();
                throw;
            }
        }

        private void Grow()
        {
            var larger = System.Buffers.ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, _length).CopyTo(larger);
            System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        public void Dispose() => System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
    }
}
