using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.LocalHost.Storage;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Reliability;

/// <summary>
/// Storage that takes connections and never answers (hung, not down): an HTTP request answers 503
/// once one storage request has gone unanswered for <c>CrmMetrics:HttpStorageTimeoutSeconds</c>,
/// instead of after the storage clients' five tries of 60 s (found by probing: about 300 s, past the
/// 230 s after which Azure's front end gives up on a request). Nothing is half-written: once storage
/// answers again, the same events are taken as new.
/// </summary>
public class StorageSilenceTests
{
    [Fact]
    public async Task A_request_answers_503_within_the_storage_timeout_when_storage_hangs_and_nothing_is_half_written()
    {
        await using var azurite = await AzuriteServer.StartAsync(dataFolder: null);
        await using var relay = new SilentStorageRelay(azurite.TablePort);
        var logs = new LogCapture();
        await using var host = await AppFixture.StartHostAsync(AzuriteServer.ConnectionStringFor(azurite.BlobPort, azurite.QueuePort, relay.Port),
            [new("CrmMetrics:HttpStorageTimeoutSeconds", "3")], logs);
        // Well under the five tries of 60 s a request waited before: the old behaviour times this client out.
        using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(90) };
        await Eventually.WaitAsync(async () => (await client.GetAsync("/api/health")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(90), "the app to be healthy");
        var events = new[] { new { id = "o-silent-1", type = "order", time = "2026-08-03T10:00:00Z", customerId = "C-1", data = new { amount = 12.5, currency = "EUR" } } };

        relay.Silence();
        using (var read = await client.SendAsync(Keyed(HttpMethod.Get, "/api/goals", TestKeys.Reader)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, read.StatusCode);
            Assert.NotNull(read.Headers.RetryAfter);
            var detail = JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();
            Assert.Equal("Storage did not answer within 3 s; retry the request shortly.", detail);
        }
        using (var write = await client.SendAsync(Keyed(HttpMethod.Post, "/api/events", TestKeys.Writer, JsonContent.Create(events))))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, write.StatusCode);
            var detail = JsonDocument.Parse(await write.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();
            Assert.StartsWith("Storage did not answer within 3 s; no record was half-written", detail);
        }
        Assert.True(relay.DroppedReads > 0, "the relay dropped no request: storage was never silent");
        // Given up after one unanswered try: tried again, the failure would be the SDK's "Retry failed after 5 tries".
        await Eventually.WaitAsync(() => Task.FromResult(logs.Contains("answered 503, storage unavailable: Storage did not answer within 3 s.")), TimeSpan.FromSeconds(30), "the 503 in the log" + logs.Tail());

        relay.Resume();
        using var again = await client.SendAsync(Keyed(HttpMethod.Post, "/api/events", TestKeys.Writer, JsonContent.Create(events)));
        var accepted = JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement;
        Assert.True(again.StatusCode == HttpStatusCode.Accepted, accepted.ToString());
        Assert.Equal(1, accepted.GetProperty("accepted").GetInt32());
        Assert.Equal(0, accepted.GetProperty("duplicates").GetInt32());
    }

    private static HttpRequestMessage Keyed(HttpMethod method, string path, string key, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("x-api-key", key);
        return request;
    }
}
