using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Samples;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.BiAccess;

[CollectionDefinition("bi")]
public sealed class BiCollection : ICollectionFixture<BiFixture>;

/// <summary>Two computed months with goals, a plan and an alert rule: what BI tools read.</summary>
public sealed class BiFixture : AppFixture
{
    public List<JsonObject> Events { get; } = SyntheticCrm.Generate(new SyntheticCrmOptions
    {
        From = new DateOnly(2026, 3, 1), To = new DateOnly(2026, 4, 30), Customers = 80, Seed = 55,
    }).ToList();

    protected override IEnumerable<KeyValuePair<string, string?>> Settings() => [new("CrmMetrics:ODataPageSize", "50")];

    protected override async Task AfterStartAsync()
    {
        await ApiDriver.IngestAsync(this, Events);
        await PutAsync("/api/goals/revenue", new { name = "Revenue", nameFa = "درآمد", indicator = "com.revenue", grain = "month", target = 10000 });
        await PutAsync("/api/goals/overall", new { name = "Overall", grain = "month", children = new[] { new { goalId = "revenue", weight = 100 } } });
        await PutAsync("/api/incentive-plans/sales", new
        {
            name = "Sales", grain = "month", participants = new[] { new { staffId = "S-01", quota = 5000 } }, tiers = new[] { new { from = 0, rate = 0.05 } },
        });
        await PutAsync("/api/alert-rules/csat", new { kind = "threshold", indicator = "cx.csat", below = 99 });
        await ApiDriver.RunAsync(this, new { grain = "month", period = "2026-03" });
        await ApiDriver.RunAsync(this, new { grain = "month", period = "2026-04" });
    }

    public async Task PutAsync(string path, object body)
    {
        var response = await SendAsync(HttpMethod.Put, path, TestKeys.Admin, JsonContent.Create(body));
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {await response.Content.ReadAsStringAsync()}");
    }
}
