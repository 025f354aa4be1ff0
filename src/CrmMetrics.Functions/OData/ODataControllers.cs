using System.Text.Json.Nodes;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Alerts;
using CrmMetrics.Storage.Snapshots;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OData.Query;
using Microsoft.AspNetCore.OData.Routing.Controllers;

namespace CrmMetrics.Functions.OData;

/// <summary>
/// Builds the feed parts of snapshot-based entity sets: one part per period whose latest version the
/// filter selects, each read from its own partition with the row conditions the table can apply.
/// </summary>
public sealed class SnapshotParts(SnapshotStore snapshots, CrmMetricsSettings settings)
{
    /// <summary>
    /// Parts of one entity per stored row. When <paramref name="rows"/> reads every row, each part knows how many
    /// it gives, the count its latest version records (so <c>$orderby</c> and <c>$count</c> can be refused before
    /// reading); a condition the table applies leaves that count an upper bound only, and the part's count unknown.
    /// </summary>
    public Task<IReadOnlyList<FeedPart<T>>> BuildAsync<T>(PartitionFilter filter, SnapshotFilter rows, Func<SnapshotRow, Period, T> map, CancellationToken ct) =>
        PartsAsync(filter, rows, (list, period) => list.Select(r => map(r, period)).ToList(), rows.ReadsEveryRow, ct);

    /// <summary>Parts whose entities <paramref name="map"/> makes from a period's rows together: how many each gives is unknown until it is read.</summary>
    public Task<IReadOnlyList<FeedPart<T>>> BuildGroupedAsync<T>(PartitionFilter filter, SnapshotFilter rows, Func<IReadOnlyList<SnapshotRow>, Period, IReadOnlyList<T>> map, CancellationToken ct) =>
        PartsAsync(filter, rows, map, countsKnown: false, ct);

    /// <summary>
    /// The entities of the period an entity key names (<c>grain|period|…</c>, as every snapshot-based entity's
    /// <c>id</c> begins), read from its latest version with <paramref name="rows"/>, and the one whose id is the key;
    /// null when the key names no period, or none served.
    /// </summary>
    public async Task<T?> FindAsync<T>(string key, SnapshotFilter rows, Func<IReadOnlyList<SnapshotRow>, Period, IReadOnlyList<T>> map, Func<T, string> id, CancellationToken ct)
        where T : class
    {
        var parts = key.Split('|', 3);
        if (parts.Length < 3 || !Grains.TryParse(parts[0], out var grain) || !settings.Calendar.TryParse(parts[1], grain, out var period, out _)) return null;
        if (await snapshots.LatestAsync(grain, period!.Key, ct) is not { Version: > 0 } latest || Runs.SnapshotReader.CalendarChange(latest, settings.Calendar) is not null) return null;
        var entities = map(await snapshots.ReadVersionAsync(grain, period.Key, latest.Version, latest.Attempt, rows, ct), period);
        return entities.FirstOrDefault(e => id(e) == key);
    }

    private async Task<IReadOnlyList<FeedPart<T>>> PartsAsync<T>(PartitionFilter filter, SnapshotFilter rows, Func<IReadOnlyList<SnapshotRow>, Period, IReadOnlyList<T>> map,
        bool countsKnown, CancellationToken ct)
    {
        // Several queries when one would pass the service's comparison limit; a period several select is read once.
        var pointers = new Dictionary<(Grain, string), LatestSnapshot>();
        foreach (var query in filter.PointerFilters())
        {
            await foreach (var p in snapshots.LatestWhereAsync(query, ct)) pointers.TryAdd((p.Grain, p.Period), p);
        }
        return pointers.Values
            .Select(p => (Pointer: p, Period: settings.Calendar.TryParse(p.Period, p.Grain, out var period, out _) ? period : null))
            // A period whose key meant other days when it was computed (CrmMetrics:Calendar changed since) has no rows until computed again.
            .Where(x => x.Period is not null && Runs.SnapshotReader.CalendarChange(x.Pointer, settings.Calendar) is null)
            .OrderBy(x => x.Pointer.Grain).ThenBy(x => x.Pointer.Period, StringComparer.Ordinal)
            .Select(x => new FeedPart<T>($"{(int)x.Pointer.Grain}|{x.Pointer.Period}", async token =>
                map(await snapshots.ReadVersionAsync(x.Pointer.Grain, x.Pointer.Period, x.Pointer.Version, x.Pointer.Attempt, rows, token), x.Period!), countsKnown ? x.Pointer.Rows : null))
            .ToList();
    }
}

