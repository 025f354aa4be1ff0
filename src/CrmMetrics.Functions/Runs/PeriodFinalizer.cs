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
/// <remarks>
/// Where a delivery writes its rows. Every delivery of a period's job (a redelivery after a failure, or two at
/// once) computes the version the run reserved, as of one instant, but not always the same rows: a goal,
/// incentive plan or derived indicator deleted in between has rows in one and not the other. Written over one
/// another in one partition, the version kept the deleted goal's row while the pointer recorded the retry's
/// count (found in review), and deleting rows on a retry could delete those a concurrent delivery's completed
/// version needs. So only the delivery that reserved the version (<see cref="Storage.Runs.VersionReservation.First"/>)
/// writes to the partition the version's number names; any other writes a partition of its own attempt, and
/// the pointer, in the one write that promotes, names the partition with its row count. A reader reads the
/// pointer, then the one partition it names, which was written whole before it was named. Crash points: one
/// before or while a delivery writes leaves rows no pointer names (never read); one after it promoted
/// leaves a complete version named, which a later delivery's promotion replaces by its own. Deliveries at
/// once never write one partition; once another delivery's attempt is promoted, the delivery that reserved
/// the version, finishing late, does not replace it (of two such attempts, the last promoted is read). A
/// finalisation that is not repeated makes the same requests as before: it writes where the number says and
/// promotes as before.
/// </remarks>
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
    /// <summary>A test seam: runs after the rows are written, before the version is promoted (where a delivery can stop).</summary>
    internal Func<Task>? RowsWritten { get; set; }

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
        var (stale, (version, now, first)) = (await staleRead, await versionReserved);
        // Another delivery reserved the version: this one writes it whole where no other delivery writes (see the remarks).
        var attempt = first ? null : SnapshotStore.NewAttempt();
        if (attempt is not null)
            logger.LogInformation("{Grain} {Period}: version {Version} was reserved by another delivery of run {RunId}; this one writes it as attempt {Attempt}",
                Grains.Key(period.Grain), period.Key, version, runId, attempt);
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

        await snapshots.WriteAsync(stamped, attempt, ct);
        if (RowsWritten is { } written) await written();
        var latest = await snapshots.PromoteAsync(period, version, runId, now, stamped.Count, ct, attempt);
        responses.Invalidate($"{Grains.Key(period.Grain)}|{period.Key}");
        if (!latest && attempt is null && await PromotedAttemptRowsAsync(period, version, ct) is { } promoted)
        {
            // A retry of this delivery promoted the same version as an attempt while this one ran (its lease ran out): those rows
            // are the period's figures, and this delivery ends the period on them. Its alerts are judged on them here, since the
            // retry may have stopped before raising them and its message then finds the period done (found in review); an alert
            // already raised is raised once, by its id. Only here, so a finalisation that is not repeated reads nothing more.
            logger.LogInformation("{Grain} {Period}: version {Version} was promoted by a retry meanwhile; its {Rows} rows stand", Grains.Key(period.Grain), period.Key, version, promoted.Count);
            stamped = promoted;
            latest = true;
        }
        if (latest && stale is not null) await stalePeriods.ClearAsync(stale, ct);
        var times = new FinalizationTimes(reserve, read, merge, compute, Lap());
        logger.LogInformation("Finalised {Grain} {Period} as version {Version}: {Rows} rows from {Days} day partials ({Facts} facts) in {Ms} ms ({Phases})",
            Grains.Key(period.Grain), period.Key, version, stamped.Count, days.Count, aggregate.FactCount, watch.ElapsedMilliseconds, times);
        return new FinalizedPeriod(period, version, stamped, aggregate, latest) { Times = times };
    }

    /// <summary>The rows of <paramref name="version"/> as the attempt the period's pointer names wrote them, when it names one of that version; else null.</summary>
    private async Task<List<SnapshotRow>?> PromotedAttemptRowsAsync(Period period, int version, CancellationToken ct) =>
        await snapshots.LatestAsync(period.Grain, period.Key, ct) is { Attempt: { } attempt } pointer && pointer.Version == version
            ? await snapshots.ReadVersionAsync(period.Grain, period.Key, version, attempt, new SnapshotFilter(), ct)
            : null;

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
