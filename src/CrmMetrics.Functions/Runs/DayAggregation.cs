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
/// The map step: reads one local day's facts once, streaming, and writes the day's mergeable partial
/// and its change in active customers, replacing what was there. Facts whose meaning depends on
/// other days get it from their customer's timeline or their complaint case.
/// </summary>
public sealed class DayAggregation(
    FactStore facts,
    DirtyDayStore dirtyDays,
    CustomerStore customers,
    CustomerDirectory directory,
    ComplaintStore complaints,
    PartialStore partials,
    LifecycleLedger ledger,
    StalePeriodStore stalePeriods,
    CrmMetricsSettings settings,
    TimeProvider clock,
    ILogger<DayAggregation> logger)
{
    public async Task<DayPartial> AggregateAsync(DateOnly day, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var calendar = settings.Calendar;
        // Seen before reading: a mark made while we read stays, so the day is aggregated again.
        var mark = await dirtyDays.GetAsync(day, ct);
        await directory.RefreshAsync(ct);

        var aggregator = new DayAggregator(day);
        var lifecycle = new List<Fact>();
        var resolves = new List<Fact>();
        var unresolved = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var fact in facts.ScanDayAsync(day, calendar, ct))
        {
            switch (fact.Type)
            {
                case FactType.CompetitorObservation or FactType.MarketObservation:
                    continue; // observations are keyed by their own period, not by day
                case FactType.CustomerAcquired or FactType.CustomerChurned or FactType.CustomerReactivated:
                    lifecycle.Add(fact);
                    continue;
                case FactType.ComplaintResolved:
                    resolves.Add(fact);
                    continue;
                default:
                    aggregator.Add(fact, Dimension(fact.CustomerId, unresolved));
                    break;
            }
        }

        if (lifecycle.Count > 0)
        {
            var timelines = await customers.GetTimelinesAsync(lifecycle.Select(f => f.CustomerId!).Distinct().ToList(), ct);
            foreach (var fact in lifecycle)
            {
                var timeline = timelines.TryGetValue(fact.CustomerId!, out var t) ? t : new CustomerTimeline([]);
                // The fact itself may be newer than the timeline (ingestion writes the fact first).
                timeline.Add([LifecycleEvent.From(fact)]);
                var dimension = timeline.FirstAcquisition is null ? Unknown(fact.CustomerId!, unresolved) : new CustomerDimension(timeline.Segment, timeline.Region);
                aggregator.AddLifecycle(fact, timeline.EffectOf(fact.Id), dimension);
            }
        }

        if (resolves.Count > 0)
        {
            var cases = await complaints.GetManyAsync(resolves.Select(f => f.CaseId!).Distinct().ToList(), ct);
            foreach (var fact in resolves)
            {
                var complaint = cases.TryGetValue(fact.CaseId!, out var c) ? c : new ComplaintCase(fact.CaseId!, []);
                complaint.Add([ComplaintEvent.From(fact)]);
                var resolution = complaint.ResolutionFor(fact.Id, settings.DefaultSlaHours);
                aggregator.AddResolve(fact, resolution, Dimension(resolution?.CustomerId ?? fact.CustomerId, unresolved));
            }
        }

        var partial = aggregator.Result;
        if (unresolved.Count > 0) await customers.RecordUnresolvedAsync(unresolved, day, ct);
        // Periods are marked stale before anything they read changes: a crash in between leaves the
        // day dirty and its periods marked, never a changed day behind an unmarked period.
        var activeChanged = await ledger.DiffersAsync(day, partial.ActiveDeltas, ct);
        await MarkStalePeriodsAsync(day, activeChanged, ct);
        if (partial.FactCount == 0) await partials.DeleteAsync(day, ct);
        else await partials.WriteAsync(partial, ct);
        await ledger.WriteAsync(day, partial.ActiveDeltas, ct);

        // A customer resolved while we read (or whose change the directory missed) would otherwise
        // keep the unknown segment here: read those customers' rows and aggregate the day again.
        var stillDirty = false;
        if (unresolved.Count > 0)
        {
            var resolved = await directory.LookUpAsync(unresolved, ct);
            stillDirty = resolved.Count > 0;
            if (stillDirty)
            {
                logger.LogInformation("Day {Day}: {Count} customers were resolved while it was aggregated; it stays dirty", day, resolved.Count);
                await dirtyDays.MarkAsync([day], ct);
            }
        }
        if (mark is not null && !stillDirty && !await dirtyDays.ClearAsync(mark, ct))
        {
            logger.LogInformation("Day {Day} received facts while it was aggregated; it stays dirty for the next run", day);
        }
        logger.LogDebug("Aggregated {Day}: {Facts} facts, {Scopes} scopes in {Ms} ms", day, partial.FactCount, partial.Scopes.Count, watch.ElapsedMilliseconds);
        return partial;
    }

    /// <summary>
    /// The day's own periods change with it; when its active-customer change moved, so do the active
    /// counts of every later period up to now, in every configured grain.
    /// </summary>
    private async Task MarkStalePeriodsAsync(DateOnly day, bool activeChanged, CancellationToken ct)
    {
        var calendar = settings.Calendar;
        var today = calendar.LocalDateOf(clock.GetUtcNow());
        var keys = new List<string>();
        foreach (var grain in settings.Grains)
        {
            var period = calendar.PeriodOf(grain, day);
            keys.Add(period.Key);
            if (!activeChanged) continue;
            // At most ~3 years of later periods per grain, so a very old fact cannot starve the coarser grains.
            var later = 0;
            for (var next = period; next.LastDay < today && later < 1100; later++)
            {
                next = next.Next();
                keys.Add(next.Key);
            }
        }
        await stalePeriods.MarkAsync(keys, ct);
    }

    private CustomerDimension Dimension(string? customerId, HashSet<string> unresolved) =>
        customerId is null ? CustomerDimension.Unknown : directory.Find(customerId) ?? Unknown(customerId, unresolved);

    private static CustomerDimension Unknown(string customerId, HashSet<string> unresolved)
    {
        unresolved.Add(customerId);
        return CustomerDimension.Unknown;
    }
}
