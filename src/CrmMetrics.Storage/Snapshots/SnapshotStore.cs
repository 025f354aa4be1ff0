using Azure;
using Azure.Data.Tables;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Snapshots;

/// <summary>Which version of a period's snapshots is the latest, and who computed it.</summary>
/// <param name="Calendar">
/// The <c>CrmMetrics:Calendar</c> the version was computed under, which gave its key its days; null for versions promoted
/// before it was recorded, whose calendar is unknown.
/// </param>
/// <param name="Attempt">The attempt whose partition holds the version's rows; null for the version's own (see <see cref="VersionAttempts"/>).</param>
/// <param name="Attempts">Where the period's versions written again have their rows, for reads of a version by number.</param>
public sealed record LatestSnapshot(Grain Grain, string Period, int Version, string RunId, DateTimeOffset ComputedAt, int Rows, ETag ETag,
    DateTimeOffset PeriodStart = default, DateTimeOffset PeriodEnd = default, string? Calendar = null, string? Attempt = null, VersionAttempts? Attempts = null);

/// <summary>A page of snapshot rows and the token for the next one.</summary>
public sealed record SnapshotPage(IReadOnlyList<SnapshotRow> Rows, string? ContinuationToken);

/// <summary>Which rows of a version to read; every value goes through the SDK's parameterised filters.</summary>
public sealed record SnapshotFilter(string? Indicator = null, string? Family = null, string? Scope = null)
{
    /// <summary>Whether every row of a version is read, as many as its latest pointer records (<see cref="LatestSnapshot.Rows"/>).</summary>
    public bool ReadsEveryRow => Indicator is null && Family is null && Scope is null;
}

/// <summary>
/// Versioned KPI snapshots. A computation writes all its rows under a new version, then points the
/// period's "latest" at it, so readers switch from one complete version to the next and earlier
/// versions stay readable. A version written again (a redelivery of its run's job) is written whole
/// to a partition of that attempt's own, which the pointer then names (<see cref="PromoteAsync(Grain, string, int, string, DateTimeOffset, int, CancellationToken, DateTimeOffset?, DateTimeOffset?, string?, string?)"/>).
/// </summary>
public sealed class SnapshotStore(StorageAccount account)
{
    private readonly TableClient _rows = account.Table(StorageNames.Tables.Snapshots);
    private readonly TableClient _versions = account.Table(StorageNames.Tables.SnapshotVersions);

    public TableClient Rows => _rows;
    public TableClient Versions => _versions;

    /// <summary>The pointer's property listing the versions whose rows are in an attempt's partition (<see cref="VersionAttempts"/>).</summary>
    private const string AttemptsProperty = "Attempts";

