using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Ingestion;

/// <summary>
/// Attribution when a customer's acquisitions arrive out of order. An app of its own, and a longer deadline
/// for its second run: a customer attributed since 2018 whose segment moves marks every day since its
/// earlier acquisition (some 3,200 days), which took 110 s on a quiet machine and more than the usual 180 s
/// in a loaded CI run.
/// </summary>
public class LateAcquisitionTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task An_earlier_acquisition_arriving_late_moves_the_orders_before_both_to_its_segment()
    {
        // Found by an independent reference: the segment comes from the customer's first acquisition (indicators.md), in any
        // order of arrival (events.md); an order before both stayed in the segment of the acquisition that arrived first.
        static object Acquired(string id, string time, string segment, string region) =>
            new { id, type = "customer.acquired", time, customerId = "FA-1", data = new { segment, region } };
        await app.PostEventsAsync(new object[]
        {
            Acquired("fa-later", "2018-03-24T12:00:00Z", "fa-later-seg", "fa-later-reg"),
            new { id = "fa-order", type = "order", time = "2018-03-06T12:00:00Z", customerId = "FA-1", channel = "web", data = new { amount = 100m, currency = "EUR" } },
        });
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2018-03" });
        await app.PostEventsAsync(new[] { Acquired("fa-first", "2018-03-20T12:00:00Z", "fa-first-seg", "fa-first-reg") });
        await ApiDriver.RunAsync(app, new { grain = "month", period = "2018-03" }, TimeSpan.FromMinutes(8));

        async Task<double?> Revenue(string scope) =>
            (await ApiDriver.SnapshotsAsync(app, $"grain=month&period=2018-03&indicator=com.revenue&scope={scope}")).Select(ApiDriver.Value).SingleOrDefault();
        Assert.Equal(100, await Revenue("segment:fa-first-seg"));
        Assert.Equal(100, await Revenue("region:fa-first-reg"));
        Assert.True(await Revenue("segment:fa-later-seg") is null or 0);
    }
}
