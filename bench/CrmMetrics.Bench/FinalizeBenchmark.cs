using System.Diagnostics;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Samples;

namespace CrmMetrics.Bench;

/// <summary>
/// Period finalisation reads partials, not facts: its time should stay nearly flat from 100,000 to
/// 1,000,000 facts in the month (same customers, ten times the activity). Each size gets a fresh app
/// and Azurite, finalises twice untimed (connections, JIT and its tiering up, Azurite's own warm-up:
/// the first runs of the large size took up to twice as long as the later ones), then five timed runs.
/// </summary>
public static class FinalizeBenchmark
{
    private const int WarmUps = 2;
    private const int Runs = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        var sizes = args.Length > 0 ? args.Select(int.Parse).ToArray() : [100_000, 1_000_000];
        BenchEnvironment.PrintMachine();
        var results = new List<(int Facts, double Median)>();
        foreach (var size in sizes)
        {
            await using var app = await BenchApp.StartAsync();
            var scale = size / 100_000.0;
            var events = SyntheticCrm.Generate(new SyntheticCrmOptions
            {
                From = new DateOnly(2026, 9, 1), To = new DateOnly(2026, 9, 30), Customers = 20_000, ExistingShare = 0.9,
                OrdersPerCustomerMonth = 1.2 * scale, InteractionsPerCustomerMonth = 1.5 * scale, SurveysPerCustomerMonth = 0.5 * scale,
                ComplaintsPerCustomerMonth = 0.08 * scale, DealsPerStaffMonth = 6 * scale,
                DuplicateShare = 0, LateShare = 0, CompetitorObservations = false, Seed = 23,
            });
            var facts = app.Facts(events);
            var month = app.Get<CrmMetricsSettings>().Calendar.Parse("2026-09", Grain.Month);
            var inMonth = facts.Count(f => month.Contains(f.Time));
            var setup = Stopwatch.StartNew();
            await app.IngestAsync(facts);
            var aggregation = app.Get<DayAggregation>();
            foreach (var day in month.Days) await aggregation.AggregateAsync(day, default);
            Console.WriteLine($"setup: {inMonth} facts in the month ({facts.Count} with history) ingested and aggregated in {setup.Elapsed.TotalSeconds:0} s");
            // The generated events and facts are the benchmark's input, not the app's: an async
            // method keeps its locals alive to the end, and at 1M they would make every full
            // collection during the timed runs mark a heap the app never has.
            events = null!;
            facts = null!;

            var finalizer = app.Get<PeriodFinalizer>();
            var times = new List<double>();
            var collections = new List<string>();
            var phases = new List<string>();
            FinalizedPeriod? finalized = null;
            var memory = new PeakMemory();
            var warmUps = new List<double>();
            for (var i = 0; i < WarmUps; i++)
            {
                var watch = Stopwatch.StartNew();
                await finalizer.FinalizeAsync($"bench-{size}-warm-{i}", month, default);
                warmUps.Add(watch.Elapsed.TotalMilliseconds);
            }
            Console.WriteLine($"  warm-up runs (not in the median): {string.Join(", ", warmUps.Select(t => t.ToString("0")))} ms");
            GC.Collect();
            memory.Reset();
            for (var i = 0; i < Runs; i++)
            {
                var gc = GcActivity.Start();
                var watch = Stopwatch.StartNew();
                finalized = await finalizer.FinalizeAsync($"bench-{size}-{i}", month, default);
                times.Add(watch.Elapsed.TotalMilliseconds);
                phases.Add($"{times[^1]:0} ms = {finalized.Times}");
                collections.Add($"{gc.Collections(2)}/{gc.Pause.TotalMilliseconds:0}/{gc.Allocated / 1048576.0:0}");
            }
            if (finalized!.Aggregate.FactCount != inMonth)
            {
                Console.WriteLine($"the finalisation counted {finalized.Aggregate.FactCount} facts in the month, {inMonth} were ingested");
                return 1;
            }
            foreach (var line in phases) Console.WriteLine($"  {line}");
            var median = times.Order().ElementAt(times.Count / 2);
            results.Add((inMonth, median));
            Console.WriteLine($"finalise 2026-09 with {inMonth,8} facts: median {median,7:0} ms over {times.Count} runs ({string.Join(", ", times.Select(t => t.ToString("0")))} ms), {finalized.Rows.Count} rows, " +
                              $"peak working set {PeakMemory.MiB(memory.Peak)} MiB (this process, app and Azurite client included); " +
                              $"full collections / GC pause ms / MiB allocated in each run: {string.Join(", ", collections)}");
        }
        if (results.Count >= 2)
            Console.WriteLine($"ratio finalisation time({results[^1].Facts} facts) / time({results[0].Facts} facts): {results[^1].Median / results[0].Median:0.00} " +
                              $"for {(double)results[^1].Facts / results[0].Facts:0.0}x the facts (aim <= 1.50; flat = 1.00)");
        return 0;
    }
}
