using System.Collections.Concurrent;
using Azure.Data.Tables;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Lifecycle;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>
/// What the map step knows about customers and their complaint cases, in memory, so aggregating a
/// day reads no row per customer or per case: every customer's lifecycle timeline (and so their
/// segment and region), loaded once by scanning the customers table, and the complaint cases changed
/// lately (at most <see cref="MaxCases"/>, the oldest forgotten first). Both are kept current from the
/// <see cref="StateFeed"/>. Entries merge facts by id, so every instance converges on the stored
/// state whatever it read in which order; what is not here is read from the tables, and kept.
/// <para>
/// A refresh reads the feed from where the last one left off (less the feed's lookback), however
/// long ago that was: an instance refreshes only when it aggregates a day, so runs apart (15
/// minutes) or an instance that aggregated nothing for a while must still see every change made
/// in between. Past <see cref="MaxCatchUp"/> it scans the table again instead, as on the first load.
/// </para>
/// </summary>
public sealed class CustomerDirectory(CustomerStore customers, ComplaintStore complaints, TimeProvider? clock = null)
{
    public const int MaxCases = 200_000;

    /// <summary>
    /// The longest time since the last refresh that the feed is read over; after a longer gap the
    /// table is scanned again and the cases held are forgotten. Reading the feed costs a request per
    /// bucket changed since (360 for an hour of steady ingestion, read one after another), and grows
    /// with the gap (8,640 a day); a scan costs a request per partition and per 1,000 customers, and
    /// every later day then reads its resolved cases again once.
    /// </summary>
    public static readonly TimeSpan MaxCatchUp = TimeSpan.FromHours(1);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly FeedPosition _position = new();
    private ConcurrentDictionary<string, CustomerEntry>? _customers;
    private readonly RecentCases _cases = new(MaxCases);
    private DateTimeOffset _watermark;
    private readonly ConcurrentDictionary<string, string> _labels = new(StringComparer.Ordinal);

    /// <summary>A customer's facts as the timeline holds them, and the dimension they give.</summary>
    private sealed record CustomerEntry(LifecycleEvent[] Events, CustomerDimension? Dimension);

    public int Count => _customers?.Count ?? 0;

    /// <summary>How many refreshes read the table or the feed (the others were served by a concurrent one).</summary>
    public long Reads => Interlocked.Read(ref _reads);
    private long _reads;

