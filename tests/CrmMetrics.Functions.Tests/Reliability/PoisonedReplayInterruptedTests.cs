using System.Net;
using System.Text.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.LocalHost.Storage;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Reliability;

/// <summary>
/// A replay of poisoned event messages that storage stops part-way answers 503 to retry, as storage
/// failures do, but says how many messages it had already moved (a bare 503 said nothing was
/// half-written, though some were), and loses none: the retry moves the rest and every event is
/// ingested. The queue endpoint goes through a relay that drops the replay's second receive, after the
/// first page of 32 was sent back and removed.
/// </summary>
public class PoisonedReplayInterruptedTests
{
    private const int Messages = 34;

    private static object[] Event(int i) =>
        [new { id = $"pr-{i}", type = "order", time = "2026-10-05T10:00:00Z", customerId = $"PR-{i}", channel = "web", data = new { amount = 10m, currency = "EUR" } }];

    [Fact]
    public async Task A_replay_that_storage_stops_part_way_answers_503_saying_how_many_moved_and_loses_none()
    {
        await using var rig = await Rig.StartAsync();
        var (relay, client, logs, poison, stores) = (rig.Relay, rig.Client, rig.Logs, rig.Poison, rig.Stores);

        // The replay's receives from the poison queue (a listing peeks instead): the second is never answered.
        var receives = 0;
        relay.Drop = line => line.StartsWith("GET ", StringComparison.Ordinal) && line.Contains("/crm-events-poison/messages?", StringComparison.Ordinal)
            && !line.Contains("peekonly", StringComparison.OrdinalIgnoreCase) && Interlocked.Increment(ref receives) == 2;
        using (var stopped = await client.SendAsync(Keyed(HttpMethod.Post, "/api/events/poisoned/replay")))
        {
            var body = await stopped.Content.ReadAsStringAsync();
            Assert.True(stopped.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)stopped.StatusCode} {body}\n{logs.Tail()}");
            Assert.NotNull(stopped.Headers.RetryAfter);
            Assert.Equal("application/problem+json", stopped.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(body).RootElement;
            Assert.Equal(32, problem.GetProperty("replayed").GetInt32());
            Assert.Equal(0, problem.GetProperty("unreadable").GetInt32());
            Assert.StartsWith("Storage did not answer within 3 s after 32 poisoned event messages were sent back to crm-events", problem.GetProperty("detail").GetString());
        }
        // Those not moved are still there.
        Assert.Equal(Messages - 32, (await poison.GetPropertiesAsync()).Value.ApproximateMessagesCount);

        relay.Drop = null;
        using (var rest = await client.SendAsync(Keyed(HttpMethod.Post, "/api/events/poisoned/replay")))
        {
            var body = JsonDocument.Parse(await rest.Content.ReadAsStringAsync()).RootElement;
            Assert.True(rest.StatusCode == HttpStatusCode.OK, body.ToString());
            Assert.Equal(Messages - 32, body.GetProperty("replayed").GetInt32());
            Assert.Equal(0, body.GetProperty("approximateRemaining").GetInt32());
        }
        var facts = stores.GetRequiredService<FactStore>();
        var time = DateTimeOffset.Parse("2026-10-05T10:00:00Z");
        await Eventually.WaitAsync(async () =>
        {
            for (var i = 0; i < Messages; i++)
            {
                if (await facts.GetAsync($"pr-{i}", time, default) is null) return false;
            }
            return true;
        }, TimeSpan.FromSeconds(90), "every replayed event to be ingested");
    }

    [Fact]
    public async Task A_message_a_replay_took_but_could_not_remove_is_found_by_the_retry_at_once()
    {
        // Found in review: a message sent back but not removed stayed hidden for the replay's two minutes, so the
        // retry the 503 asks for, after its Retry-After, moved nothing of it. The relay drops the first delete.
        await using var rig = await Rig.StartAsync();
        var (relay, client, logs) = (rig.Relay, rig.Client, rig.Logs);

        var deletes = 0;
        relay.Drop = line => line.StartsWith("DELETE ", StringComparison.Ordinal) && line.Contains("/crm-events-poison/messages/", StringComparison.Ordinal)
            && Interlocked.Increment(ref deletes) == 1;
        using (var stopped = await client.SendAsync(Keyed(HttpMethod.Post, "/api/events/poisoned/replay")))
        {
            var body = await stopped.Content.ReadAsStringAsync();
            Assert.True(stopped.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)stopped.StatusCode} {body}\n{logs.Tail()}");
            Assert.Equal(31, JsonDocument.Parse(body).RootElement.GetProperty("replayed").GetInt32());
        }

        // At once, without waiting for the message's hiding to end: it is sent again, with the page never received.
        relay.Drop = null;
        using (var rest = await client.SendAsync(Keyed(HttpMethod.Post, "/api/events/poisoned/replay")))
        {
            var body = JsonDocument.Parse(await rest.Content.ReadAsStringAsync()).RootElement;
            Assert.True(rest.StatusCode == HttpStatusCode.OK, body.ToString());
            Assert.Equal(Messages - 31, body.GetProperty("replayed").GetInt32());
            Assert.Equal(0, body.GetProperty("approximateRemaining").GetInt32());
        }
    }

    /// <summary>Azurite with a relay in front of its queue port, the app (a 3 s storage answer limit) through it, and <see cref="Messages"/> messages in the poison queue.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        // Disposed last first: the stores and the app before the relay and Azurite.
        private readonly List<IAsyncDisposable> _owned = [];

        public RequestDroppingRelay Relay { get; private set; } = null!;
        public HttpClient Client { get; private set; } = null!;
        public LogCapture Logs { get; } = new();
        public Azure.Storage.Queues.QueueClient Poison { get; private set; } = null!;
        public ServiceProvider Stores { get; private set; } = null!;

        public static async Task<Rig> StartAsync()
        {
            var rig = new Rig();
            try
            {
                var azurite = rig.Own(await AzuriteServer.StartAsync(dataFolder: null));
                rig.Relay = rig.Own(new RequestDroppingRelay(azurite.QueuePort));
                var host = rig.Own(await AppFixture.StartHostAsync(AzuriteServer.ConnectionStringFor(azurite.BlobPort, rig.Relay.Port, azurite.TablePort),
                    [new("CrmMetrics:HttpStorageTimeoutSeconds", "3")], rig.Logs));
                rig.Client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(90) };
                rig.Stores = rig.Own(AppFixture.StoreServices(azurite.ConnectionString));
                var account = rig.Stores.GetRequiredService<StorageAccount>();
                await account.InitializeAsync(CancellationToken.None);
                rig.Poison = account.Queue(StorageNames.Queues.Poison(StorageNames.Queues.CrmEvents));
                // As the host moves them: the same base64 text.
                for (var i = 0; i < Messages; i++) await rig.Poison.SendMessageAsync(JsonSerializer.Serialize(Event(i)));
                await Eventually.WaitAsync(async () => (await rig.Client.GetAsync("/api/health")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(90), "the app to be healthy");
                return rig;
            }
            catch
            {
                await rig.DisposeAsync();
                throw;
            }
        }

        private T Own<T>(T disposable) where T : IAsyncDisposable
        {
            _owned.Add(disposable);
            return disposable;
        }

        public async ValueTask DisposeAsync()
        {
            Client?.Dispose();
            for (var i = _owned.Count - 1; i >= 0; i--) await _owned[i].DisposeAsync();
        }
    }

    private static HttpRequestMessage Keyed(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("x-api-key", TestKeys.Admin);
        return request;
    }
}
