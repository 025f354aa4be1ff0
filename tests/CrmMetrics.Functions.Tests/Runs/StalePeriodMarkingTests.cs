using System.Net;
using CrmMetrics.Functions.Tests.Support;
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
}
