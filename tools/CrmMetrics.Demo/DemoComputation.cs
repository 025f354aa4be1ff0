using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using CrmMetrics.Domain.Periods;

namespace CrmMetrics.Demo;

/// <summary>
/// The demo's computation step: runs the indicators for every month of the sample data through
/// <c>POST /api/runs</c>, waits for the runs, and prints the organisation's indicators for the
/// latest month the sample covers to its end.
/// </summary>
public sealed class DemoComputation(PeriodCalendar calendar, TimeProvider clock)
{
    private static readonly TimeSpan RunDeadline = TimeSpan.FromMinutes(10);
    private Period? _shown;
    private Period? _year;
    private string? _lastRun;

    public async Task RunAsync(HttpClient client, IReadOnlyList<DateTimeOffset> factTimes, CancellationToken ct)
    {
        if (factTimes.Count == 0) return;
        var now = clock.GetUtcNow();
        var months = factTimes.Select(t => calendar.PeriodOf(Grain.Month, t)).Where(p => p.End <= now).Distinct().OrderBy(p => p.Start).ToList();
        if (months.Count == 0) months = [calendar.PeriodOf(Grain.Month, now)];

        Console.WriteLine();
        Console.WriteLine($"Computing the indicators for {months.Count} months ({months[0].Key} .. {months[^1].Key}) through POST /api/runs ...");
        // The first run aggregates every day once; the others only finalise their month.
        await RunAndWaitAsync(client, months[0], ct);
        await Task.WhenAll(months.Skip(1).Select(m => RunAndWaitAsync(client, m, ct)));

        // The year so far too, where yearly goals are projected to the year's end.
        var year = calendar.PeriodOf(Grain.Year, months[^1].Start);
        await RunAndWaitAsync(client, year, ct);

        // The latest month the sample covers to its end (found by probing: under the Persian calendar the
        // sample's last month, 1405-08, held nine days of it, and its figures read as a collapse).
        var lastFact = factTimes.Max();
        _shown = months.LastOrDefault(m => m.End <= lastFact.AddDays(1)) ?? months[^1];
        _year = year;
        var response = await client.GetFromJsonAsync<JsonElement>($"/api/snapshots?grain=month&period={_shown.Key}&scope=org", ct);
        Console.WriteLine();
        Console.WriteLine($"Organisation indicators for {_shown.Key} (the latest month the sample covers to its end):");
        foreach (var row in response.GetProperty("items").EnumerateArray()
                     .Where(r => r.GetProperty("family").GetString() is "customer-experience" or "commercial")
                     .OrderBy(r => r.GetProperty("family").GetString()).ThenBy(r => r.GetProperty("indicator").GetString()))
        {
            var value = row.GetProperty("value");
            var unit = row.GetProperty("unit").GetString();
            var text = value.ValueKind == JsonValueKind.Number ? Format(value.GetDouble(), unit) : "—";
            Console.WriteLine($"  {row.GetProperty("indicator").GetString(),-26} {text,16}  {unit}");
        }

        Console.WriteLine();
        Console.WriteLine($"Goals ({_shown.Key} and {year.Key}):");
        foreach (var period in new[] { _shown, year })
        {
            var goals = await client.GetFromJsonAsync<JsonElement>($"/api/goals/attainment?period={period.Key}", ct);
            foreach (var g in goals.GetProperty("items").EnumerateArray())
            {
                string Num(string member, string unit = "") => g.GetProperty(member).ValueKind == JsonValueKind.Number ? Format(g.GetProperty(member).GetDouble(), unit) : "—";
                Console.WriteLine($"  {period.Key,-8} {g.GetProperty("goalId").GetString(),-20} {g.GetProperty("status").GetString(),-10} attainment {Num("attainment"),7} %  " +
                                  $"actual {Num("actual", "currency"),12}  target {Format(g.GetProperty("target").GetDouble(), "currency"),12}  projected {Num("projected", "currency"),12}");
            }
        }

        // A composite (balanced-scorecard) goal says why its score is what it is.
        var attainment = await client.GetFromJsonAsync<JsonElement>($"/api/goals/attainment?period={_shown.Key}", ct);
        foreach (var composite in attainment.GetProperty("items").EnumerateArray().Where(g => g.TryGetProperty("composite", out var c) && c.ValueKind == JsonValueKind.True))
        {
            Console.WriteLine($"  {composite.GetProperty("goalId").GetString()} ({composite.GetProperty("name").GetString()}) is made of:");
            foreach (var child in composite.GetProperty("children").EnumerateArray())
            {
                string Part(string member) => child.TryGetProperty(member, out var v) && v.ValueKind == JsonValueKind.Number ? Format(v.GetDouble(), "%") : "—";
                Console.WriteLine($"    {child.GetProperty("goalId").GetString(),-20} weight {Part("weight"),6}  attainment {Part("attainment"),7} %  contributes {Part("contribution"),6}");
            }
        }

        var derived = await client.GetFromJsonAsync<JsonElement>($"/api/snapshots?grain=month&period={_shown.Key}&family=derived&scope=org", ct);
        var derivedRows = derived.GetProperty("items").EnumerateArray().ToList();
        if (derivedRows.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine($"Derived indicators for {_shown.Key} (defined through PUT /api/indicators/{{id}}):");
            foreach (var row in derivedRows)
            {
                var value = row.GetProperty("value");
                var unit = row.GetProperty("unit").GetString();
                Console.WriteLine($"  {row.GetProperty("indicator").GetString(),-30} {(value.ValueKind == JsonValueKind.Number ? Format(value.GetDouble(), unit) : "—"),12}  {unit}");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Incentive payouts for {_shown.Key}:");
        foreach (var staff in new[] { "S-01", "S-02", "S-03", "S-04", "S-05", "S-06" })
        {
            var card = await client.GetFromJsonAsync<JsonElement>($"/api/staff/{staff}/scorecard?period={_shown.Key}", ct);
            if (card.GetProperty("payout").ValueKind != JsonValueKind.Number) continue;
            var statement = card.GetProperty("statement");
            var gates = statement.GetProperty("statement").GetProperty("gates").EnumerateArray().All(x => x.GetProperty("passed").GetBoolean()) ? "gates passed" : "a gate failed";
            Console.WriteLine($"  {staff}  quota attainment {Format(card.GetProperty("quotaAttainment").GetDouble(), "%"),7} %  payout {Format(card.GetProperty("payout").GetDouble(), "currency"),10}  " +
                              $"rank {statement.GetProperty("rankByPayout").GetInt32()}  ({gates})");
        }

        var benchmarks = await client.GetFromJsonAsync<JsonElement>($"/api/benchmarks?period={_shown.Key}", ct);
        var items = benchmarks.GetProperty("items").EnumerateArray().ToList();
        string Bench(string indicator, string scope = "org") => items.FirstOrDefault(r => r.GetProperty("indicator").GetString() == indicator && r.GetProperty("scope").GetString() == scope)
            is { ValueKind: JsonValueKind.Object } r && r.GetProperty("value").ValueKind == JsonValueKind.Number ? Format(r.GetProperty("value").GetDouble(), "%") : "—";
        Console.WriteLine();
        Console.WriteLine($"Competitors in {_shown.Key}: market share {Bench("bench.market-share")} %, relative market share {Bench("bench.relative-market-share")}, " +
                          $"NPS percentile {Bench("bench.percentile.cx.nps")} %, win rate against Acme {Bench("bench.win-rate-vs", "competitor:Acme")} %");
    }

    private async Task RunAndWaitAsync(HttpClient client, Period month, CancellationToken ct)
    {
        using var start = await client.PostAsJsonAsync("/api/runs", new { grain = Grains.Key(month.Grain), period = month.Key }, ct);
        // A refusal says why (a changed time zone under stored days, say): pass that on, not just the status.
        if (!start.IsSuccessStatusCode) throw new InvalidOperationException($"POST /api/runs for {month.Key}: {(int)start.StatusCode} {await start.Content.ReadAsStringAsync(ct)}");
        var runId = (await start.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("runId").GetString()!;
        _lastRun = runId;
        var deadline = DateTime.UtcNow + RunDeadline;
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            var run = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}", ct);
            var state = run.GetProperty("state").GetString();
            if (state == "succeeded")
            {
                Console.WriteLine($"  {month.Key}: run {runId} succeeded, {run.GetProperty("snapshots").GetInt32()} snapshot rows " +
                                  $"({run.GetProperty("days").GetInt32()} days aggregated)");
                return;
            }
            if (state == "failed") throw new InvalidOperationException($"Run {runId} failed: {run.GetProperty("errors")}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Run {runId} did not finish within {RunDeadline.TotalMinutes} minutes (state {state}).");
            await Task.Delay(delay, ct);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 2000));
        }
    }

    /// <summary>The routes to open next: reads with the reader key (least privilege), the run with the admin key it needs.</summary>
    public IEnumerable<string> Links(string address, string readerKey, string adminKey)
    {
        if (_shown is null) yield break;
        yield return $"{address}/api/snapshots?grain=month&period={_shown.Key}&scope=org&code={readerKey}";
        yield return $"{address}/api/snapshots?grain=month&period={_shown.Key}&code={readerKey}   (every scope; Accept: text/csv for CSV)";
        yield return $"{address}/api/indicators/com.revenue/series?grain=month&code={readerKey}";
        yield return $"{address}/api/goals/attainment?period={_shown.Key}&code={readerKey}";
        if (_year is not null) yield return $"{address}/api/goals/attainment?period={_year.Key}&code={readerKey}";
        yield return $"{address}/api/staff/S-01/scorecard?period={_shown.Key}&code={readerKey}";
        yield return $"{address}/api/benchmarks?period={_shown.Key}&code={readerKey}";
        yield return $"{address}/api/indicators?code={readerKey}";
        yield return $"{address}/api/snapshots?grain=month&period={_shown.Key}&family=derived&code={readerKey}";
        yield return $"{address}/api/alerts?code={readerKey}   (with each alert's state: open or resolved)";
        if (_lastRun is not null) yield return $"{address}/api/runs/{_lastRun}?code={adminKey}   (admin key: runs are an operator's view)";
        yield return $"{address}/api/runs?code={adminKey}   (every run, newest first; state=failed for those that failed)";
    }

    private static string Format(double value, string? unit) => unit switch
    {
        "currency" => value.ToString("#,##0.00", CultureInfo.InvariantCulture),
        "count" => value.ToString("#,##0", CultureInfo.InvariantCulture),
        _ => value.ToString("#,##0.0#", CultureInfo.InvariantCulture),
    };
}
