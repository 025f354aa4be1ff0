using System.IO.Compression;
using System.Text;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>Day partials written before the binary format are aggregated again, never counted as empty days.</summary>
public class PartialFormatMigrationTests(AppFixture app) : IClassFixture<AppFixture>
{
    /// <summary>Leaves a day as a deployment of the previous version did: its partial only as gzipped JSON.</summary>
    private async Task UploadJsonPartialAsync(string day, int factCount)
    {
        var partials = app.Storage.Container(StorageNames.Containers.Partials);
        var key = day.Replace("-", "");
        await partials.GetBlobClient($"days/{key}.bin.gz").DeleteIfExistsAsync();
        using var json = new MemoryStream();
        await using (var gzip = new GZipStream(json, CompressionLevel.Fastest, leaveOpen: true))
            await gzip.WriteAsync(Encoding.UTF8.GetBytes($$$"""{"format":1,"day":"{{{day}}}","factCount":{{{factCount}}},"scopes":{}}"""));
        json.Position = 0;
        await partials.GetBlobClient($"days/{key}.json.gz").UploadAsync(json);
    }

    [Fact]
    public async Task A_day_whose_partial_is_of_the_json_format_is_aggregated_again_before_its_period_is_finalised()
    {
        await app.PostEventsAsync(Enumerable.Range(0, 3).Select(i => new
        {
            id = $"mig-{i}", type = "order", time = $"2026-04-0{3 + i % 2}T10:00:00Z", customerId = $"C-{i}", channel = "web",
            data = new { amount = 100 + i, currency = "EUR" },
        }).ToArray());
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-04" });

        // As a deployment of the previous version left it: the day's partial only as gzipped JSON.
        var partials = app.Storage.Container(StorageNames.Containers.Partials);
        await UploadJsonPartialAsync("2026-04-03", factCount: 2);

        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-04" });
        var revenue = Assert.Single(await ApiDriver.SnapshotsAsync(app, "grain=month&period=2026-04&indicator=com.revenue&scope=org"));
        Assert.Equal(303, ApiDriver.Value(revenue));
        Assert.True((await partials.GetBlobClient("days/20260403.bin.gz").ExistsAsync()).Value);
        Assert.False((await partials.GetBlobClient("days/20260403.json.gz").ExistsAsync()).Value);
    }

    [Fact]
    public async Task A_day_aggregated_again_counts_in_the_active_customers_of_the_period_being_finalised()
    {
        await app.PostEventsAsync(new[]
        {
            new { id = "mig-a1", type = "customer.acquired", time = "2026-05-05T10:00:00Z", customerId = "MA-1" },
            new { id = "mig-a2", type = "customer.acquired", time = "2026-05-06T10:00:00Z", customerId = "MA-2" },
        });
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-05" });
        const string query = "grain=month&period=2026-05&indicator=com.active-customers&scope=org";
        var before = ApiDriver.Value(Assert.Single(await ApiDriver.SnapshotsAsync(app, query)));

        // The day's partial only as JSON, and the lifecycle ledger without the day's change: only
        // aggregating the day again writes it back, after the finalisation has started.
        await UploadJsonPartialAsync("2026-05-05", factCount: 1);
        await app.Storage.Table(StorageNames.Tables.LifecycleLedger).DeleteEntityAsync("ledger", "20260505");

        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-05" });
        Assert.Equal(before, ApiDriver.Value(Assert.Single(await ApiDriver.SnapshotsAsync(app, query))));
    }

    [Fact]
    public async Task Days_whose_binary_partial_is_of_an_older_version_are_aggregated_again_and_count_customers_once()
    {
        // Format 3 added the lifecycle cells that churn and retention need to count customers, not moves; a
        // deployment of the previous version left format 2 behind.
        await app.PostEventsAsync(new[]
        {
            new { id = "v2-a1", type = "customer.acquired", time = "2026-02-20T10:00:00Z", customerId = "V2-1" },
            new { id = "v2-a2", type = "customer.acquired", time = "2026-02-21T10:00:00Z", customerId = "V2-2" },
            new { id = "v2-c1", type = "customer.churned", time = "2026-03-02T10:00:00Z", customerId = "V2-1" },
            new { id = "v2-r1", type = "customer.reactivated", time = "2026-03-09T10:00:00Z", customerId = "V2-1" },
            new { id = "v2-c2", type = "customer.churned", time = "2026-03-16T10:00:00Z", customerId = "V2-1" },
        });
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-03" });
        var partials = app.Storage.Container(StorageNames.Containers.Partials);
        foreach (var key in new[] { "20260302", "20260309", "20260316" })
        {
            using var old = new MemoryStream();
            await using (var gzip = new GZipStream(old, CompressionLevel.Fastest, leaveOpen: true))
                await gzip.WriteAsync("CMDP\u0002 a partial of format 2"u8.ToArray());
            old.Position = 0;
            await partials.GetBlobClient($"days/{key}.bin.gz").UploadAsync(old, overwrite: true);
        }

        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-03" });
        double? Value(string indicator) =>
            ApiDriver.Value(Assert.Single(ApiDriver.SnapshotsAsync(app, $"grain=month&period=2026-03&indicator={indicator}&scope=org").Result));
        // Of the 2 active at the start, V2-1 churned (twice): 1 customer, 50 %. Only this test's facts fall in March.
        Assert.Equal(50, Value("cx.churn-rate"));
        Assert.Equal(1, Value("com.win-backs"));
        foreach (var key in new[] { "20260302", "20260309", "20260316" })
        {
            using var plain = new MemoryStream();
            await using (var gzip = new GZipStream((await partials.GetBlobClient($"days/{key}.bin.gz").DownloadContentAsync()).Value.Content.ToStream(), CompressionMode.Decompress))
                await gzip.CopyToAsync(plain);
            Assert.Equal(3, plain.ToArray()[4]); // written again in the current format
        }
    }
}
