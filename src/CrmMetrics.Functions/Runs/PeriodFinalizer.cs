using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Aggregates;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Snapshots;

namespace CrmMetrics.Functions.Runs;

/// <summary>What one finalisation produced.</summary>
/// <param name="IsLatest">False when a newer version was promoted meanwhile: this one is stored but not current.</param>
public sealed record FinalizedPeriod(Period Period, int Version, IReadOnlyList<SnapshotRow> Rows, PeriodAggregate Aggregate, bool IsLatest = true)
{
    /// <summary>How long each phase took (logged, and printed by the <c>finalize</c> benchmark).</summary>
    public FinalizationTimes? Times { get; init; }
}

/// <summary>
/// The phases of one finalisation, in milliseconds: reserving the version (with the stale mark),
/// reading the partials and the lifecycle ledger, merging them, computing the indicators, and
/// writing and promoting the rows.
/// </summary>
public sealed record FinalizationTimes(double Reserve, double Read, double Merge, double Compute, double Write)
{
    public override string ToString() => $"reserve {Reserve:0} + read {Read:0} + merge {Merge:0} + compute {Compute:0} + write {Write:0} ms";
}

/// <summary>A family of indicators computed from the period's base values (benchmarks, goals, incentives).</summary>
public interface IDerivedIndicators
{
    /// <summary>Rows to add, given the period's figures and the base rows computed so far (derived rows of earlier stages included).</summary>
    Task<IReadOnlyList<SnapshotRow>> ComputeAsync(PeriodAggregate aggregate, IReadOnlyList<SnapshotRow> rows, DateTimeOffset now, CancellationToken ct);
}

/// <summary>
/// The reduce step: merges the partials of a period's days with the active customers at its
/// boundaries, computes every indicator for every scope, and writes the rows as a new version
/// that then becomes the latest. Reads partials and the lifecycle ledger, never facts. The run
/// records the period as done only once the alerts have left (see <c>CompletePeriod</c>).
/// </summary>
public sealed class PeriodFinalizer(
    PartialStore partials,
    DayAggregation aggregation,
    LifecycleLedger ledger,
    SnapshotStore snapshots,
    RunStore runs,
    StalePeriodStore stalePeriods,
    IEnumerable<IDerivedIndicators> derived,
    Api.SnapshotResponseCache responses,
    TimeProvider clock,
    ILogger<PeriodFinalizer> logger)
{
    public async Task<FinalizedPeriod> FinalizeAsync(string runId, Period period, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var lapStart = TimeSpan.Zero;
        double Lap()
        {
            var (from, to) = (lapStart, watch.Elapsed);
            lapStart = to;
            return (to - from).TotalMilliseconds;
        }
        // The stale mark is read, and the version reserved, before any partial: a mark set later
        // survives this run, and a run that read older partials never gets the newer version.
        var staleRead = Concurrently.Started(() => stalePeriods.GetAsync(period.Key, ct));
        // Every delivery of the period's job computes the version as of the same instant, fixed with it.
        var versionReserved = Concurrently.Started(() => runs.ReservationForAsync(runId, period.Grain, period.Key, () => snapshots.ReserveVersionAsync(period.Grain, period.Key, runId, ct), clock.GetUtcNow(), ct));
        await Task.WhenAll(staleRead, versionReserved);
        var (stale, (version, now)) = (await staleRead, await versionReserved);
        var reserve = Lap();

        var ledgerRead = Concurrently.Started(() => ledger.ActiveAsync(period.FirstDay, period.LastDay, ct));
        var partialsRead = Concurrently.Started(() => ReadPartialsAsync(period, ct));
        await Task.WhenAll(ledgerRead, partialsRead);
        var (days, aggregatedAgain) = await partialsRead;
        // Days aggregated again may have written their ledger deltas after that read began.
        var active = aggregatedAgain ? await ledger.ActiveAsync(period.FirstDay, period.LastDay, ct) : await ledgerRead;
        var read = Lap();
        var aggregate = PeriodAggregate.Merge(period, days, active.AtStart, active.AtEnd);
        var merge = Lap();

        var rows = aggregate.BaseRows().ToList();
        foreach (var family in derived) rows.AddRange(await family.ComputeAsync(aggregate, rows, now, ct));
        var stamped = rows.Select(r => r with { ComputedAt = now, RunId = runId, Version = version }).ToList();
        var compute = Lap();

        await snapshots.WriteAsync(stamped, ct);
        var latest = await snapshots.PromoteAsync(period, version, runId, now, stamped.Count, ct);
        responses.Invalidate($"{Grains.Key(period.Grain)}|{period.Key}");
        if (latest && stale is not null) await stalePeriods.ClearAsync(stale, ct);
        var times = new FinalizationTimes(reserve, read, merge, compute, Lap());
        logger.LogInformation("Finalised {Grain} {Period} as version {Version}: {Rows} rows from {Days} day partials ({Facts} facts) in {Ms} ms ({Phases})",
            Grains.Key(period.Grain), period.Key, version, stamped.Count, days.Count, aggregate.FactCount, watch.ElapsedMilliseconds, times);
        return new FinalizedPeriod(period, version, stamped, aggregate, latest) { Times = times };
    }

    /// <summary>
    /// The period's day partials, over labels they share. Days whose partial is of an older format
    /// are aggregated again first, so they count as they are rather than as empty (and then
    /// <c>AggregatedAgain</c> is true: those days may have changed the lifecycle ledger).
    /// </summary>
    private async Task<(IReadOnlyList<DayPartial> Days, bool AggregatedAgain)> ReadPartialsAsync(Period period, CancellationToken ct)
    {
        var labels = new FactLabels();
        var stored = await partials.ReadManyAsync(period.Days, labels, ct);
        if (stored.Outdated.Count == 0) return (stored.Partials, false);
        logger.LogInformation("Aggregating {Count} days of {Period} again: their partials are of an older format", stored.Outdated.Count, period.Key);
        // As the map step's queue trigger does, 16 days at a time: their small requests are shared, and a year
        // of outdated partials (after a format change) is not re-aggregated one day after another.
        await Parallel.ForEachAsync(stored.Outdated, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (day, token) =>
        {
            await aggregation.AggregateAsync(day, token);
            await partials.DeleteLegacyAsync(day, token);
        });
        var again = await partials.ReadManyAsync(stored.Outdated, labels, ct);
        return ([.. stored.Partials, .. again.Partials], true);
    }
}
