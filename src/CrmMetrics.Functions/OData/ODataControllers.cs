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
