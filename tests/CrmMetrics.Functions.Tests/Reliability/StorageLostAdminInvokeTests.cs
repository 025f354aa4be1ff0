using System.Net;
using System.Text.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.LocalHost;
using CrmMetrics.LocalHost.Storage;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Reliability;

/// <summary>A function run by hand (the host's admin route) while storage is gone: the function runs, its output cannot be written, and the answer says so.</summary>
public class StorageLostAdminInvokeTests
{
    [Fact]
    public async Task A_timer_run_by_hand_whose_output_storage_does_not_take_is_a_503_problem()
    {
        var ports = AzuriteServer.FreePorts();
        var azurite = await AzuriteServer.StartAsync(dataFolder: null, ports: ports);
        try
        {
            await using var host = await AppFixture.StartHostAsync(azurite.ConnectionString, []);
            using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            await Eventually.WaitAsync(async () => (await client.GetAsync("/api/health")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(90), "the app to become healthy");

            await azurite.DisposeAsync();
            using var answer = await client.PostAsync("/admin/functions/KpiSchedule", new StringContent("""{"input":""}""", System.Text.Encoding.UTF8, "application/json"));
            var text = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)answer.StatusCode}: {text}");
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            Assert.Contains("storage did not take its output", JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString());
            Assert.NotNull(answer.Headers.RetryAfter);
        }
        finally
        {
            await azurite.DisposeAsync();
        }
    }
}
