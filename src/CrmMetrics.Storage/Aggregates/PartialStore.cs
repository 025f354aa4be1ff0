using System.IO.Compression;
using Azure;
using Azure.Storage.Blobs;
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
public sealed class PartialStore(StorageAccount account)
{
    private const int ParallelReads = 16;
    private readonly BlobContainerClient _container = account.Container(StorageNames.Containers.Partials);

    private BlobClient Blob(DateOnly day) => _container.GetBlobClient($"days/{StorageKeys.DayKey(day)}.bin.gz");

    private BlobClient LegacyBlob(DateOnly day) => _container.GetBlobClient($"days/{StorageKeys.DayKey(day)}.json.gz");

    public async Task WriteAsync(DayPartial partial, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        await using (var bytes = new BufferedStream(gzip, 64 * 1024))
        {
            DayPartialFormat.Write(bytes, partial);
        }
        buffer.Position = 0;
        await Blob(partial.Day).UploadAsync(buffer, overwrite: true, ct);
    }

    /// <summary>
    /// The partials of these days that exist (a day without facts has none). Downloaded,
    /// decompressed and parsed in parallel, each into labels of its own; then joined, in day order,
    /// to <paramref name="labels"/>, which they then share. Labels are not thread-safe, so only the
    /// join is sequential, and it looks each day's labels up once rather than once per cell.
    /// </summary>
    public async Task<StoredPartials> ReadManyAsync(IEnumerable<DateOnly> days, FactLabels labels, CancellationToken ct)
    {
        var read = new System.Collections.Concurrent.ConcurrentDictionary<DateOnly, DayPartial>();
        var outdated = new System.Collections.Concurrent.ConcurrentBag<DateOnly>();
        await Parallel.ForEachAsync(days, new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = ct }, async (day, token) =>
        {
            var bytes = await DownloadAsync(day, token);
            if (bytes is null)
            {
                if ((await LegacyBlob(day).ExistsAsync(token)).Value) outdated.Add(day);
                return;
            }
            using var plain = Decompressed(bytes);
            if (DayPartialFormat.Read(plain, new FactLabels()) is { } partial) read[day] = partial;
            else outdated.Add(day);
        });
        var partials = new List<DayPartial>(read.Count);
        foreach (var (_, partial) in read.OrderBy(d => d.Key))
        {
            partial.Orders = partial.Orders.Relabelled(labels);
            partials.Add(partial);
        }
        return new StoredPartials(partials, outdated.Order().ToList());
    }

    /// <summary>Removes the day's partial (a day left without facts).</summary>
    public async Task DeleteAsync(DateOnly day, CancellationToken ct)
    {
        await Blob(day).DeleteIfExistsAsync(cancellationToken: ct);
        await DeleteLegacyAsync(day, ct);
    }

    /// <summary>Removes the day's partial of the JSON format, once the day has been aggregated again.</summary>
    public async Task DeleteLegacyAsync(DateOnly day, CancellationToken ct) =>
        await LegacyBlob(day).DeleteIfExistsAsync(cancellationToken: ct);

    private async Task<BinaryData?> DownloadAsync(DateOnly day, CancellationToken ct)
    {
        try
        {
            return (await Blob(day).DownloadContentAsync(ct)).Value.Content;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private static MemoryStream Decompressed(BinaryData bytes)
    {
        using var gzip = new GZipStream(bytes.ToStream(), CompressionMode.Decompress);
        var plain = new MemoryStream();
        gzip.CopyTo(plain);
        plain.Position = 0;
        return plain;
    }
}
