using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.LocalHost;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Reliability;

/// <summary>
/// Changing the reporting time zone on storage whose days were computed in another would make runs
/// mix both zones: such a run is refused, naming the setting, until it is set back. Before any day is
/// computed, a new zone is simply taken. The steps of a run started before the change and still queued
/// fail too, saying why (found by probing: they went on cutting and finalising days in the new zone).
/// </summary>
public class ReportingZoneChangeTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private Task<LocalFunctionsHost> StartAsync(string zone) => AppFixture.StartHostAsync(azurite.ConnectionString, [new("CrmMetrics:TimeZone", zone)]);

    private static HttpClient Client(LocalFunctionsHost host, string key)
    {
        var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Add("x-api-key", key);
        return client;
    }

    private static async Task<HttpResponseMessage> StartRunAsync(LocalFunctionsHost host) =>
        await Client(host, TestKeys.Admin).PostAsync("/api/runs", JsonContent.Create(new { grain = "month", period = "2026-10" }));

    private static async Task<string> FinishedStateAsync(LocalFunctionsHost host, HttpResponseMessage started)
    {
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var runId = (await AppFixture.JsonAsync(started)).GetProperty("runId").GetString()!;
        using var client = Client(host, TestKeys.Admin);
        var run = await Eventually.WaitAsync(async () => await AppFixture.JsonAsync(await client.GetAsync($"/api/runs/{runId}")),
            r => r.GetProperty("state").GetString() is "succeeded" or "failed", TimeSpan.FromMinutes(3), $"run {runId} to finish");
        return run.GetProperty("state").GetString()!;
    }

    [Fact]
    public async Task A_run_after_the_zone_changed_under_computed_days_is_refused_naming_the_setting()
    {
        // No day computed yet: a first zone, then another, are each simply taken.
        await using (var newYork = await StartAsync("America/New_York"))
        {
            Assert.Equal("succeeded", await FinishedStateAsync(newYork, await StartRunAsync(newYork)));
        }
        await using (var utc = await StartAsync("UTC"))
        {
            using var writer = Client(utc, TestKeys.Writer);
            var ingested = await writer.PostAsync("/api/events", new StringContent(
                """[{ "id": "z-1", "type": "order", "time": "2026-10-31T23:30:00Z", "customerId": "C-1", "data": { "amount": 100, "currency": "EUR" } }]""",
                System.Text.Encoding.UTF8, "application/json"));
            Assert.True(ingested.IsSuccessStatusCode, await ingested.Content.ReadAsStringAsync());
            Assert.Equal("succeeded", await FinishedStateAsync(utc, await StartRunAsync(utc)));
        }

        // Days are now computed in UTC: a run in New York time would mix the two.
        await using (var moved = await StartAsync("America/New_York"))
        {
            var refused = await StartRunAsync(moved);
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            var detail = (await AppFixture.JsonAsync(refused)).GetProperty("detail").GetString()!;
            Assert.Contains("CrmMetrics:TimeZone is America/New_York", detail, StringComparison.Ordinal);
            Assert.Contains("computed in UTC", detail, StringComparison.Ordinal);

            // A run planned in UTC whose day and period jobs were still queued when the zone changed.
            var account = Storage.Account.StorageAccount.FromConnectionString(azurite.ConnectionString);
            var runs = new Storage.Runs.RunStore(account);
            var calendar = new Domain.Periods.PeriodCalendar(Domain.Periods.ReportingCalendar.Gregorian, TimeZoneInfo.Utc);
            var runId = await runs.PlannedAsync("before-the-change", [new DateOnly(2026, 10, 31)], [calendar.Parse("2026-10", Domain.Periods.Grain.Month)], requested: "2026-10");
            await account.Queue(Storage.Account.StorageNames.Queues.KpiDays).SendMessageAsync(Functions.Runs.JobMessages.Write(new Functions.Runs.DayJob(runId, new DateOnly(2026, 10, 31))));
            await account.Queue(Storage.Account.StorageNames.Queues.KpiPeriods).SendMessageAsync(Functions.Runs.JobMessages.Write(new Functions.Runs.PeriodJob(runId, Domain.Periods.Grain.Month, "2026-10")));
            var failed = await Eventually.WaitAsync(async () => (await runs.GetAsync(runId, default))!,
                r => r.Days[0].State == Storage.Runs.StepState.Failed && r.Periods[0].State == Storage.Runs.StepState.Failed, TimeSpan.FromMinutes(2), "the old run's steps to fail");
            Assert.Contains("CrmMetrics:TimeZone is America/New_York", failed.Days[0].Error, StringComparison.Ordinal);
            Assert.Contains("CrmMetrics:TimeZone is America/New_York", failed.Periods[0].Error, StringComparison.Ordinal);
        }

        // Set back, runs go on.
        await using var back = await StartAsync("UTC");
        Assert.Equal("succeeded", await FinishedStateAsync(back, await StartRunAsync(back)));
    }
}
