using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.LocalHost;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// Figures stored under a calendar that <c>CrmMetrics:Calendar</c> no longer is: under gregorian 2026-Q1 is January to
/// March 2026, under fiscal:4 April to June. The quarter computed under gregorian was served as fiscal 2026-Q1 by every
/// read, without a word. Now a read of it answers as for a period not computed, naming the setting and both meanings,
/// until a run computes it again; a month, which names the same days under both, is still served. Over the local host
/// and a real Azurite, restarted with the other setting as an operator would.
/// </summary>
public class ChangedCalendarReadTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private Task<LocalFunctionsHost> StartAsync(string calendar) => AppFixture.StartHostAsync(azurite.ConnectionString, [new("CrmMetrics:Calendar", calendar)]);

    private static HttpClient Client(LocalFunctionsHost host, string key)
    {
        var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Add("x-api-key", key);
        return client;
    }

    private static async Task<JsonElement> GetAsync(LocalFunctionsHost host, string path)
    {
        using var client = Client(host, TestKeys.Reader);
        var response = await client.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await AppFixture.JsonAsync(response);
    }

    /// <summary>Runs <paramref name="period"/> through <c>POST /api/runs</c> and waits for it to succeed.</summary>
    private static async Task RunAsync(LocalFunctionsHost host, string grain, string period)
    {
        using var client = Client(host, TestKeys.Admin);
        var started = await client.PostAsync("/api/runs", JsonContent.Create(new { grain, period }));
        Assert.True(started.StatusCode == HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync());
        var runId = (await AppFixture.JsonAsync(started)).GetProperty("runId").GetString()!;
        var run = await Eventually.WaitAsync(async () => await AppFixture.JsonAsync(await client.GetAsync($"/api/runs/{runId}")),
            r => r.GetProperty("state").GetString() is "succeeded" or "failed", TimeSpan.FromMinutes(3), $"run {runId} to finish");
        Assert.True(run.GetProperty("state").GetString() == "succeeded", run.ToString());
    }

    private static string OrdersOf(string period) => $"/api/snapshots?period={period}&indicator=com.orders&scope=org";

    private static double OrdersValue(JsonElement snapshots) => Assert.Single(snapshots.GetProperty("items").EnumerateArray()).GetProperty("value").GetDouble();

    private static object Order(string id, string time) => new { id, type = "order", time, customerId = "C-" + id, data = new { amount = 100, currency = "EUR" } };

    [Fact]
    public async Task A_quarter_computed_under_another_calendar_is_not_served_under_its_new_meaning_until_a_run_computes_it_again()
    {
        string etag;
        await using (var gregorian = await StartAsync("gregorian"))
        {
            // Two orders in February (gregorian Q1) and one in May (fiscal:4 Q1), and a goal of every quarter.
            using var writer = Client(gregorian, TestKeys.Writer);
            var ingested = await writer.PostAsJsonAsync("/api/events", new[] { Order("q-1", "2026-02-10T10:00:00Z"), Order("q-2", "2026-02-11T10:00:00Z"), Order("q-3", "2026-05-10T10:00:00Z") });
            Assert.Equal(HttpStatusCode.Accepted, ingested.StatusCode);
            using var admin = Client(gregorian, TestKeys.Admin);
            var goal = await admin.PutAsJsonAsync("/api/goals/quarter-orders", new { name = "Orders", indicator = "com.orders", grain = "quarter", target = 10 });
            Assert.True(goal.IsSuccessStatusCode, await goal.Content.ReadAsStringAsync());
            await RunAsync(gregorian, "quarter", "2026-Q1");
            await RunAsync(gregorian, "month", "2026-02");
            Assert.Equal(2, OrdersValue(await GetAsync(gregorian, OrdersOf("2026-Q1"))));
            using var reader = Client(gregorian, TestKeys.Reader);
            etag = (await reader.GetAsync(OrdersOf("2026-Q1"))).Headers.ETag!.Tag;
        }

        await using var fiscal = await StartAsync("fiscal:4");
        // January to March's figures are not April to June's: answered as a period not computed, saying why.
        var snapshots = await GetAsync(fiscal, OrdersOf("2026-Q1"));
        Assert.Empty(snapshots.GetProperty("items").EnumerateArray());
        var why = snapshots.GetProperty("calendarChange").GetString()!;
        Assert.Equal("2026-Q1 was computed under CrmMetrics:Calendar gregorian, where it names 2026-01-01 to 2026-03-31; CrmMetrics:Calendar is now fiscal:4, " +
            "where it names 2026-04-01 to 2026-06-30. Its figures are not served until a run computes it again: POST /api/runs with \"period\": \"2026-Q1\", " +
            "or a scheduled run that finalises it.", why);
        using (var csvClient = Client(fiscal, TestKeys.Reader))
        {
            // A copy kept from before the change is not current.
            using var conditional = new HttpRequestMessage(HttpMethod.Get, OrdersOf("2026-Q1"));
            conditional.Headers.IfNoneMatch.ParseAdd(etag);
            Assert.Equal(HttpStatusCode.OK, (await csvClient.SendAsync(conditional)).StatusCode);
            using var csvRequest = new HttpRequestMessage(HttpMethod.Get, OrdersOf("2026-Q1"));
            csvRequest.Headers.Accept.ParseAdd("text/csv");
            var csv = await csvClient.SendAsync(csvRequest);
            Assert.Equal(why, Assert.Single(csv.Headers.GetValues("X-Calendar-Change")));
            Assert.Single((await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries));
        }
        var attainment = await GetAsync(fiscal, "/api/goals/attainment?period=2026-Q1");
        Assert.Empty(attainment.GetProperty("items").EnumerateArray());
        Assert.Equal(why, attainment.GetProperty("calendarChange").GetString());
        var scorecard = await GetAsync(fiscal, "/api/staff/S-1/scorecard?period=2026-Q1");
        Assert.Equal(why, scorecard.GetProperty("calendarChange").GetString());
        Assert.Equal(why, (await GetAsync(fiscal, "/api/benchmarks?period=2026-Q1")).GetProperty("calendarChange").GetString());
        Assert.Empty((await GetAsync(fiscal, "/api/snapshots?grain=quarter")).GetProperty("items").EnumerateArray());
        Assert.Empty((await GetAsync(fiscal, "/api/indicators/com.orders/series?grain=quarter")).GetProperty("points").EnumerateArray());
        Assert.Empty((await GetAsync(fiscal, "/odata/Snapshots?$filter=Period eq '2026-Q1'")).GetProperty("value").EnumerateArray());
        Assert.Equal(0, (await GetAsync(fiscal, "/odata/Snapshots?$filter=Grain eq 'quarter'&$count=true")).GetProperty("@odata.count").GetInt32());
        // The count of every row, taken from the versions' recorded counts, leaves the quarter out as the rows do: only February's are left.
        using (var odata = Client(fiscal, TestKeys.Reader))
        {
            var februaryRows = (await GetAsync(fiscal, "/odata/Snapshots?$filter=Period eq '2026-02'&$count=true")).GetProperty("@odata.count").GetInt32();
            Assert.Equal(februaryRows.ToString(System.Globalization.CultureInfo.InvariantCulture), await odata.GetStringAsync("/odata/Snapshots/$count"));
        }
        Assert.Empty((await GetAsync(fiscal, "/odata/GoalAttainment?$filter=Period eq '2026-Q1'")).GetProperty("value").EnumerateArray());
        var quarter = (await GetAsync(fiscal, "/api/reporting-context")).GetProperty("grains").EnumerateArray().Single(g => g.GetProperty("grain").GetString() == "quarter")
            .GetProperty("periods").EnumerateArray().Single(p => p.GetProperty("key").GetString() == "2026-Q1");
        Assert.False(quarter.GetProperty("computed").GetBoolean());
        Assert.Equal(why, quarter.GetProperty("calendarChange").GetString());
        // A month names the same days under both calendars: still served.
        var february = await GetAsync(fiscal, OrdersOf("2026-02"));
        Assert.Equal(2, OrdersValue(february));
        Assert.False(february.TryGetProperty("calendarChange", out _));
        Assert.Single((await GetAsync(fiscal, "/odata/Snapshots?$filter=Period eq '2026-02' and Indicator eq 'com.orders' and Scope eq 'org'")).GetProperty("value").EnumerateArray());

        // The run the answer names computes April to June, and that is served from then on.
        await RunAsync(fiscal, "quarter", "2026-Q1");
        var recomputed = await GetAsync(fiscal, OrdersOf("2026-Q1"));
        Assert.Equal(1, OrdersValue(recomputed));
        Assert.False(recomputed.TryGetProperty("calendarChange", out _));
        var goalRow = Assert.Single((await GetAsync(fiscal, "/api/goals/attainment?period=2026-Q1")).GetProperty("items").EnumerateArray());
        Assert.Equal(1, goalRow.GetProperty("actual").GetDouble());
        Assert.Single((await GetAsync(fiscal, "/odata/Snapshots?$filter=Period eq '2026-Q1' and Indicator eq 'com.orders' and Scope eq 'org'")).GetProperty("value").EnumerateArray());
    }
}
