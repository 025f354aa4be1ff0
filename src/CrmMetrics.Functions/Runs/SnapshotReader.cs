using System.Text;
using System.Text.Json;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Snapshots;

namespace CrmMetrics.Functions.Runs;

/// <summary>Where a paged read of latest snapshots continues: which period, and where inside its rows.</summary>
/// <param name="Query">
/// The <see cref="SnapshotQuery.Fingerprint"/> of the query the cursor continues: a token used with
/// other filters would skip rows silently. Null in tokens given out before it was kept.
/// </param>
/// <param name="Version">
/// The version being read when the cursor stops inside a period (<paramref name="Table"/> set): the
/// next page goes on in that version even after a run made a newer one the latest (versions stay
/// readable), or the pages would mix two versions' rows. Null in tokens given out before it was kept.
/// </param>
/// <param name="Attempt">
/// The attempt whose partition of <paramref name="Version"/> is being read (<see cref="LatestSnapshot.Attempt"/>), null for
/// the version's own: the next page goes on in the same partition even after another delivery's rows were promoted.
/// </param>
public sealed record SnapshotCursor(string Grain, string Period, string? Table, string? Query = null, int? Version = null, string? Attempt = null)
{
    public string Encode() => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this)));

    public static SnapshotCursor? TryDecode(string token)
    {
        try
        {
            var cursor = JsonSerializer.Deserialize<SnapshotCursor>(Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token)));
            return cursor is { Grain: not null, Period: not null } && Grains.TryParse(cursor.Grain, out _) ? cursor : null;
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            return null;
        }
    }
}

/// <summary>What to read: the latest snapshots of one period, of one grain, or of all; optionally filtered.</summary>
/// <remarks><see cref="Version"/> reads an earlier version of <see cref="Period"/> instead of the latest.</remarks>
/// <param name="Latest">
/// The period's latest pointer as the caller read it, to read the rows it names rather than read it again: an answer's
/// ETag, its <c>calendarChange</c> and its rows then come from one read (<see cref="Period"/> only, without a version).
/// </param>
public sealed record SnapshotQuery(Grain? Grain, Period? Period, SnapshotFilter Filter, int PageSize, SnapshotCursor? Cursor, int? Version = null, LatestSnapshot? Latest = null)
{
    /// <summary>What chooses the rows (grain, period, filters, version; not the page size), hashed: the same for every page of one query.</summary>
    public string Fingerprint()
    {
        // A period names its grain, given or not.
        var text = string.Join('\n', (Period?.Grain ?? Grain) is { } g ? Grains.Key(g) : "", Period?.Key ?? "", Filter.Indicator ?? "", Filter.Family ?? "", Filter.Scope ?? "", Version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "");
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 8));
    }
}

/// <summary>
/// The latest rows of one period, or none with why its latest version is not served (<see cref="SnapshotReader.CalendarChange"/>);
/// <paramref name="Served"/> is the pointer whose version they are, for more reads of the same version (null: none served).
/// </summary>
public sealed record PeriodSnapshots(IReadOnlyList<SnapshotRow> Rows, string? CalendarChange, LatestSnapshot? Served = null)
{
    public static PeriodSnapshots None { get; } = new([], null);
}

/// <summary>
/// Reads the latest snapshot rows by partition: one period's latest version at a time, in (grain,
/// period) order, with a continuation token that spans periods. Never touches raw facts. A latest version
/// computed under another <c>CrmMetrics:Calendar</c>, in which its key named other days, is read as no version.
/// </summary>
public sealed class SnapshotReader(SnapshotStore snapshots, CrmMetricsSettings settings)
{
    /// <summary>
    /// Why <paramref name="latest"/> is not served under the calendar <paramref name="now"/>, or null: it was computed
    /// under another <c>CrmMetrics:Calendar</c>, in which its key names other days (under fiscal:4, 2026-Q1 is April to
    /// June 2026; computed under gregorian, its figures are January to March's). A version promoted before the calendar
    /// was recorded on it is served as before: its calendar is unknown.
    /// </summary>
    public static string? CalendarChange(LatestSnapshot latest, PeriodCalendar now)
    {
        if (latest.Calendar is not { } then || !now.NamesOtherDays(then, latest.Period, latest.Grain)) return null;
        var key = latest.Period;
        return $"{key} was computed under CrmMetrics:Calendar {then}, where it names {DaysOf(then, now.TimeZone.Id, key, latest.Grain)}; " +
               $"CrmMetrics:Calendar is now {now.Calendar.Setting}, where it names {DaysOf(now.Calendar.Setting, now.TimeZone.Id, key, latest.Grain)}. " +
               $"Its figures are not served until a run computes it again: POST /api/runs with \"period\": \"{key}\", or a scheduled run that finalises it.";
    }

    /// <summary>The days <paramref name="key"/> names under a calendar setting, for people.</summary>
    private static string DaysOf(string calendar, string zone, string key, Grain grain) =>
        PeriodCalendar.TryCreate(calendar, zone, out var c, out _) && c.TryParse(key, grain, out var p, out _)
            ? $"{IsoDay.Text(p.FirstDay)} to {IsoDay.Text(p.LastDay)}"
            : "no period";

    /// <summary>Whether the latest version is served under the calendar now (<see cref="CalendarChange"/>).</summary>
    private bool Served(LatestSnapshot latest) => CalendarChange(latest, settings.Calendar) is null;

