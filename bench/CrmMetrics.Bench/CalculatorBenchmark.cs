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
/// The in-memory calculator (day aggregation, lifecycle, merge, indicators) over about a million facts
/// against DuckDB computing the same organisation-level indicators with SQL over the same rows, in
/// this process. Loading is not timed for either; both are checked to agree.
/// </summary>
public static class CalculatorBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var scale = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 15; // about a million facts
        BenchEnvironment.PrintMachine();
        PeriodCalendar.TryCreate("gregorian", "UTC", out var calendar, out _);
        var validator = new FactValidator(new FactRules { Calendar = calendar!, IsReportableIndicator = IndicatorCatalog.IsReportableByCompetitors }, TimeProvider.System);
        var facts = new List<Fact>();
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

        // Warm each up once, then time three runs and keep the median.
        var ours = new List<double>();
        var oursAll = new List<double>();
        Dictionary<string, double?> ourValues = [];
        for (var i = 0; i < 4; i++)
        {
            var watch = Stopwatch.StartNew();
            ourValues = Calculate(facts, month, calendar, breakdowns: false);
            if (i > 0) ours.Add(watch.Elapsed.TotalMilliseconds);
        }
        for (var i = 0; i < 4; i++)
        {
            var watch = Stopwatch.StartNew();
            Calculate(facts, month, calendar, breakdowns: true);
            if (i > 0) oursAll.Add(watch.Elapsed.TotalMilliseconds);
        }

        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        Load(duck, facts);
        var theirs = new List<double>();
        Dictionary<string, double?> duckValues = [];
        for (var i = 0; i < 4; i++)
        {
            var watch = Stopwatch.StartNew();
            duckValues = Query(duck, month);
            if (i > 0) theirs.Add(watch.Elapsed.TotalMilliseconds);
        }

        // Percentiles may come from the mergeable sketch (contract: within 1%); everything else is exact.
        var differ = duckValues.Where(d => ourValues.TryGetValue(d.Key, out var o) && !Close(o, d.Value, d.Key.Contains("resolution-hours") ? 0.01 : 1e-6))
            .Select(d => $"{d.Key}: ours {ourValues[d.Key]} duckdb {d.Value}").ToList();
        Console.WriteLine(differ.Count == 0 ? $"values agree on {duckValues.Count} org-level indicators (percentiles within 1%)" : "values differ: " + string.Join("; ", differ));
        var oursMedian = ours.Order().ElementAt(ours.Count / 2);
        var duckMedian = theirs.Order().ElementAt(theirs.Count / 2);
        var allMedian = oursAll.Order().ElementAt(oursAll.Count / 2);
        Console.WriteLine($"calculator, org-level indicators (lifecycle, days, merge, indicators): median {oursMedian:0} ms ({string.Join(", ", ours.Select(t => t.ToString("0")))})");
        Console.WriteLine($"DuckDB SQL, the same org-level indicators:                            median {duckMedian:0} ms ({string.Join(", ", theirs.Select(t => t.ToString("0")))})");
        Console.WriteLine($"ratio DuckDB time / calculator time: {duckMedian / oursMedian:0.00} (aim >= 1.00: at least as fast as DuckDB)");
        Console.WriteLine($"calculator with every breakdown (channel, segment, region, staff):     median {allMedian:0} ms ({string.Join(", ", oursAll.Select(t => t.ToString("0")))})");
        await Task.CompletedTask;
        return 0;
    }

    private static bool Close(double? a, double? b, double tolerance) => a is null ? b is null : b is not null && Math.Abs(a.Value - b.Value) <= tolerance * Math.Max(1, Math.Abs(a.Value));

    /// <summary>The product's map/reduce arithmetic over in-memory facts: what the runs do, without storage.</summary>
    private static Dictionary<string, double?> Calculate(List<Fact> facts, Period month, PeriodCalendar calendar, bool breakdowns)
    {
        var sw = Stopwatch.StartNew();
        var timelines = facts.Where(f => f.Type.IsLifecycle()).GroupBy(f => f.CustomerId!)
            .ToDictionary(g => g.Key, g => new CustomerTimeline(g.Select(LifecycleEvent.From)));
        var effects = new Dictionary<string, LifecycleEffect>(StringComparer.Ordinal);
        foreach (var t in timelines.Values)
        foreach (var (e, effect) in t.Effects()) effects[e.Id] = effect;
        var cases = facts.Where(f => f.Type.IsComplaint()).GroupBy(f => f.CaseId!)
            .ToDictionary(g => g.Key, g => new ComplaintCase(g.Key, g.Select(ComplaintEvent.From)));
        var dimensions = timelines.Where(t => t.Value.FirstAcquisition is not null).ToDictionary(t => t.Key, t => new CustomerDimension(t.Value.Segment, t.Value.Region), StringComparer.Ordinal);
        var t1 = sw.ElapsedMilliseconds;
        CustomerDimension Dim(string? id) => id is not null && dimensions.TryGetValue(id, out var d) ? d : CustomerDimension.Unknown;

        // Facts by local day, as the store's day partitions hold them.
        var byDay = new Dictionary<DateOnly, List<Fact>>();
        foreach (var f in facts)
        {
            var d = calendar.LocalDateOf(f.Time);
            if (!byDay.TryGetValue(d, out var list)) byDay[d] = list = new List<Fact>(facts.Count / 30);
            list.Add(f);
        }
        var partials = byDay.AsParallel().Select(day =>
        {
            var aggregator = new DayAggregator(day.Key, breakdowns);
            foreach (var f in day.Value)
            {
                if (f.Type.IsObservation()) continue;
                if (f.Type.IsLifecycle()) aggregator.AddLifecycle(f, effects[f.Id], Dim(f.CustomerId));
                else if (f.Type == FactType.ComplaintResolved)
                {
                    var r = cases[f.CaseId!].ResolutionFor(f.Id, 48);
                    aggregator.AddResolve(f, r, Dim(r?.CustomerId ?? f.CustomerId));
                }
                else aggregator.Add(f, Dim(f.CustomerId));
            }
            return aggregator.Result;
        }).ToList();

        var t2 = sw.ElapsedMilliseconds;
        var start = new Dictionary<string, long>(StringComparer.Ordinal);
        var end = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var p in partials.Where(p => p.Day <= month.LastDay))
        foreach (var (scope, delta) in p.ActiveDeltas)
        {
            end[scope] = end.GetValueOrDefault(scope) + delta.Net;
            if (p.Day < month.FirstDay) start[scope] = start.GetValueOrDefault(scope) + delta.Net;
        }
        var aggregate = PeriodAggregate.Merge(month, partials, start, end);
        var t3 = sw.ElapsedMilliseconds;
        var result = aggregate.BaseRows().Where(r => r.Scope == Scope.Org).ToDictionary(r => r.Indicator, r => r.Value);
        if (Environment.GetEnvironmentVariable("BENCH_VERBOSE") == "1") Console.WriteLine($"  state {t1} ms, days {t2 - t1} ms, merge {t3 - t2} ms, indicators {sw.ElapsedMilliseconds - t3} ms");
        return result;
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
              SELECT time,
                CASE WHEN type = 'customer.churned' THEN (CASE WHEN prev IS NOT NULL AND prev <> 'customer.churned' THEN -1 ELSE 0 END)
                     ELSE (CASE WHEN prev IS NULL OR prev = 'customer.churned' THEN 1 ELSE 0 END) END AS delta,
                (type = 'customer.acquired' AND prev IS NULL)::INT AS is_new,
                (type <> 'customer.churned' AND ((type = 'customer.reactivated' AND prev IS NULL) OR prev = 'customer.churned'))::INT AS is_winback,
                (type = 'customer.churned' AND prev IS NOT NULL AND prev <> 'customer.churned')::INT AS is_churn
              FROM lc),
            life AS (
              SELECT SUM(delta) FILTER (WHERE time < $start) AS s, SUM(delta) FILTER (WHERE time < $end) AS e,
                     SUM(is_new) FILTER (WHERE time >= $start AND time < $end) AS n, SUM(is_winback) FILTER (WHERE time >= $start AND time < $end) AS w,
                     SUM(is_churn) FILTER (WHERE time >= $start AND time < $end) AS c
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
                   l.e AS active, l.n AS new_customers, l.w AS win_backs, 100.0 * l.c / NULLIF(l.s, 0) AS churn, 100.0 * (l.e - l.n - l.w) / NULLIF(l.s, 0) AS retention,
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
