using System.Net;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.LocalHost;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Reliability;

/// <summary>
/// Rotating a key without downtime, as the README describes: both keys of a role are configured
/// while clients move to the new one; removing the old one (a settings change, which restarts the
/// app as Azure does) ends its access at the first request after.
/// </summary>
public class KeyRotationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private Task<LocalFunctionsHost> StartAsync(IEnumerable<KeyValuePair<string, string?>> keys) => AppFixture.StartHostAsync(azurite.ConnectionString, keys);

    private static async Task<HttpStatusCode> ReadAsync(LocalFunctionsHost host, string key)
    {
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Add("x-api-key", key);
        return (await client.GetAsync("/api/indicators")).StatusCode;
    }

    [Fact]
    public async Task Two_keys_of_one_role_work_side_by_side_and_the_removed_one_stops_at_once()
    {
        var old = new KeyValuePair<string, string?>("CrmMetrics:Keys:powerbi", "reader:" + TestKeys.Hash("reader-2025"));
        var @new = new KeyValuePair<string, string?>("CrmMetrics:Keys:powerbi-2026", "reader:" + TestKeys.Hash("reader-2026"));
        await using (var both = await StartAsync([old, @new]))
        {
            Assert.Equal(HttpStatusCode.OK, await ReadAsync(both, "reader-2025"));
            Assert.Equal(HttpStatusCode.OK, await ReadAsync(both, "reader-2026"));
        }
        await using var rotated = await StartAsync([@new]);
        Assert.Equal(HttpStatusCode.Unauthorized, await ReadAsync(rotated, "reader-2025"));
        Assert.Equal(HttpStatusCode.OK, await ReadAsync(rotated, "reader-2026"));
    }
}
