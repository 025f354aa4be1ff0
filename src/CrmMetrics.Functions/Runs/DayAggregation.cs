using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Lifecycle;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Aggregates;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Storage.Runs;

namespace CrmMetrics.Functions.Runs;

/// <summary>
/// The map step: reads one local day's facts once, streaming, page by page as columns, and writes the
/// day's mergeable partial and its change in active customers, replacing what was there. Facts whose
/// meaning depends on other days get it from their customer's timeline or their complaint case, which
/// the <see cref="CustomerDirectory"/> holds in memory.
/// </summary>
public sealed class DayAggregation(
    FactStore facts,
    DirtyDayStore dirtyDays,
    CustomerStore customers,
    CustomerDirectory directory,
    PartialStore partials,
    LifecycleLedger ledger,
    StalePeriodStore stalePeriods,
    CrmMetricsSettings settings,
    TimeProvider clock,
    ILogger<DayAggregation> logger)
{
    public async Task<DayPartial> AggregateAsync(DateOnly day, CancellationToken ct) => await FinishAsync(await BeginAsync(day, ct), ct);

    /// <summary>
    /// The map step's first half: what the day's bookkeeping starts from (its dirty mark, the version
    /// of its stored partial, and its ledger row), then the day computed. <see cref="FinishAsync"/>
    /// stores it.
    /// </summary>
    internal async Task<StartedDay> BeginAsync(DateOnly day, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // The mark is seen before reading anything the day depends on (its facts and the directory):
        // a mark made while we read stays, so the day is aggregated again. Ingestion stores a
        // customer's change before it marks the days it affects, so a refresh that starts after the
        // mark sees it. The stored partial and ledger row are read with the mark: they are replaced
        // only if no other aggregation of the day stored its own since. The directory is refreshed
        // while the day's log is fetched; attribution waits for both.
        var markRead = Concurrently.Started(() => dirtyDays.GetAsync(day, ct));
        var versionRead = Concurrently.Started(() => partials.VersionAsync(day, ct));
        var ledgerRead = Concurrently.Started(() => ledger.ReadAsync(day, ct));
        await Task.WhenAll(markRead, versionRead, ledgerRead);
        var (partial, unresolved) = await ComputeAsync(day, Concurrently.Started(() => directory.RefreshAsync(ct)), ct);
        return new StartedDay(day, await markRead, await versionRead, await ledgerRead, partial, unresolved, watch);
    }

    /// <summary>
    /// The map step's second half: the day's computed partial stored, with the marks that keep a
    /// crash at any point from leaving a changed day unnoticed, and its dirty mark cleared if nothing
    /// marked it again meanwhile.
    /// </summary>
    /// <remarks>
    /// Two aggregations of a day can overlap (a slow one, or one that saw an older mark). The partial
    /// and the ledger row are each written only if no other aggregation wrote them since this one
    /// began (the row always, after the partial, so that its version moves with every stored
    /// partial); when one did, this one writes nothing more and marks the day, which is aggregated again.
    /// Without the conditions an older result could replace a newer one after the other aggregation
    /// cleared the day, and a crash before this one's clear (which would find the mark gone and mark
    /// the day again) would leave it so.
    /// </remarks>
    internal async Task<DayPartial> FinishAsync(StartedDay started, CancellationToken ct)
    {
        var (day, mark, version, ledgerRow, partial, unresolved, watch) = started;
        if (unresolved.Count > 0) await customers.RecordUnresolvedAsync(unresolved, day, ct);

        // Periods are marked stale before anything they read changes: a crash in between leaves the
        // day dirty and its periods marked, never a changed day behind an unmarked period. The day's
        // own periods change with its partial; the later ones only if its ledger row changes, which
        // is judged against the row as it was read: the row is written only if it is still that one.
        var periods = OwnPeriods(day);
        var deltasChange = ledgerRow.Differs(partial.ActiveDeltas);
        if (deltasChange) periods.AddRange(LaterPeriods(day));
        // Customers the day could not attribute are looked up meanwhile: one found since (or whose
        // change the directory missed) would otherwise keep the unknown segment here.
        // (Each call of a pair goes through Started, so one that throws before it returns its task
        // cannot leave the other running unobserved.)
        var periodMarks = Concurrently.Started(() => stalePeriods.MarkAsync(periods, ct));
        var lookUp = Concurrently.Started(() => directory.LookUpAsync(unresolved, ct));
        await Task.WhenAll(periodMarks, lookUp);
        var resolved = await lookUp;
        var stillDirty = resolved.Count > 0;
        if (stillDirty) logger.LogInformation("Day {Day}: {Count} customers were resolved while it was aggregated; it stays dirty", IsoDay.Text(day), resolved.Count);
        // The day is marked before its results change when they are known to need another aggregation
        // (a customer resolved), or when a day aggregated without a mark (finalisation redoing a day of
        // an older format, a redelivered message) changes its ledger row: a crash between its partial
        // and its row, or before its end, then leaves it dirty. Such a mark is cleared by a later aggregation.
        if (stillDirty || (deltasChange && mark is null)) await dirtyDays.MarkAsync([day], ct);

        var partialStored = partial.FactCount == 0 ? await partials.TryDeleteAsync(day, version, ct) : await partials.TryReplaceAsync(partial, version, ct);
        if (!partialStored) return await RefuseAsync(started, "its partial");
        // Written even when unchanged, after the partial: every stored partial moves the row's
        // version, so an older aggregation whose partial went in before cannot write its row after.
        if (!await ledger.TryWriteAsync(day, partial.ActiveDeltas, ledgerRow.Version, ct)) return await RefuseAsync(started, "its ledger row");

        if (mark is not null && !stillDirty && !await dirtyDays.ClearAsync(mark, ct))
        {
            logger.LogInformation("Day {Day} received facts while it was aggregated; it stays dirty for the next run", IsoDay.Text(day));
        }
        logger.LogDebug("Aggregated {Day}: {Facts} facts, {Scopes} scopes in {Ms} ms", IsoDay.Text(day), partial.FactCount, partial.Scopes.Count, watch.ElapsedMilliseconds);
        return partial;
    }

    /// <summary>Another aggregation of the day wrote what this one would replace: the day is marked, to be aggregated again.</summary>
    private async Task<DayPartial> RefuseAsync(StartedDay started, string what)
    {
        logger.LogInformation("Day {Day}: another aggregation wrote {What} while this one ran; the day is marked to be aggregated again", IsoDay.Text(started.Day), what);
        // Not cancelled with the step: the mark is one small write, and what it guards is the day's result.
        await dirtyDays.MarkAsync([started.Day], CancellationToken.None);
        return started.Partial;
    }

    /// <summary>
    /// The map step's computing alone: the day's facts read and folded into its partial, with what
    /// the <see cref="CustomerDirectory"/> holds now (refresh it first; timelines and cases it lacks
    /// are read). Writes and marks nothing, and returns the customers it could not attribute.
    /// <see cref="AggregateAsync"/> is this plus the bookkeeping that makes the step safe to repeat
    /// (the aggregate benchmark times the two apart).
    /// </summary>
    public Task<DayResult> ComputeAsync(DateOnly day, CancellationToken ct) => ComputeAsync(day, Task.CompletedTask, ct);

    /// <summary>
    /// <see cref="ComputeAsync(DateOnly, CancellationToken)"/> with the directory's refresh still under way:
    /// the day's log is fetched meanwhile, and no fact is attributed before <paramref name="directoryReady"/> ends.
    /// </summary>
    private async Task<DayResult> ComputeAsync(DateOnly day, Task directoryReady, CancellationToken ct)
    {
        var calendar = settings.Calendar;
        var labels = new FactLabels();
        var aggregator = new DayAggregator(day, labels);
        var attribution = new Attribution(labels, directory);
        // Lifecycle facts and resolves wait for their timelines and cases, read once the scan is done.
        var deferred = new FactColumns(labels, 64);
        var plain = new List<int>(1000);
        await foreach (var page in facts.ScanDayAsync(day, calendar, labels, ct))
        {
            // The page was fetched while the directory refreshed; no fact is attributed before the refresh ends.
            await directoryReady;
            plain.Clear();
            var types = page.Types;
            for (var row = 0; row < types.Length; row++)
            {
                switch (types[row])
                {
                    case FactType.CompetitorObservation or FactType.MarketObservation:
                        continue; // observations are keyed by their own period, not by day
                    case FactType.CustomerAcquired or FactType.CustomerChurned or FactType.CustomerReactivated or FactType.ComplaintResolved:
                        deferred.Append(page, row);
                        continue;
                    default:
                        attribution.Attribute(page.Customers[row]);
                        plain.Add(row);
                        break;
                }
            }
            aggregator.Add(page, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(plain), attribution.Dimensions);
        }
        await directoryReady; // a day without facts waits for it too (the timelines and cases below come from it)
        await AddLifecycleAsync(aggregator, deferred, attribution, ct);
        await AddResolvesAsync(aggregator, deferred, attribution, ct);
        return new DayResult(aggregator.Result(), [.. attribution.Unresolved]);
    }

    private async Task AddLifecycleAsync(DayAggregator aggregator, FactColumns deferred, Attribution attribution, CancellationToken ct)
    {
        var labels = deferred.Labels;
        var rows = Rows(deferred, type => type.IsLifecycle());
        if (rows.Count == 0) return;
        var timelines = await directory.TimelinesAsync(rows.Select(r => labels.Customers[deferred.Customers[r]]).Distinct().ToList(), ct);
        foreach (var row in rows)
        {
            var customerId = labels.Customers[deferred.Customers[row]];
            var timeline = timelines.TryGetValue(customerId, out var t) ? t : new CustomerTimeline([]);
            // The fact itself may be newer than the timeline (ingestion writes the fact first).
            timeline.Add([LifecycleEvent.From(deferred, row)]);
            var dimension = timeline.FirstAcquisition is null ? attribution.Unknown(customerId) : new CustomerDimension(timeline.Segment, timeline.Region);
            aggregator.AddLifecycle(deferred, row, timeline.EffectOf(deferred.Ids[row]), labels.Segments.Code(dimension.Segment), labels.Regions.Code(dimension.Region));
        }
    }

    private async Task AddResolvesAsync(DayAggregator aggregator, FactColumns deferred, Attribution attribution, CancellationToken ct)
    {
        var labels = deferred.Labels;
        var rows = Rows(deferred, type => type == FactType.ComplaintResolved);
        if (rows.Count == 0) return;
        var cases = await directory.CasesAsync(rows.Select(r => labels.Cases[deferred.Cases[r]]).Distinct().ToList(), ct);
        foreach (var row in rows)
        {
            var caseId = labels.Cases[deferred.Cases[row]];
            var complaint = cases.TryGetValue(caseId, out var c) ? c : new ComplaintCase(caseId, []);
            complaint.Add([ComplaintEvent.From(deferred, row)]);
            var resolution = complaint.ResolutionFor(deferred.Ids[row], settings.DefaultSlaHours);
            var customer = labels.Customers.Code(resolution?.CustomerId) is var code and not FactColumns.None ? code : deferred.Customers[row];
            attribution.Attribute(customer);
            aggregator.AddResolve(deferred, row, resolution, attribution.Dimensions.SegmentOf(customer), attribution.Dimensions.RegionOf(customer));
        }
    }

    private static List<int> Rows(FactColumns facts, Func<FactType, bool> which)
    {
        var rows = new List<int>();
        for (var row = 0; row < facts.Count; row++)
        {
            if (which(facts.Types[row])) rows.Add(row);
        }
        return rows;
    }

    /// <summary>The day's customers' segments and regions from the directory; customers it does not know are unresolved.</summary>
    private sealed class Attribution(FactLabels labels, CustomerDirectory directory)
    {
        private readonly HashSet<string> _unresolved = new(StringComparer.Ordinal);

        public CustomerDimensions Dimensions { get; } = new(labels);
        public IReadOnlyCollection<string> Unresolved => _unresolved;

        public void Attribute(int customer)
        {
            if (customer == FactColumns.None || Dimensions.Has(customer)) return;
            var id = labels.Customers[customer];
            Dimensions.Set(customer, directory.Find(id) ?? Unknown(id));
        }

        public CustomerDimension Unknown(string customerId)
        {
            _unresolved.Add(customerId);
            return CustomerDimension.Unknown;
        }
    }

    /// <summary>The day's own period in every configured grain: they change with it.</summary>
    private List<string> OwnPeriods(DateOnly day) => [.. settings.Grains.Select(grain => settings.Calendar.PeriodOf(grain, day).Key)];

    /// <summary>
    /// When the day's active-customer change moved, so do the active counts of every later period up
    /// to now, in every configured grain.
    /// </summary>
    private List<string> LaterPeriods(DateOnly day)
    {
        var calendar = settings.Calendar;
        var today = calendar.LocalDateOf(clock.GetUtcNow());
        var keys = new List<string>();
        foreach (var grain in settings.Grains)
        {
            // At most ~3 years of later periods per grain, so a very old fact cannot starve the coarser grains.
            var later = 0;
            for (var next = calendar.PeriodOf(grain, day); next.LastDay < today && later < 1100; later++)
            {
                next = next.Next();
                keys.Add(next.Key);
            }
        }
        return keys;
    }
}

/// <summary>A day begun by the map step: its dirty mark, the version of its stored partial and its ledger row before it was read, and what it computed.</summary>
internal sealed record StartedDay(DateOnly Day, DirtyDay? Mark, Azure.ETag? Version, LedgerRow Ledger, DayPartial Partial, IReadOnlyCollection<string> Unresolved, System.Diagnostics.Stopwatch Watch);

/// <summary>A day's partial as computed, and the customers the directory did not know (their facts count in the unknown segment and region).</summary>
public sealed record DayResult(DayPartial Partial, IReadOnlyCollection<string> Unresolved);