[Route("odata")]
public sealed class SnapshotsController(SnapshotParts parts) : ODataController
{
    [HttpGet("Snapshots")]
    public async Task<IActionResult> Get(ODataQueryOptions<ODataSnapshot> options, CancellationToken ct) =>
        await Serve(this, options, parts, null, ODataSnapshot.From, ct);

    /// <summary>One row by its key, the <c>@odata.id</c> full metadata gives it (found by probing: those links answered 404).</summary>
    [HttpGet("Snapshots({key})")]
    public async Task<IActionResult> Get(string key, CancellationToken ct) => await ServeOne(this, parts, "Snapshots", key, null, ODataSnapshot.From, ct);

    /// <summary>The row of a snapshot-based set whose id is <paramref name="key"/> (<c>grain|period|indicator|scope</c>), or a 404 saying why.</summary>
    internal static async Task<IActionResult> ServeOne<T>(ControllerBase controller, SnapshotParts parts, string set, string key, string? family, Func<SnapshotRow, Period, T> map, CancellationToken ct)
        where T : ODataSnapshot
    {
        // The indicator and scope narrow the read to the row (neither holds '|': both are checked where rows are written).
        var named = key.Split('|');
        var entity = named.Length == 4
            ? await parts.FindAsync(key, new SnapshotFilter(named[2], family, named[3]), (rows, period) => rows.Select(r => map(r, period)).ToList(), e => e.Id, ct)
            : null;
        return ODataFeed.Entity(controller, entity, set, key);
    }

    /// <summary>Latest snapshot rows (of one <paramref name="family"/>, or any), each as <paramref name="map"/> makes it.</summary>
    internal static async Task<IActionResult> Serve<T>(ControllerBase controller, ODataQueryOptions<T> options, SnapshotParts parts, string? family,
        Func<SnapshotRow, Period, T> map, CancellationToken ct)
    {
        if (ODataFeed.Validate(controller, options) is { } invalid) return invalid;
        var filter = PartitionFilter.From(options.Filter?.FilterClause, ODataFeed.Calendar(controller));
        // A family this set never holds: no rows, answered as any empty result is (found by probing: /$count gave an empty body,
        // $count=true no count, and a bad $skiptoken was taken).
        if (family is not null && filter.Family is { } asked && asked != family) return await ODataFeed.ServeAsync(controller, options, Array.Empty<FeedPart<T>>(), ct);
        var rows = new SnapshotFilter(filter.Indicator, family ?? filter.Family, filter.Scope);
        var feed = await parts.BuildAsync(filter, rows, map, ct);
        return await ODataFeed.ServeAsync(controller, options, feed, ct);
    }
}

/// <summary>The competitor benchmark family of the snapshots; a controller of its own so the routing conventions give it /$count like the other sets.</summary>
[Route("odata")]
public sealed class BenchmarksController(SnapshotParts parts) : ODataController
{
    [HttpGet("Benchmarks")]
    public async Task<IActionResult> Get(ODataQueryOptions<ODataBenchmark> options, CancellationToken ct) =>
        await SnapshotsController.Serve(this, options, parts, Families.CompetitorBenchmarks, ODataBenchmark.From, ct);

    [HttpGet("Benchmarks({key})")]
    public async Task<IActionResult> Get(string key, CancellationToken ct) =>
        await SnapshotsController.ServeOne(this, parts, "Benchmarks", key, Families.CompetitorBenchmarks, ODataBenchmark.From, ct);
}

