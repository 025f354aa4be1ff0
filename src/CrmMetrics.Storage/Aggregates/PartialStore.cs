using System.IO.Compression;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Aggregates;

/// <summary>
/// Day partials as one compressed JSON blob per local day. Writing a blob replaces it whole and
/// atomically, so re-aggregating a day replaces its partials and a reader never sees half of one.
/// </summary>
public sealed class PartialStore(StorageAccount account)
{
    private readonly BlobContainerClient _container = account.Container(StorageNames.Containers.Partials);

    private static string Name(DateOnly day) => $"days/{StorageKeys.DayKey(day)}.json.gz";

    public async Task WriteAsync(DayPartial partial, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            await JsonSerializer.SerializeAsync(gzip, partial, StorageJson.Options, ct);
        }
        buffer.Position = 0;
        await _container.GetBlobClient(Name(partial.Day)).UploadAsync(buffer, overwrite: true, ct);
    }

    public async Task<DayPartial?> ReadAsync(DateOnly day, CancellationToken ct)
    {
        try
        {
            var download = await _container.GetBlobClient(Name(day)).DownloadStreamingAsync(cancellationToken: ct);
            await using var gzip = new GZipStream(download.Value.Content, CompressionMode.Decompress);
            var partial = await JsonSerializer.DeserializeAsync<DayPartial>(gzip, StorageJson.Options, ct);
            return partial is { Format: DayPartial.FormatVersion } ? partial : null;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>The partials of these days that exist (a day without facts has none), read in parallel.</summary>
    public async Task<IReadOnlyList<DayPartial>> ReadManyAsync(IEnumerable<DateOnly> days, CancellationToken ct)
    {
        var result = new System.Collections.Concurrent.ConcurrentBag<DayPartial>();
        await Parallel.ForEachAsync(days, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (day, token) =>
        {
            if (await ReadAsync(day, token) is { } partial) result.Add(partial);
        });
        return result.OrderBy(p => p.Day).ToList();
    }

    public async Task DeleteAsync(DateOnly day, CancellationToken ct) =>
        await _container.GetBlobClient(Name(day)).DeleteIfExistsAsync(cancellationToken: ct);
}
