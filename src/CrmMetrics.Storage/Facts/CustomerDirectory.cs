using System.Collections.Concurrent;
using Azure.Data.Tables;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>
/// Every customer's segment and region, cached in memory for the map step. The cache is loaded once
/// by scanning the customers table, then kept current from the change log that ingestion writes
/// whenever a customer's dimension changes; every instance converges on the same table state, so
/// nothing depends on which instance ran what.
/// </summary>
public sealed class CustomerDirectory(CustomerStore store)
{
    // Change rows may become visible slightly out of timestamp order; re-reading a margin is harmless.
    // A change row carries its writer's clock and may land a moment after a reader passed that time;
    // re-reading the last minute covers both (re-applying a change is harmless).
    private static readonly TimeSpan Overlap = TimeSpan.FromMinutes(1);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private ConcurrentDictionary<string, CustomerDimension>? _dimensions;
    private DateTimeOffset _watermark;
    private readonly ConcurrentDictionary<string, string> _labels = new(StringComparer.Ordinal);

    public int Count => _dimensions?.Count ?? 0;

    /// <summary>How many refreshes read the table (the others were served by a concurrent one).</summary>
    public long Reads => Interlocked.Read(ref _reads);
    private long _reads;

    /// <summary>
    /// Brings the cache up to date with the table as of this call; call before a batch of lookups.
    /// Concurrent callers share the work: one that waited while another refresh began after it
    /// asked finds the cache current already and returns without reading.
    /// </summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        var asked = DateTimeOffset.UtcNow;
        await _refresh.WaitAsync(ct);
        try
        {
            if (_dimensions is not null && _watermark >= asked) return;
            var started = DateTimeOffset.UtcNow;
            Interlocked.Increment(ref _reads);
            if (_dimensions is null)
            {
                var all = new ConcurrentDictionary<string, CustomerDimension>(StringComparer.Ordinal);
                await Parallel.ForEachAsync(StorageKeys.CustomerPartitions(), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (pk, token) =>
                {
                    await foreach (var e in store.Customers.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk}"),
                                       maxPerPage: 1000, select: ["RowKey", "HasAcquisition", "Segment", "Region"], cancellationToken: token))
                    {
                        if (CustomerStore.DimensionOf(e) is { } d) all[e.RowKey] = Intern(d);
                    }
                });
                _dimensions = all;
            }
            else
            {
                // Change rows are keyed by their time (ticks first), so only the new ones are read.
                var since = $"{(_watermark - Overlap).UtcTicks:D19}";
                for (var hour = Truncate(_watermark - Overlap); hour <= started; hour = hour.AddHours(1))
                {
                    await foreach (var e in store.Changes.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {StorageKeys.HourKey(hour)} and RowKey ge {since}"), cancellationToken: ct))
                    {
                        if (CustomerStore.DimensionOf(e) is { } d) _dimensions[e.GetString("CustomerId")!] = Intern(d);
                    }
                }
            }
            _watermark = started;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>
    /// Reads these customers' rows and caches those that have an acquisition; returns them. The
    /// map step asks this for the customers it could not attribute, so a dimension change whose
    /// log entry was lost (a crash between the row write and the log) is still found.
    /// </summary>
    public async Task<IReadOnlyCollection<string>> LookUpAsync(IReadOnlyCollection<string> customerIds, CancellationToken ct)
    {
        if (customerIds.Count == 0) return [];
        var found = await store.GetDimensionsAsync(customerIds, ct);
        if (_dimensions is not null)
        {
            foreach (var (id, d) in found) _dimensions[id] = Intern(d);
        }
        return found.Keys;
    }

    /// <summary>The customer's dimension; <c>null</c> when the customer has no known acquisition yet.</summary>
    public CustomerDimension? Find(string customerId) =>
        _dimensions is not null && _dimensions.TryGetValue(customerId, out var d) ? d : null;

    private CustomerDimension Intern(CustomerDimension d) =>
        new(d.Segment is null ? null : _labels.GetOrAdd(d.Segment, d.Segment), d.Region is null ? null : _labels.GetOrAdd(d.Region, d.Region));

    private static DateTimeOffset Truncate(DateTimeOffset t) => new(t.Year, t.Month, t.Day, t.Hour, 0, 0, TimeSpan.Zero);
}