[Route("odata")]
public sealed class GoalAttainmentController(SnapshotParts parts) : ODataController
{
    [HttpGet("GoalAttainment")]
    public async Task<IActionResult> Get(ODataQueryOptions<ODataGoalAttainment> options, CancellationToken ct)
    {
        if (ODataFeed.Validate(this, options) is { } invalid) return invalid;
        var filter = PartitionFilter.From(options.Filter?.FilterClause, ODataFeed.Calendar(this));
        var feed = await parts.BuildAsync(filter, new SnapshotFilter(Indicator: "goal.attainment"), Map, ct);
        return await ODataFeed.ServeAsync(this, options, feed, ct);
    }

    /// <summary>One goal's attainment by its key, <c>grain|period|scope</c> of its row.</summary>
    [HttpGet("GoalAttainment({key})")]
    public async Task<IActionResult> Get(string key, CancellationToken ct)
    {
        var named = key.Split('|');
        var entity = named.Length == 3
            ? await parts.FindAsync(key, new SnapshotFilter(Indicator: "goal.attainment", Scope: named[2]), (rows, period) => rows.Select(r => Map(r, period)).ToList(), e => e.Id, ct)
            : null;
        return ODataFeed.Entity(this, entity, "GoalAttainment", key);
    }

    private static ODataGoalAttainment Map(SnapshotRow row, Period period)
    {
        var d = row.Details ?? [];
        return new ODataGoalAttainment
        {
            Id = $"{Grains.Key(row.Grain)}|{row.Period}|{row.Scope}",
            GoalId = d["goalId"]?.GetValue<string>() ?? row.Scope, Name = d["name"]?.GetValue<string>(), NameFa = d["nameFa"]?.GetValue<string>(), Indicator = d["indicator"]?.GetValue<string>(),
            Scope = d["scope"]?.GetValue<string>(), Grain = Grains.Key(row.Grain), Period = row.Period,
            PeriodStart = period.Calendar.InZone(period.Start), PeriodEnd = period.Calendar.InZone(period.End),
            Actual = Dec(d["actual"]), Target = Dec(d["target"]), Attainment = row.Value, Projected = Dec(d["projected"]), ProjectedAttainment = Num(d["projectedAttainment"]),
            Status = d["status"]?.GetValue<string>(), ParentGoalId = d["parentGoalId"]?.GetValue<string>(),
            ComputedAt = period.Calendar.InZone(row.ComputedAt), RunId = row.RunId, Version = row.Version,
        };
    }

    internal static double? Num(JsonNode? n) => n is null ? null : double.Parse(n.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
    /// <summary>A number of the details as a decimal; null when there is none, or when a decimal cannot hold it.</summary>
    internal static decimal? Dec(JsonNode? n) =>
        n is not null && decimal.TryParse(n.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
}

[Route("odata")]
public sealed class StaffScorecardsController(SnapshotParts parts) : ODataController
{
    [HttpGet("StaffScorecards")]
    public async Task<IActionResult> Get(ODataQueryOptions<ODataStaffScorecard> options, CancellationToken ct)
    {
        if (ODataFeed.Validate(this, options) is { } invalid) return invalid;
        var filter = PartitionFilter.From(options.Filter?.FilterClause, ODataFeed.Calendar(this));
        var feed = await parts.BuildGroupedAsync(filter, new SnapshotFilter(Family: Families.StaffIncentives), Map, ct);
        return await ODataFeed.ServeAsync(this, options, feed, ct);
    }

    /// <summary>One staff member's scorecard by its key, <c>grain|period|staff:id</c>.</summary>
    [HttpGet("StaffScorecards({key})")]
    public async Task<IActionResult> Get(string key, CancellationToken ct)
    {
        var named = key.Split('|');
        var entity = named.Length == 3 && named[2].StartsWith("staff:", StringComparison.Ordinal)
            ? await parts.FindAsync(key, new SnapshotFilter(Family: Families.StaffIncentives, Scope: named[2]), Map, e => e.Id, ct)
            : null;
        return ODataFeed.Entity(this, entity, "StaffScorecards", key);
    }

    private static IReadOnlyList<ODataStaffScorecard> Map(IReadOnlyList<SnapshotRow> rows, Period period) =>
        rows.Where(r => r.Scope.StartsWith("staff:", StringComparison.Ordinal)).GroupBy(r => r.Scope).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var payout = g.FirstOrDefault(r => r.Indicator == "staff.incentive-payout");
            var quota = g.FirstOrDefault(r => r.Indicator == "staff.quota-attainment");
            var d = (payout ?? quota)?.Details ?? [];
            var any = g.First();
            return new ODataStaffScorecard
            {
                Id = $"{Grains.Key(any.Grain)}|{any.Period}|{g.Key}", StaffId = g.Key["staff:".Length..], Grain = Grains.Key(any.Grain), Period = any.Period,
                PeriodStart = period.Calendar.InZone(period.Start), PeriodEnd = period.Calendar.InZone(period.End), PlanId = d["planId"]?.GetValue<string>(), Quota = GoalAttainmentController.Dec(d["quota"]),
                MeasureValue = GoalAttainmentController.Dec(d["measureValue"]), QuotaAttainment = quota?.Value, Payout = payout?.Exact is { } exact ? Api.SnapshotRowDto.Trimmed(exact) : null,
                RankByPayout = d["rankByPayout"]?.GetValue<int>(), RankByQuotaAttainment = d["rankByQuotaAttainment"]?.GetValue<int>(),
                ComputedAt = period.Calendar.InZone(any.ComputedAt), RunId = any.RunId, Version = any.Version,
            };
        }).ToList();
}

