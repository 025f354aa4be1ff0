using System.Diagnostics;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Lifecycle;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Samples;
using DuckDB.NET.Data;

namespace CrmMetrics.Bench;

/// <summary>
/// The in-memory calculator (lifecycle, day aggregation, merge, indicators) over about a million facts
/// against DuckDB computing the same organisation-level indicators with SQL over the same rows, in
/// this process. Loading is timed for neither: DuckDB's appender fills its columns, ours fill
/// <see cref="FactColumns"/> (the form the map step reads facts in). Both are checked to agree.
/// </summary>
public static class CalculatorBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var scale = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 15; // about a million facts
        BenchEnvironment.PrintMachine();
        PeriodCalendar.TryCreate("gregorian", "UTC", out var calendar, out _);
        var validator = new FactValidator(new FactRules { Calendar = calendar!, IsReportableIndicator = IndicatorCatalog.IsReportableByCompetitors }, TimeProvider.System);
        List<Fact>? facts = [];
        foreach (var e in SyntheticCrm.Generate(new SyntheticCrmOptions
                 {
                     From = new DateOnly(2026, 9, 1), To = new DateOnly(2026, 9, 30), Customers = 20_000, ExistingShare = 0.9,
                     OrdersPerCustomerMonth = 1.2 * scale, InteractionsPerCustomerMonth = 1.5 * scale, SurveysPerCustomerMonth = 0.5 * scale,
                     ComplaintsPerCustomerMonth = 0.08 * scale, DealsPerStaffMonth = 6 * scale, DuplicateShare = 0, LateShare = 0, CompetitorObservations = false, Seed = 29,
                 }))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(e.ToJsonString());
            if (validator.TryValidate(doc.RootElement, out var fact, out _)) facts.Add(fact!);
        }
        var month = calendar!.Parse("2026-09", Grain.Month);
        Console.WriteLine($"{facts.Count} facts ({facts.Count(f => month.Contains(f.Time))} in 2026-09)");
        var columns = new FactColumns(new FactLabels(), facts.Count);
        foreach (var fact in facts) columns.Add(fact);
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        Load(duck, facts);
        // Both sides hold their own copy now; the records and the generator's garbage are nobody's cost.
        facts = null;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);

        var memory = new PeakMemory();
        var (ours, ourValues, oursPeak) = Time(memory, () => Calculate(columns, month, calendar, breakdowns: false));
        var (oursAll, ourAllValues, oursAllPeak) = Time(memory, () => Calculate(columns, month, calendar, breakdowns: true));
        var (theirs, duckValues, duckPeak) = Time(memory, () => Query(duck, month));

        // Percentiles may come from the mergeable sketch (contract: within 1%); everything else is exact.
        var differ = new[] { ("org level", ourValues), ("every breakdown, org rows", ourAllValues) }
            .SelectMany(run => duckValues.Where(d => !run.Item2.TryGetValue(d.Key, out var o) || !Close(o, d.Value, d.Key.Contains("resolution-hours") ? 0.01 : 1e-6))
                .Select(d => $"{run.Item1} {d.Key}: ours {run.Item2.GetValueOrDefault(d.Key)} duckdb {d.Value}"))
            .ToList();
        if (differ.Count > 0)
        {
            Console.WriteLine("values differ: " + string.Join("; ", differ));
            return 1;
        }
        Console.WriteLine($"values agree on {duckValues.Count} org-level indicators in both runs (percentiles within 1%)");
        var oursMedian = Median(ours);
        var duckMedian = Median(theirs);
        var allMedian = Median(oursAll);
        Console.WriteLine($"calculator, org-level indicators (lifecycle, days, merge, indicators): median {oursMedian,5:0} ms ({Join(ours)}), peak working set {PeakMemory.MiB(oursPeak)} MiB");
        Console.WriteLine($"calculator with every breakdown (channel, segment, region, staff):     median {allMedian,5:0} ms ({Join(oursAll)}), peak working set {PeakMemory.MiB(oursAllPeak)} MiB");
        Console.WriteLine($"DuckDB SQL, the same org-level indicators:                            median {duckMedian,5:0} ms ({Join(theirs)}), peak working set {PeakMemory.MiB(duckPeak)} MiB");
        Console.WriteLine("(peak working sets are of this process, which holds the facts both as our columns and in DuckDB throughout)");
        Console.WriteLine($"ratio DuckDB time / calculator time, org level: {duckMedian / oursMedian:0.00} (aim >= 1.00: at least as fast as DuckDB)");
        Console.WriteLine($"ratio DuckDB time / calculator time with every breakdown: {duckMedian / allMedian:0.00} (aim >= 0.70)");
        await Task.CompletedTask;
        return 0;
    }

    /// <summary>One warm-up, then three timed runs: their times, the last result, and the peak working set while they ran.</summary>
    private static (List<double> Times, T Result, long PeakBytes) Time<T>(PeakMemory memory, Func<T> run)
    {
        var times = new List<double>();
        var result = run();
        memory.Reset();
        for (var i = 0; i < 3; i++)
        {
            var watch = Stopwatch.StartNew();
            result = run();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        return (times, result, memory.Peak);
    }

    private static double Median(List<double> times) => times.Order().ElementAt(times.Count / 2);

    private static string Join(List<double> times) => string.Join(", ", times.Select(t => t.ToString("0", System.Globalization.CultureInfo.InvariantCulture)));

    private static bool Close(double? a, double? b, double tolerance) => a is null ? b is null : b is not null && Math.Abs(a.Value - b.Value) <= tolerance * Math.Max(1, Math.Abs(a.Value));

    /// <summary>
    /// The product's map/reduce arithmetic over facts in memory, as the runs do it without storage:
    /// lifecycle effects and complaint resolutions (which ingestion keeps in timelines and cases),
    /// each local day folded into a partial by <see cref="DayAggregator"/>, the month's partials
    /// merged by <see cref="PeriodAggregate"/>, and its indicators.
    /// </summary>
    private static Dictionary<string, double?> Calculate(FactColumns facts, Period month, PeriodCalendar calendar, bool breakdowns)
    {
        var sw = Stopwatch.StartNew();
        var gc = GcActivity.Start();
        var labels = facts.Labels;
        var (effects, dimensions) = Lifecycle(facts);
        var resolutions = Resolutions.Compute(facts, defaultSlaHours: 48);
        var t1 = sw.ElapsedMilliseconds;

        // Facts by local day, as the store's day partitions hold them: plain facts, then lifecycle facts, then resolves.
        var byDay = ByLocalDay(facts, calendar);
        var t2 = sw.ElapsedMilliseconds;
        var partials = Enumerable.Range(0, byDay.Days).AsParallel().Select(d =>
        {
            var aggregator = new DayAggregator(byDay.FirstDay.AddDays(d), labels, breakdowns);
            aggregator.Add(facts, byDay.Rows(d, Category.Plain), dimensions);
            foreach (var row in byDay.Rows(d, Category.Lifecycle))
            {
                var customer = facts.Customers[row];
                aggregator.AddLifecycle(facts, row, effects[row], dimensions.SegmentOf(customer), dimensions.RegionOf(customer));
            }
            foreach (var row in byDay.Rows(d, Category.Resolve))
            {
                var resolution = resolutions.Of(facts, row);
                // Labels are only read here (every customer is numbered already), which is safe in parallel.
                var customer = resolution?.CustomerId is { } id ? labels.Customers.Code(id) : facts.Customers[row];
                aggregator.AddResolve(facts, row, resolution, dimensions.SegmentOf(customer), dimensions.RegionOf(customer));
            }
            return aggregator.Result();
        }).ToList();

        var t3 = sw.ElapsedMilliseconds;
        var activeAtStart = new Dictionary<string, long>(StringComparer.Ordinal);
        var activeAtEnd = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var p in partials.Where(p => p.Day <= month.LastDay))
        foreach (var (scope, delta) in p.ActiveDeltas)
        {
            activeAtEnd[scope] = activeAtEnd.GetValueOrDefault(scope) + delta.Net;
            if (p.Day < month.FirstDay) activeAtStart[scope] = activeAtStart.GetValueOrDefault(scope) + delta.Net;
        }
        var aggregate = PeriodAggregate.Merge(month, partials, activeAtStart, activeAtEnd);
        var t4 = sw.ElapsedMilliseconds;
        var result = aggregate.BaseRows().Where(r => r.Scope == Scope.Org).ToDictionary(r => r.Indicator, r => r.Value);
        if (Environment.GetEnvironmentVariable("BENCH_VERBOSE") == "1")
            Console.WriteLine($"  state {t1} ms, split {t2 - t1} ms, days {t3 - t2} ms, merge {t4 - t3} ms, indicators {sw.ElapsedMilliseconds - t4} ms; " +
                              $"allocated {gc.Allocated / 1048576.0:0} MiB, collections gen0/gen1/gen2 {gc.Collections(0)}/{gc.Collections(1)}/{gc.Collections(2)}, pauses {gc.Pause.TotalMilliseconds:0} ms");
        return result;
    }

    /// <summary>Each lifecycle fact's effect (by row) and each customer's segment and region, by the timeline's rules.</summary>
    private static (LifecycleEffect[] Effects, CustomerDimensions Dimensions) Lifecycle(FactColumns facts)
    {
        var types = facts.Types;
        var lifecycle = new List<int>();
        for (var row = 0; row < types.Length; row++)
        {
            if (types[row].IsLifecycle()) lifecycle.Add(row);
        }
        var ordered = lifecycle.ToArray();
        // Each customer's facts together, in timeline order.
        Array.Sort(ordered, (a, b) =>
        {
            var c = facts.Customers[a].CompareTo(facts.Customers[b]);
            return c != 0 ? c : CustomerTimeline.Compare(facts.Ticks[a], facts.Types[a], facts.Ids[a], facts.Ticks[b], facts.Types[b], facts.Ids[b]);
        });
        var effects = new LifecycleEffect[facts.Count];
        var dimensions = new CustomerDimensions(facts.Labels);
        var state = new LifecycleState();
        for (var i = 0; i < ordered.Length; i++)
        {
            var row = ordered[i];
            var customer = facts.Customers[row];
            if (i == 0 || facts.Customers[ordered[i - 1]] != customer) state = new LifecycleState();
            effects[row] = state.Apply(types[row]);
            if (types[row] == FactType.CustomerAcquired && !dimensions.Has(customer)) dimensions.Set(customer, facts.Segments[row], facts.Regions[row]);
        }
        return (effects, dimensions);
    }

    /// <summary>Each case's counted resolve (its first) and the resolution it stands for (with the case's first open), by case code.</summary>
    private sealed class Resolutions(int[] resolveRow, Resolution?[] resolution)
    {
        /// <summary>The resolution a resolve fact stands for; null when it is not its case's counted one or the case was never opened.</summary>
        public Resolution? Of(FactColumns facts, int row) => resolveRow[facts.Cases[row]] == row ? resolution[facts.Cases[row]] : null;

        public static Resolutions Compute(FactColumns facts, double defaultSlaHours)
        {
            var cases = facts.Labels.Cases.Count;
            var opened = new int[cases];
            var resolved = new int[cases];
            Array.Fill(opened, -1);
            Array.Fill(resolved, -1);
            var types = facts.Types;
            for (var row = 0; row < types.Length; row++)
            {
                if (!types[row].IsComplaint()) continue;
                var first = types[row] == FactType.ComplaintOpened ? opened : resolved;
                ref var current = ref first[facts.Cases[row]];
                if (current < 0 || ComplaintCase.Compare(facts.Ticks[row], facts.Ids[row], facts.Ticks[current], facts.Ids[current]) < 0) current = row;
            }
            var resolutions = new Resolution?[cases];
            for (var c = 0; c < cases; c++)
            {
                if (opened[c] >= 0 && resolved[c] >= 0) resolutions[c] = Resolution.Of(ComplaintEvent.From(facts, opened[c]), ComplaintEvent.From(facts, resolved[c]), defaultSlaHours);
            }
            return new Resolutions(resolved, resolutions);
        }
    }

    private enum Category { Plain, Lifecycle, Resolve }

    /// <summary>Rows grouped by local day, and within a day by category.</summary>
    private sealed class DayRows(int days, DateOnly firstDay, int[] rows, int[] starts)
    {
        public int Days => days;
        public DateOnly FirstDay => firstDay;

        public ReadOnlySpan<int> Rows(int day, Category category)
        {
            var key = day * 3 + (int)category;
            return rows.AsSpan(starts[key], starts[key + 1] - starts[key]);
        }
    }

    /// <summary>A counting sort of the rows by (local day, category), with day boundaries computed once; observations are left out.</summary>
    private static DayRows ByLocalDay(FactColumns facts, PeriodCalendar calendar)
    {
        var ticks = facts.Ticks;
        var types = facts.Types;
        long min = long.MaxValue, max = long.MinValue;
        foreach (var t in ticks)
        {
            min = Math.Min(min, t);
            max = Math.Max(max, t);
        }
        var firstDay = calendar.LocalDateOf(new DateTimeOffset(min, TimeSpan.Zero));
        var days = calendar.LocalDateOf(new DateTimeOffset(max, TimeSpan.Zero)).DayNumber - firstDay.DayNumber + 1;
        var bounds = new long[days + 1];
        for (var d = 0; d <= days; d++) bounds[d] = calendar.StartOfDay(firstDay.AddDays(d)).UtcTicks;

        var keys = new int[facts.Count];
        var starts = new int[days * 3 + 1];
        var day = 0;
        for (var row = 0; row < ticks.Length; row++)
        {
            var type = types[row];
            if (type.IsObservation())
            {
                keys[row] = -1;
                continue;
            }
            var t = ticks[row];
            // Facts come mostly in time order: try the previous fact's day before searching.
            if (t < bounds[day] || t >= bounds[day + 1])
            {
                day = Array.BinarySearch(bounds, t);
                if (day < 0) day = ~day - 1;
            }
            var category = type.IsLifecycle() ? Category.Lifecycle : type == FactType.ComplaintResolved ? Category.Resolve : Category.Plain;
            keys[row] = day * 3 + (int)category;
            starts[keys[row] + 1]++;
        }
        for (var k = 0; k < days * 3; k++) starts[k + 1] += starts[k];
        var next = starts[..^1];
        var rows = new int[starts[^1]];
        for (var row = 0; row < keys.Length; row++)
        {
            if (keys[row] >= 0) rows[next[keys[row]]++] = row;
        }
        return new DayRows(days, firstDay, rows, starts);
    }

    private static void Load(DuckDBConnection duck, List<Fact> facts)
    {
        using (var create = duck.CreateCommand())
        {
            create.CommandText = """
                CREATE TABLE facts (id VARCHAR, type VARCHAR, time TIMESTAMP, customer VARCHAR, amount DECIMAL(18,4), metric VARCHAR, score INTEGER,
                  direction VARCHAR, fcr BOOLEAN, case_id VARCHAR, sla DOUBLE, outcome VARCHAR, rank INTEGER)
                """;
            create.ExecuteNonQuery();
        }
        using var appender = duck.CreateAppender("facts");
        foreach (var f in facts)
        {
            appender.CreateRow()
                .AppendValue(f.Id).AppendValue(f.Type.Name()).AppendValue(f.Time.UtcDateTime).AppendValue(f.CustomerId).AppendValue(f.Amount)
                .AppendValue(f.Metric).AppendValue(f.Score).AppendValue(f.Direction).AppendValue(f.FirstContactResolution).AppendValue(f.CaseId)
                .AppendValue(f.SlaHours).AppendValue(f.Outcome)
                .AppendValue(f.Type switch { FactType.CustomerAcquired => 0, FactType.CustomerReactivated => 1, _ => 2 })
                .EndRow();
        }
    }

    private static Dictionary<string, double?> Query(DuckDBConnection duck, Period month)
    {
        using var command = duck.CreateCommand();
        command.CommandText = """
            WITH lc AS (
              SELECT customer, type, time, LAG(type) OVER (PARTITION BY customer ORDER BY time, rank, id) AS prev
              FROM facts WHERE type IN ('customer.acquired', 'customer.churned', 'customer.reactivated')),
            eff AS (
              SELECT customer, time,
                CASE WHEN type = 'customer.churned' THEN (CASE WHEN prev IS NOT NULL AND prev <> 'customer.churned' THEN -1 ELSE 0 END)
                     ELSE (CASE WHEN prev IS NULL OR prev = 'customer.churned' THEN 1 ELSE 0 END) END AS delta,
                (type = 'customer.acquired' AND prev IS NULL)::INT AS is_new,
                (type <> 'customer.churned' AND ((type = 'customer.reactivated' AND prev IS NULL) OR prev = 'customer.churned'))::INT AS is_winback,
                (type = 'customer.churned' AND prev IS NOT NULL AND prev <> 'customer.churned')::INT AS is_churn
              FROM lc),
            life AS (
              SELECT SUM(delta) FILTER (WHERE time < $start) AS s, SUM(delta) FILTER (WHERE time < $end) AS e,
                     SUM(is_new) FILTER (WHERE time >= $start AND time < $end) AS n, SUM(is_winback) FILTER (WHERE time >= $start AND time < $end) AS w,
                     COUNT(DISTINCT customer) FILTER (WHERE is_churn = 1 AND time >= $start AND time < $end) AS c,
                     COUNT(DISTINCT customer) FILTER (WHERE (is_new = 1 OR is_winback = 1) AND time >= $start AND time < $end) AS a
              FROM eff),
            m AS (SELECT * FROM facts WHERE time >= $start AND time < $end),
            base AS (
              SELECT
                100.0 * (COUNT(*) FILTER (WHERE metric = 'nps' AND score >= 9) - COUNT(*) FILTER (WHERE metric = 'nps' AND score <= 6)) / NULLIF(COUNT(*) FILTER (WHERE metric = 'nps'), 0) AS nps,
                100.0 * COUNT(*) FILTER (WHERE metric = 'csat' AND score >= 4) / NULLIF(COUNT(*) FILTER (WHERE metric = 'csat'), 0) AS csat,
                AVG(score) FILTER (WHERE metric = 'ces') AS ces,
                COUNT(*) FILTER (WHERE type = 'complaint.opened') AS complaints,
                100.0 * COUNT(*) FILTER (WHERE type = 'interaction' AND direction = 'inbound' AND fcr) / NULLIF(COUNT(*) FILTER (WHERE type = 'interaction' AND direction = 'inbound' AND fcr IS NOT NULL), 0) AS fcr,
                COALESCE(SUM(amount) FILTER (WHERE type = 'order'), 0) AS revenue,
                COUNT(*) FILTER (WHERE type = 'order') AS orders,
                COUNT(DISTINCT customer) FILTER (WHERE type = 'order') AS buyers,
                100.0 * COUNT(*) FILTER (WHERE type = 'deal.closed' AND outcome = 'won') / NULLIF(COUNT(*) FILTER (WHERE type = 'deal.closed'), 0) AS win_rate,
                AVG(amount) FILTER (WHERE type = 'deal.closed' AND outcome = 'won') AS avg_deal
              FROM m),
            per_customer AS (SELECT customer, SUM(amount) AS r, ROW_NUMBER() OVER (ORDER BY SUM(amount) DESC) AS k, COUNT(*) OVER () AS n FROM m WHERE type = 'order' GROUP BY customer),
            ssc AS (SELECT 100.0 * SUM(r) FILTER (WHERE k <= CEIL(0.2 * n)) / NULLIF(SUM(r), 0) AS share FROM per_customer),
            opened AS (SELECT case_id, arg_min(time, (time, id)) AS t, arg_min(sla, (time, id)) AS sla FROM facts WHERE type = 'complaint.opened' GROUP BY case_id),
            resolved AS (SELECT case_id, MIN(time) AS t FROM facts WHERE type = 'complaint.resolved' GROUP BY case_id),
            res AS (SELECT epoch(r.t - o.t) / 3600.0 AS h, COALESCE(o.sla, 48) AS sla FROM resolved r JOIN opened o USING (case_id) WHERE r.t >= $start AND r.t < $end),
            resolution AS (SELECT list_sort(list(h)) AS hs, COUNT(*) AS n, COUNT(*) FILTER (WHERE h <= sla) AS within FROM res)
            SELECT b.nps, b.csat, b.ces, b.complaints, b.fcr, b.revenue, b.orders, b.revenue / NULLIF(b.buyers, 0) AS arpc, b.win_rate, b.avg_deal, s.share,
                   l.e AS active, l.n AS new_customers, l.w AS win_backs, 100.0 * l.c / NULLIF(l.s, 0) AS churn, 100.0 * (l.e - l.a) / NULLIF(l.s, 0) AS retention,
                   1000.0 * b.complaints / NULLIF(l.e, 0) AS complaint_rate,
                   CASE WHEN r.n > 0 THEN r.hs[CAST(CEIL(0.5 * r.n) AS INTEGER)] END AS p50, CASE WHEN r.n > 0 THEN r.hs[CAST(CEIL(0.9 * r.n) AS INTEGER)] END AS p90,
                   100.0 * r.within / NULLIF(r.n, 0) AS sla
            FROM base b, ssc s, life l, resolution r
            """;
        command.Parameters.Add(new DuckDBParameter("start", month.Start.UtcDateTime));
        command.Parameters.Add(new DuckDBParameter("end", month.End.UtcDateTime));
        using var reader = command.ExecuteReader();
        reader.Read();
        double? D(string column) => reader[column] switch { DBNull or null => null, System.Numerics.BigInteger b => (double)b, var v => Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture) };
        return new Dictionary<string, double?>
        {
            ["cx.nps"] = D("nps"), ["cx.csat"] = D("csat"), ["cx.ces"] = D("ces"), ["cx.complaints"] = D("complaints"), ["cx.fcr"] = D("fcr"),
            ["com.revenue"] = D("revenue"), ["com.orders"] = D("orders"), ["com.arpc"] = D("arpc"), ["com.deal-win-rate"] = D("win_rate"),
            ["com.avg-deal-size"] = D("avg_deal"), ["com.ssc-revenue-share"] = D("share"), ["com.active-customers"] = D("active"),
            ["com.new-customers"] = D("new_customers"), ["com.win-backs"] = D("win_backs"), ["cx.churn-rate"] = D("churn"), ["cx.retention-rate"] = D("retention"),
            ["cx.complaint-rate"] = D("complaint_rate"), ["cx.resolution-hours-p50"] = D("p50"), ["cx.resolution-hours-p90"] = D("p90"), ["cx.sla-compliance"] = D("sla"),
        };
    }
}
