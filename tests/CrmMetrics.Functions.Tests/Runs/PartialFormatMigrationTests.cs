using System.IO.Compression;
using System.Text;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>Day partials written before the binary format are aggregated again, never counted as empty days.</summary>
public class PartialFormatMigrationTests(AppFixture app) : IClassFixture<AppFixture>
{
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
        await partials.GetBlobClient("days/20260403.bin.gz").DeleteAsync();
        using (var json = new MemoryStream())
        {
            await using (var gzip = new GZipStream(json, CompressionLevel.Fastest, leaveOpen: true))
                await gzip.WriteAsync(Encoding.UTF8.GetBytes("""{"format":1,"day":"2026-04-03","factCount":2,"scopes":{}}"""));
            json.Position = 0;
            await partials.GetBlobClient("days/20260403.json.gz").UploadAsync(json);
        }

        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-04" });
        var revenue = Assert.Single(await ApiDriver.SnapshotsAsync(app, "grain=month&period=2026-04&indicator=com.revenue&scope=org"));
        Assert.Equal(303, ApiDriver.Value(revenue));
        Assert.True((await partials.GetBlobClient("days/20260403.bin.gz").ExistsAsync()).Value);
        Assert.False((await partials.GetBlobClient("days/20260403.json.gz").ExistsAsync()).Value);
    }
}