[Route("odata")]
public sealed class AlertsController(AlertLedger ledger) : ODataController
{
    [HttpGet("Alerts")]
    public async Task<IActionResult> Get(ODataQueryOptions<ODataAlert> options, CancellationToken ct)
    {
        if (ODataFeed.Validate(this, options) is { } invalid) return invalid;
        var filter = PartitionFilter.From(options.Filter?.FilterClause, ODataFeed.Calendar(this), ["Time"]);
        // The alerts since the filter's lower bound on Time (all of them without one), newest first: one part (alerts are few per day).
        var since = filter.LowerBound("Time");
        var calendar = ODataFeed.Calendar(this);
        var part = new FeedPart<ODataAlert>("0", async token =>
        {
            var result = new List<ODataAlert>();
            string? continuation = null;
            do
            {
                var (alerts, next) = await ledger.ListAsync(since, 1000, continuation, token);
                result.AddRange(alerts.Select(a => Map(a, calendar.InZone(a.RaisedAt))));
                continuation = next;
            } while (continuation is not null);
            return result;
        });
        return await ODataFeed.ServeAsync(this, options, [part], ct);
    }

    /// <summary>One alert by its key, the CloudEvent id.</summary>
    [HttpGet("Alerts({key})")]
    public async Task<IActionResult> Get(string key, CancellationToken ct)
    {
        var alert = key.Length is > 0 and <= 512 ? await ledger.FindAsync(key, ct) : null;
        return ODataFeed.Entity(this, alert is null ? null : Map(alert, ODataFeed.Calendar(this).InZone(alert.RaisedAt)), "Alerts", key);
    }

    private static ODataAlert Map(RecordedAlert alert, DateTimeOffset raisedAt)
    {
        var e = alert.CloudEvent;
        var d = e["data"] as JsonObject ?? [];
        return new ODataAlert
        {
            Id = e["id"]?.GetValue<string>() ?? "", Type = e["type"]?.GetValue<string>() ?? "", Kind = d["kind"]?.GetValue<string>() ?? "digest",
            Severity = d["severity"]?.GetValue<string>() ?? "", Subject = e["subject"]?.GetValue<string>() ?? "", Indicator = d["indicator"]?.GetValue<string>() ?? "",
            Scope = d["scope"]?.GetValue<string>() ?? "", Grain = d["grain"]?.GetValue<string>() ?? "", Period = d["period"]?.GetValue<string>() ?? "",
            Value = GoalAttainmentController.Num(d["value"]), GoalId = d["goalId"]?.GetValue<string>(),
            Message = d["message"]?.GetValue<string>() ?? "", MessageFa = d["messageFa"]?.GetValue<string>() ?? "", Time = raisedAt,
            State = alert.State, ResolvedBy = alert.ResolvedBy,
        };
    }
}
