using System.Net;
using System.Net.Http.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;
using CrmMetrics.Storage.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// Aggregating a day marks the periods whose figures it changes stale, so the next scheduled run
/// finalises them again: always the day's own periods, and every later period up to now when the
/// day's change in active customers moved (their active counts add it up).
/// </summary>
public class StalePeriodMarkingTests(StalePeriodMarkingTests.Fixture app) : IClassFixture<StalePeriodMarkingTests.Fixture>
{
    /// <summary>Months as the test computes them: UTC, Gregorian, whatever the machine's settings.</summary>
    public sealed class Fixture : AppFixture
    {
        protected override IEnumerable<KeyValuePair<string, string?>> Settings() =>
            [new("CrmMetrics:Calendar", "gregorian"), new("CrmMetrics:TimeZone", "UTC")];
    }

    private async Task<List<string>> StaleKeysAfterRunAsync(object[] events)
    {
        // The app creates its tables as it starts; the test may read before it got that far.
        await app.Storage.InitializeAsync(default);
        var stale = app.Services.GetRequiredService<StalePeriodStore>();
        foreach (var mark in await stale.ListAsync(default)) await stale.ClearAsync(mark, default);
        var posted = await app.PostEventsAsync(events);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        Assert.Equal(events.Length, (await AppFixture.JsonAsync(posted)).GetProperty("accepted").GetInt32());
        // A run for a period long before: it aggregates the dirty days and finalises only what it was asked for.
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2000-01" });
        return [.. (await stale.ListAsync(default)).Select(s => s.Key)];
    }

    [Fact]
    public async Task A_period_not_begun_waits_marked_and_out_of_runs_until_it_begins()
    {
        // Found by probing: an observation naming next January made the next run compute it, empty, and it stayed
        // among the scorecard's periods (POST /api/runs refuses to compute a period that has not begun).
        await app.Storage.InitializeAsync(default);
        var nextJanuary = $"{DateTimeOffset.UtcNow.Year + 1}-01";
        var posted = await app.PostEventsAsync(new object[]
        {
            new
            {
                id = "spm-future-market", type = "market.observation", time = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O"),
                data = new { indicator = "market-size", value = 1000, period = nextJanuary },
            },
        });
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var run = await ApiDriver.RunAsync(app, new { grain = "month" });
        Assert.DoesNotContain(nextJanuary, run.GetProperty("periods").EnumerateArray().Select(p => p.GetString()));
        Assert.Contains(nextJanuary, (await app.Services.GetRequiredService<StalePeriodStore>().ListAsync(default)).Select(s => s.Key));
        Assert.Empty(await ApiDriver.SnapshotsAsync(app, $"grain=month&period={nextJanuary}"));
    }

    [Fact]
    public async Task A_late_churn_marks_its_own_periods_and_every_later_one_an_order_only_its_own()
    {
        var now = DateTimeOffset.UtcNow;
        var lastMonth = new DateOnly(now.Year, now.Month, 1).AddMonths(-1);
        var month = (DateOnly d) => d.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var early = lastMonth.AddMonths(-3);
        await StaleKeysAfterRunAsync([new { id = "spm-acq", type = "customer.acquired", time = $"{early:yyyy-MM}-02T10:00:00Z", customerId = "SPM-1", data = new { segment = "smb" } }]);

        // An order changes no active count: only its own periods are stale.
        var afterOrder = await StaleKeysAfterRunAsync([new
        {
            id = "spm-order", type = "order", time = $"{early:yyyy-MM}-05T10:00:00Z", customerId = "SPM-1", channel = "web",
            data = new { amount = 10, currency = "EUR" },
        }]);
        Assert.Contains(month(early), afterOrder);
        Assert.DoesNotContain(month(early.AddMonths(1)), afterOrder);

        // A churn changes the active customers at the end of every later month, up to this one.
        var afterChurn = await StaleKeysAfterRunAsync([new { id = "spm-churn", type = "customer.churned", time = $"{early:yyyy-MM}-20T10:00:00Z", customerId = "SPM-1", data = new { reason = "price" } }]);
        for (var m = early; m <= lastMonth.AddMonths(1); m = m.AddMonths(1)) Assert.Contains(month(m), afterChurn);
    }

    [Fact]
    public async Task A_definition_put_again_unchanged_marks_nothing_and_a_plan_moved_to_another_grain_marks_both()
    {
        await app.Storage.InitializeAsync(default);
        var stale = app.Services.GetRequiredService<StalePeriodStore>();
        async Task Put(string path, object body)
        {
            var response = await app.SendAsync(HttpMethod.Put, path, TestKeys.Admin, JsonContent.Create(body));
            Assert.True(response.IsSuccessStatusCode, $"{path}: {await response.Content.ReadAsStringAsync()}");
        }
        var plan = new { name = "Marks", grain = "month", participants = new[] { new { staffId = "S-spm", quota = 100 } }, tiers = new[] { new { from = 0, rate = 0.1 } } };
        var indicator = new { name = "Twice", expression = "com.revenue * 2", unit = "currency", direction = "higher" };
        var goal = new { name = "Marks", indicator = "com.orders", grain = "month", period = "2026-03", target = 5 };
        await Put("/api/incentive-plans/spm-plan", plan);
        await Put("/api/indicators/derived.spm-twice", indicator);
        await Put("/api/goals/spm-goal", goal);
        foreach (var mark in await stale.ListAsync(default)) await stale.ClearAsync(mark, default);

        // Found by probing: each marked its periods out of date, though nothing changed.
        await Put("/api/incentive-plans/spm-plan", plan);
        await Put("/api/indicators/derived.spm-twice", indicator);
        await Put("/api/goals/spm-goal", goal);
        Assert.Empty(await stale.ListAsync(default));

        await Put("/api/incentive-plans/spm-plan", plan with { grain = "quarter" });
        var keys = (await stale.ListAsync(default)).Select(k => k.Key).ToList();
        var now = DateTimeOffset.UtcNow;
        Assert.Contains($"{now:yyyy-MM}", keys);
        Assert.Contains($"{now.Year}-Q{(now.Month + 2) / 3}", keys);
    }
}