    /// <summary>A name for a delivery's own partition of a version it writes again: unique among the deliveries of one version.</summary>
    public static string NewAttempt() => Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// Reserves the next version number of a period for a run (safe with concurrent computations).
    /// Concurrent deliveries of the same run get the same number, so versions have no gaps.
    /// </summary>
    public async Task<int> ReserveVersionAsync(Grain grain, string period, string runId, CancellationToken ct)
    {
        var pk = Grains.Key(grain);
        var rk = StorageKeys.Encode(period);
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var row = await _versions.GetEntityIfExistsAsync<TableEntity>(pk, rk, cancellationToken: ct);
            var entity = row.HasValue ? row.Value! : new TableEntity(pk, rk) { ["Period"] = period, ["Latest"] = 0 };
            if (entity.GetString("ReservedBy") == runId && entity.GetInt32("NextVersion") is { } mine) return mine;
            var next = (entity.GetInt32("NextVersion") ?? 0) + 1;
            entity["NextVersion"] = next;
            entity["ReservedBy"] = runId;
            try
            {
                if (row.HasValue) await _versions.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, ct);
                else await _versions.AddEntityAsync(entity, ct);
                return next;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another computation reserved one meanwhile.
            }
        }
        throw new ConcurrentChangeException($"Could not reserve a snapshot version for {period}.");
    }

    /// <summary>
    /// Writes a version's rows to its own partition, or with an <paramref name="attempt"/> to that attempt's
    /// (idempotent: a repeated write of the same version and attempt replaces the same rows).
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<SnapshotRow> rows, string? attempt, CancellationToken ct)
    {
        var batches = rows.Select(r => SnapshotEntity.ToEntity(r, attempt)).GroupBy(e => e.PartitionKey).SelectMany(g => g.Chunk(100)).ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (batch, token) =>
            await _rows.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), token));
    }

    /// <summary>Makes <paramref name="version"/> the latest unless a newer one already is (see the overload).</summary>
    public async Task<bool> PromoteAsync(Period period, int version, string runId, DateTimeOffset computedAt, int rows, CancellationToken ct, string? attempt = null) =>
        await PromoteAsync(period.Grain, period.Key, version, runId, computedAt, rows, ct, period.Start, period.End, period.Calendar.Calendar.Setting, attempt);

    /// <summary>
    /// Makes <paramref name="version"/>, as <paramref name="attempt"/> wrote it (null: in its own partition), the latest
    /// unless a newer one already is, or, for its own partition, an attempt's of the same version; true when it is. The
    /// pointer names the partition and its row count in one write, so a reader never pairs one attempt's count with
    /// another's rows. When it does not become the latest, an attempt still records where its rows are (for reads of the
    /// version by number); the version's own partition records nothing.
    /// </summary>
    public async Task<bool> PromoteAsync(Grain grain, string period, int version, string runId, DateTimeOffset computedAt, int rows, CancellationToken ct,
        DateTimeOffset? periodStart = null, DateTimeOffset? periodEnd = null, string? calendar = null, string? attempt = null)
    {
        var pk = Grains.Key(grain);
        var rk = StorageKeys.Encode(period);
        for (var tries = 0; tries < 50; tries++)
        {
            var entity = (await _versions.GetEntityAsync<TableEntity>(pk, rk, cancellationToken: ct)).Value;
            var attempts = VersionAttempts.Parse(entity.GetString(AttemptsProperty));
            var current = entity.GetInt32("Latest") ?? 0;
            // The delivery that reserved the version, finishing late, leaves an attempt's rows in place: the attempt began after
            // the reservation (it found it made), as a retry of that delivery, and a read after the retry shows the retry's rows.
            var latest = current < version || current == version && (attempt is not null || attempts.Of(version) is null);
            if (!latest && (attempt is null || attempts.Of(version) == attempt)) return false;
            if (latest)
            {
                entity["Latest"] = version;
                entity["RunId"] = runId;
                entity["ComputedAt"] = computedAt;
                entity["Rows"] = rows;
                // Period bounds on the pointer let readers (OData incremental refresh) pick periods by date.
                if (periodStart is { } start) entity["PeriodStart"] = start;
                if (periodEnd is { } end) entity["PeriodEnd"] = end;
                // The calendar the key was read in: after CrmMetrics:Calendar changes, a key may name other days (SnapshotReader).
                if (calendar is not null) entity["Calendar"] = calendar;
                else entity.Remove("Calendar");
            }
            // Only an attempt writes the property: the reserving delivery's promotion writes what it always wrote.
            if (attempt is not null && attempts.Of(version) != attempt) entity[AttemptsProperty] = attempts.With(version, attempt).ToString();
            try
            {
                await _versions.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, ct);
                return latest;
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
            }
        }
        throw new ConcurrentChangeException($"Could not promote version {version} of {period}.");
    }

    public async Task<LatestSnapshot?> LatestAsync(Grain grain, string period, CancellationToken ct)
    {
        var row = await _versions.GetEntityIfExistsAsync<TableEntity>(Grains.Key(grain), StorageKeys.Encode(period), cancellationToken: ct);
        return row.HasValue ? ToLatest(row.Value!) : null;
    }

    /// <summary>The latest versions of a grain's periods in key order, optionally between two keys (inclusive).</summary>
    public async IAsyncEnumerable<LatestSnapshot> LatestOfGrainAsync(Grain grain, string? from, string? to, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var pk = Grains.Key(grain);
        var filter = (from, to) switch
        {
            (null, null) => TableClient.CreateQueryFilter($"PartitionKey eq {pk}"),
            (not null, null) => TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {StorageKeys.Encode(from)}"),
            (null, not null) => TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey le {StorageKeys.Encode(to)}"),
            _ => TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {StorageKeys.Encode(from!)} and RowKey le {StorageKeys.Encode(to!)}"),
        };
        await foreach (var e in _versions.QueryAsync<TableEntity>(filter, cancellationToken: ct))
        {
            if ((e.GetInt32("Latest") ?? 0) > 0) yield return ToLatest(e);
        }
    }

    /// <summary>Latest pointers matching a filter the caller built with <see cref="TableClient.CreateQueryFilter(System.FormattableString)"/>.</summary>
    public async IAsyncEnumerable<LatestSnapshot> LatestWhereAsync(string filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var e in _versions.QueryAsync<TableEntity>(filter.Length == 0 ? null : filter, cancellationToken: ct))
        {
            if ((e.GetInt32("Latest") ?? 0) > 0) yield return ToLatest(e);
        }
    }

    /// <summary>
    /// Where <paramref name="version"/> of a period has its rows, as <see cref="LatestSnapshot.Attempt"/> says for the
    /// latest: the attempt the period's pointer names for it, or null (its own partition, or no such period).
    /// </summary>
    public async Task<string?> AttemptOfAsync(Grain grain, string period, int version, CancellationToken ct) =>
        await LatestAsync(grain, period, ct) is { } latest ? latest.Attempts?.Of(version) : null;

    /// <summary>Every row of one version (as <paramref name="attempt"/> wrote it; null: its own partition) matching the filter, all pages.</summary>
    public async Task<List<SnapshotRow>> ReadVersionAsync(Grain grain, string period, int version, string? attempt, SnapshotFilter filter, CancellationToken ct)
    {
        var rows = new List<SnapshotRow>();
        string? token = null;
        do
        {
            var page = await QueryAsync(grain, period, version, attempt, filter, 1000, token, ct);
            rows.AddRange(page.Rows);
            token = page.ContinuationToken;
        } while (token is not null);
        return rows;
    }

    /// <summary>One page of a version's rows (as <paramref name="attempt"/> wrote it; null: its own partition) matching the filter.</summary>
    public async Task<SnapshotPage> QueryAsync(Grain grain, string period, int version, string? attempt, SnapshotFilter filter, int pageSize, string? continuation, CancellationToken ct)
    {
        var pk = SnapshotEntity.Partition(grain, period, version, attempt);
        var query = TableClient.CreateQueryFilter($"PartitionKey eq {pk}");
        if (filter.Indicator is { } indicator)
        {
            // Rows of one indicator share the row-key prefix "indicator|", a key range rather than a scan.
            var prefix = StorageKeys.Encode(indicator) + "|";
            var after = StorageKeys.Encode(indicator) + "}";
            query += " and " + TableClient.CreateQueryFilter($"RowKey ge {prefix} and RowKey lt {after}");
        }
        if (filter.Family is { } family) query += " and " + TableClient.CreateQueryFilter($"Family eq {family}");
        if (filter.Scope is { } scope) query += " and " + TableClient.CreateQueryFilter($"Scope eq {scope}");
        var page = await _rows.QueryAsync<TableEntity>(query, maxPerPage: pageSize, cancellationToken: ct).AsPages(continuation, pageSize).FirstAsync(ct);
        return new SnapshotPage(page.Values.Select(SnapshotEntity.FromEntity).ToList(), page.ContinuationToken);
    }

    public async Task<SnapshotRow?> GetAsync(Grain grain, string period, int version, string? attempt, string indicator, string scope, CancellationToken ct)
    {
        var row = await _rows.GetEntityIfExistsAsync<TableEntity>(SnapshotEntity.Partition(grain, period, version, attempt), SnapshotEntity.Row(indicator, scope), cancellationToken: ct);
        return row.HasValue ? SnapshotEntity.FromEntity(row.Value!) : null;
    }

    private static LatestSnapshot ToLatest(TableEntity e)
    {
        Grains.TryParse(e.PartitionKey, out var grain);
        var latest = e.GetInt32("Latest") ?? 0;
        var attempts = VersionAttempts.Parse(e.GetString(AttemptsProperty));
        return new LatestSnapshot(grain, e.GetString("Period") ?? StorageKeys.Decode(e.RowKey), latest, e.GetString("RunId") ?? "",
            e.GetDateTimeOffset("ComputedAt") ?? default, e.GetInt32("Rows") ?? 0, e.ETag, e.GetDateTimeOffset("PeriodStart") ?? default, e.GetDateTimeOffset("PeriodEnd") ?? default,
            e.GetString("Calendar"), attempts.Of(latest), attempts);
    }
}
