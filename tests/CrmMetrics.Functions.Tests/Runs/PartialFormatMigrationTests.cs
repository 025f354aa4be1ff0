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
}