    public async Task<SnapshotPage> ReadLatestAsync(SnapshotQuery query, CancellationToken ct)
    {
        var targets = await TargetsAsync(query, ct);
        var rows = new List<SnapshotRow>(query.PageSize);
        var start = 0;
        string? tableToken = null;
        if (query.Cursor is { } cursor)
        {
            start = targets.FindIndex(t => Grains.Key(t.Grain) == cursor.Grain && t.Period == cursor.Period);
            if (start < 0) start = targets.FindIndex(t => Compare(t, cursor) > 0);
            else
            {
                tableToken = cursor.Table;
                if (tableToken is not null && cursor.Version is { } version) targets[start] = targets[start] with { Version = version, Attempt = cursor.Attempt };
            }
            if (start < 0) return new SnapshotPage([], null);
        }
        for (var i = start; i < targets.Count; i++)
        {
            var target = targets[i];
            var page = await snapshots.QueryAsync(target.Grain, target.Period, target.Version, target.Attempt, query.Filter, query.PageSize - rows.Count, tableToken, ct);
            rows.AddRange(page.Rows);
            tableToken = null;
            if (page.ContinuationToken is not null)
                return new SnapshotPage(rows, new SnapshotCursor(Grains.Key(target.Grain), target.Period, page.ContinuationToken, query.Fingerprint(), target.Version, target.Attempt).Encode());
            if (rows.Count >= query.PageSize && i + 1 < targets.Count)
                return new SnapshotPage(rows, new SnapshotCursor(Grains.Key(targets[i + 1].Grain), targets[i + 1].Period, null, query.Fingerprint()).Encode());
        }
        return new SnapshotPage(rows, null);
    }

    /// <summary>Every latest row of one period matching the filter (all pages).</summary>
    public async Task<IReadOnlyList<SnapshotRow>> ReadAllAsync(Period period, SnapshotFilter filter, CancellationToken ct, int? version = null) =>
        (await ReadPeriodAsync(period, filter, ct, version)).Rows;

    /// <summary>
    /// Every latest row of one period matching the filter (all pages; of <paramref name="version"/> when given), or none and
    /// why, when its latest version was computed under another calendar (<see cref="CalendarChange"/>).
    /// </summary>
    /// <remarks>With <paramref name="served"/> (a pointer an earlier read of the period served), the rows of its version are read without reading the pointer again.</remarks>
    public async Task<PeriodSnapshots> ReadPeriodAsync(Period period, SnapshotFilter filter, CancellationToken ct, int? version = null, LatestSnapshot? served = null)
    {
        if (served is not null)
            return new(await snapshots.ReadVersionAsync(period.Grain, period.Key, served.Version, served.Attempt, filter, ct), null, served);
        // A version asked for by number is read where its rows are: its own partition, or that of the attempt that wrote it again.
        if (version is { } asked)
            return new(await snapshots.ReadVersionAsync(period.Grain, period.Key, asked, await snapshots.AttemptOfAsync(period.Grain, period.Key, asked, ct), filter, ct), null);
        if (await snapshots.LatestAsync(period.Grain, period.Key, ct) is not { Version: > 0 } latest) return PeriodSnapshots.None;
        return CalendarChange(latest, settings.Calendar) is { } why
            ? new([], why)
            : new(await snapshots.ReadVersionAsync(period.Grain, period.Key, latest.Version, latest.Attempt, filter, ct), null, latest);
    }

    /// <summary>The latest row of each period from..to for one indicator and scope, in period order.</summary>
    public async Task<IReadOnlyList<SnapshotRow>> SeriesAsync(string indicator, string scope, Grain grain, Period? from, Period? to, CancellationToken ct)
    {
        var latest = new List<LatestSnapshot>();
        await foreach (var l in snapshots.LatestOfGrainAsync(grain, from?.Key, to?.Key, ct))
        {
            if (Served(l)) latest.Add(l);
        }
        var rows = new SnapshotRow?[latest.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, latest.Count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
            rows[i] = await snapshots.GetAsync(grain, latest[i].Period, latest[i].Version, latest[i].Attempt, indicator, scope, token));
        return rows.Where(r => r is not null).Select(r => r!).ToList();
    }

    private async Task<List<LatestSnapshot>> TargetsAsync(SnapshotQuery query, CancellationToken ct)
    {
        if (query.Period is { } period)
        {
            if (query.Version is { } version)
                return [new LatestSnapshot(period.Grain, period.Key, version, "", default, 0, default,
                    Attempt: query.Latest is { } pointer ? pointer.Attempts?.Of(version) : await snapshots.AttemptOfAsync(period.Grain, period.Key, version, ct))];
            var latest = query.Latest ?? await snapshots.LatestAsync(period.Grain, period.Key, ct);
            return latest is { Version: > 0 } && Served(latest) ? [latest] : [];
        }
        var targets = new List<LatestSnapshot>();
        foreach (var grain in query.Grain is { } g ? [g] : Grains.All)
        {
            await foreach (var l in snapshots.LatestOfGrainAsync(grain, null, null, ct))
            {
                if (Served(l)) targets.Add(l);
            }
        }
        return targets;
    }

    private static int Compare(LatestSnapshot target, SnapshotCursor cursor)
    {
        Grains.TryParse(cursor.Grain, out var grain);
        var byGrain = target.Grain.CompareTo(grain);
        return byGrain != 0 ? byGrain : string.CompareOrdinal(target.Period, cursor.Period);
    }
}