    /// <summary>
    /// Brings the directory up to date with what was stored before this call; call before a batch of
    /// lookups. Concurrent callers share the work: one that waited while another refresh began after
    /// it asked finds the directory current already and returns without reading.
    /// </summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        var asked = _clock.GetUtcNow();
        await _refresh.WaitAsync(ct);
        try
        {
            if (_customers is not null && _watermark >= asked) return;
            var started = _clock.GetUtcNow();
            Interlocked.Increment(ref _reads);
            var entries = _customers ?? new ConcurrentDictionary<string, CustomerEntry>(StringComparer.Ordinal);
            // Every change stored since the last refresh began is behind the head of a bucket from the
            // feed's lookback before it on (the writer's clock may be behind ours), so the feed is read
            // from there, not from the last minutes only: a change made between two runs would otherwise
            // never be read. After a gap longer than MaxCatchUp the table is scanned again instead, as on
            // the first load. Cases are not scanned: those held may lack a change made in the gap, so
            // they are forgotten, and read from their rows again as days need them.
            var scan = _customers is null || started - _watermark > MaxCatchUp;
            if (_customers is not null && scan) _cases.Clear();
            // When scanning, the feed is read before the table: what is stored meanwhile is in the
            // table scan or behind a bucket head that changes after this read. (The earlier instant of
            // the two, should this machine's clock have gone back since the last refresh.)
            var since = scan || started < _watermark ? started : _watermark;
            try
            {
                await foreach (var change in customers.Feed.ReadAsync(_position, since, ct))
                {
                    if (change.CustomerId is { } customerId) Merge(entries, customerId, change.Timeline!);
                    else _cases.Merge(change.CaseId!, change.Case!);
                }
                if (scan) await ScanAsync(entries, ct);
            }
            catch when (scan)
            {
                // What the feed gave a scan that failed goes with it: a first load's entries are dropped, and the
                // next refresh scans again and clears the cases again. The buckets it read must then be read again,
                // or a change whose feed entry was read here, and whose row is written only after the next scan
                // has passed it (the entry goes to the feed before the row), would reach neither.
                _position.Clear();
                throw;
            }
            if (scan) _customers = entries;
            _watermark = started;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Merges every customer row of the table into <paramref name="entries"/>, partitions read in parallel.</summary>
    private Task ScanAsync(ConcurrentDictionary<string, CustomerEntry> entries, CancellationToken ct) =>
        Parallel.ForEachAsync(StorageKeys.CustomerPartitions(), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (pk, token) =>
        {
            await foreach (var e in customers.Customers.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk}"),
                               maxPerPage: 1000, select: [.. CustomerStore.TimelineColumns, "RowKey"], cancellationToken: token))
            {
                Merge(entries, e.RowKey, CustomerStore.TimelineOf(e).Events);
            }
        });

    /// <summary>The customer's dimension; <c>null</c> when the customer has no known acquisition yet.</summary>
    public CustomerDimension? Find(string customerId) =>
        _customers is not null && _customers.TryGetValue(customerId, out var entry) ? entry.Dimension : null;

    /// <summary>These customers' timelines (those that have one), from memory or else from their rows.</summary>
    public async Task<IReadOnlyDictionary<string, CustomerTimeline>> TimelinesAsync(IReadOnlyCollection<string> customerIds, CancellationToken ct)
    {
        var result = new Dictionary<string, CustomerTimeline>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var id in customerIds)
        {
            if (_customers is not null && _customers.TryGetValue(id, out var entry)) result[id] = new CustomerTimeline(entry.Events);
            else missing.Add(id);
        }
        foreach (var (id, timeline) in await ReadAsync(missing, ct)) result[id] = timeline;
        return result;
    }

    /// <summary>These complaint cases (those that exist), from memory or else from their rows.</summary>
    public async Task<IReadOnlyDictionary<string, ComplaintCase>> CasesAsync(IReadOnlyCollection<string> caseIds, CancellationToken ct)
    {
        var result = new Dictionary<string, ComplaintCase>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var id in caseIds)
        {
            if (_cases.TryGet(id, out var events)) result[id] = new ComplaintCase(id, events);
            else missing.Add(id);
        }
        if (missing.Count == 0) return result;
        foreach (var (id, complaint) in await complaints.GetManyAsync(missing, ct))
        {
            _cases.Merge(id, complaint.Events);
            result[id] = complaint;
        }
        return result;
    }

    /// <summary>
    /// Reads these customers' rows and keeps them; returns those that have an acquisition. The map
    /// step asks this for the customers it could not attribute, so a change that the directory has
    /// not seen yet (or whose feed entry a crash lost) is still found.
    /// </summary>
    public async Task<IReadOnlyCollection<string>> LookUpAsync(IReadOnlyCollection<string> customerIds, CancellationToken ct)
    {
        if (customerIds.Count == 0) return [];
        return (await ReadAsync(customerIds, ct)).Where(t => t.Value.FirstAcquisition is not null).Select(t => t.Key).ToList();
    }

    private async Task<IReadOnlyDictionary<string, CustomerTimeline>> ReadAsync(IReadOnlyCollection<string> customerIds, CancellationToken ct)
    {
        if (customerIds.Count == 0) return new Dictionary<string, CustomerTimeline>();
        var read = await customers.GetTimelinesAsync(customerIds, ct);
        if (_customers is not null)
        {
            foreach (var (id, timeline) in read) Merge(_customers, id, timeline.Events);
        }
        return read;
    }

    /// <summary>Adds facts to a customer's entry (by fact id), with the labels interned: an entry per customer stays small.</summary>
    private void Merge(ConcurrentDictionary<string, CustomerEntry> entries, string customerId, IReadOnlyList<LifecycleEvent> events) =>
        entries.AddOrUpdate(customerId, (_, added) => Entry(added.Select(Intern)), (_, entry, added) =>
        {
            var known = entry.Events.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
            return added.All(e => known.Contains(e.Id)) ? entry : Entry(entry.Events.Concat(added.Where(e => !known.Contains(e.Id)).Select(Intern)));
        }, events);

    private static CustomerEntry Entry(IEnumerable<LifecycleEvent> events)
    {
        var timeline = new CustomerTimeline(events);
        return new CustomerEntry([.. timeline.Events], timeline.FirstAcquisition is null ? null : new CustomerDimension(timeline.Segment, timeline.Region));
    }

    private LifecycleEvent Intern(LifecycleEvent e) => e with
    {
        Segment = Intern(e.Segment), Region = Intern(e.Region), Channel = Intern(e.Channel), StaffId = Intern(e.StaffId),
    };

    private string? Intern(string? label) => label is null ? null : _labels.GetOrAdd(label, label);

    /// <summary>Complaint cases by id, at most a capacity of them: past it, the cases that came in first are forgotten.</summary>
    private sealed class RecentCases(int capacity)
    {
        private readonly ConcurrentDictionary<string, ComplaintEvent[]> _cases = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<string> _arrival = new();

        public bool TryGet(string caseId, out ComplaintEvent[] events) => _cases.TryGetValue(caseId, out events!);

        /// <summary>Forgets every case. The arrival order goes first: a case merged meanwhile is then at worst queued and gone, which a later dequeue skips.</summary>
        public void Clear()
        {
            _arrival.Clear();
            _cases.Clear();
        }

        public void Merge(string caseId, IReadOnlyList<ComplaintEvent> events)
        {
            var added = false;
            _cases.AddOrUpdate(caseId, (_, arg) =>
            {
                added = true;
                return [.. arg.DistinctBy(e => e.Id)];
            }, (_, known, arg) => arg.All(e => known.Any(k => k.Id == e.Id)) ? known : [.. known.Concat(arg).DistinctBy(e => e.Id)], events);
            if (!added) return;
            _arrival.Enqueue(caseId);
            while (_cases.Count > capacity && _arrival.TryDequeue(out var oldest)) _cases.TryRemove(oldest, out _);
        }
    }
}
