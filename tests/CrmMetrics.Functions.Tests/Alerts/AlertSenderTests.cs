using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Azure.Messaging.ServiceBus;
using CrmMetrics.Functions.Alerts;
using CrmMetrics.Storage.Account;
using CrmMetrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CrmMetrics.Functions.Tests.Alerts;

/// <summary>How alerts leave: as Service Bus messages (built and batched without a broker) or, locally, on the Azurite queue with duplicate detection emulated.</summary>
public class AlertSenderTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static string Alert(string id, string severity = "critical") => new JsonObject
    {
        ["specversion"] = "1.0", ["id"] = id, ["type"] = "crm.metrics.alert.threshold", ["source"] = "/crm-metrics/test", ["subject"] = "cx.csat/org/2026-10",
        ["data"] = new JsonObject { ["indicator"] = "cx.csat", ["scope"] = "org", ["period"] = "2026-10", ["severity"] = severity, ["kind"] = "threshold", ["value"] = 71.5 },
    }.ToJsonString();

    [Fact]
    public void A_service_bus_message_carries_the_alert_id_content_type_subject_and_filter_properties()
    {
        var message = AlertMessages.ToServiceBusMessage(Alert("crm-abc"));
        Assert.Equal("crm-abc", message.MessageId);
        Assert.Equal("application/cloudevents+json", message.ContentType);
        Assert.Equal("crm.metrics.alert.threshold", message.Subject);
        Assert.Equal("critical", message.ApplicationProperties["severity"]);
        Assert.Equal("threshold", message.ApplicationProperties["kind"]);
        Assert.Equal("cx.csat", message.ApplicationProperties["indicator"]);
        Assert.Equal("org", message.ApplicationProperties["scope"]);
        Assert.Equal("2026-10", message.ApplicationProperties["period"]);
        Assert.Equal(Alert("crm-abc"), message.Body.ToString());
        Assert.Throws<FormatException>(() => AlertMessages.ToServiceBusMessage("""{"specversion":"1.0","type":"t"}"""));
    }

    [Fact]
    public async Task Alerts_go_to_the_topic_in_batches_that_fit()
    {
        var sender = new RecordingSender(maxPerBatch: 2);
        await new ServiceBusAlertSender(sender, NullLogger<ServiceBusAlertSender>.Instance).SendAsync([Alert("a-1"), Alert("a-2"), Alert("a-3")], "m-1", default);
        Assert.Equal([["a-1", "a-2"], ["a-3"]], sender.Batches);
    }

    [Fact]
    public async Task A_redelivered_trigger_takes_over_the_claim_its_dead_attempt_left_and_others_wait_for_it()
    {
        var account = await azurite.AccountAsync();
        var log = new WaitingLog();
        var sender = new QueueAlertSender(account, log);
        // The first attempt of trigger message m-1 claimed evt-1 and died before sending.
        await Claimed(account, "evt-1", "m-1", DateTimeOffset.UtcNow);

        // Another invocation does not send it, nor drop it, while the claim is fresh: it waits...
        var other = sender.SendAsync([Alert("evt-1")], "m-2", default);
        await log.Waiting.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(other.IsCompleted);
        Assert.DoesNotContain("evt-1", await QueuedIdsAsync(account));
        // ...while the redelivery of m-1 itself sends it at once, and only once.
        await sender.SendAsync([Alert("evt-1")], "m-1", default);
        await sender.SendAsync([Alert("evt-1")], "m-1", default);
        await other.WaitAsync(TimeSpan.FromSeconds(30));
        await sender.SendAsync([Alert("evt-1")], "m-2", default);

        Assert.Single(await QueuedIdsAsync(account), id => id == "evt-1");
    }

    [Fact]
    public async Task Another_invocation_takes_over_a_claim_left_longer_than_the_stale_time_and_the_dead_ones_retry_sends_nothing()
    {
        var account = await azurite.AccountAsync();
        var sender = new QueueAlertSender(account, NullLogger<QueueAlertSender>.Instance, staleClaim: TimeSpan.FromMinutes(1));
        await Claimed(account, "evt-2", "m-1", DateTimeOffset.UtcNow.AddMinutes(-2));

        await sender.SendAsync([Alert("evt-2")], "m-2", default).WaitAsync(TimeSpan.FromSeconds(30));
        await sender.SendAsync([Alert("evt-2")], "m-1", default);

        Assert.Single(await QueuedIdsAsync(account), id => id == "evt-2");
    }

    [Fact]
    public async Task An_invocation_waiting_on_a_claim_whose_sender_died_sends_the_message_once_the_claim_goes_stale()
    {
        var account = await azurite.AccountAsync();
        var sender = new QueueAlertSender(account, NullLogger<QueueAlertSender>.Instance, staleClaim: TimeSpan.FromSeconds(2));
        await Claimed(account, "evt-4", "m-1", DateTimeOffset.UtcNow);

        // m-1 never comes back within the stale time: m-2 must not drop the message as if it were sent.
        await sender.SendAsync([Alert("evt-4")], "m-2", default).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Single(await QueuedIdsAsync(account), id => id == "evt-4");
    }

    /// <summary>Completes when the sender says it waits for another invocation's send.</summary>
    private sealed class WaitingLog : ILogger<QueueAlertSender>
    {
        public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (formatter(state, exception).Contains("waiting for it", StringComparison.Ordinal)) Waiting.TrySetResult();
        }
    }

    private static Task Claimed(StorageAccount account, string messageId, string trigger, DateTimeOffset at) =>
        account.Table(StorageNames.Tables.SentMessages).AddEntityAsync(new TableEntity(StorageKeys.Encode(AlertMessages.Topic), StorageKeys.Encode(messageId))
        {
            ["State"] = "claimed", ["At"] = at, ["Trigger"] = trigger,
        });

    [Fact]
    public async Task A_redelivered_trigger_whose_dead_attempt_had_enqueued_the_message_does_not_send_it_again()
    {
        var account = await azurite.AccountAsync();
        var sender = new QueueAlertSender(account, NullLogger<QueueAlertSender>.Instance);
        var queue = account.RawQueues.GetQueueClient(AlertMessages.Topic);
        await queue.CreateIfNotExistsAsync();
        // The first attempt of m-3 claimed evt-3 and enqueued it, then died before recording that.
        await Claimed(account, "evt-3", "m-3", DateTimeOffset.UtcNow);
        await queue.SendMessageAsync(Alert("evt-3"));

        await sender.SendAsync([Alert("evt-3")], "m-3", default);

        Assert.Single(await QueuedIdsAsync(account), id => id == "evt-3");
        var row = await account.Table(StorageNames.Tables.SentMessages).GetEntityAsync<TableEntity>(StorageKeys.Encode(AlertMessages.Topic), StorageKeys.Encode("evt-3"));
        Assert.Equal("sent", row.Value.GetString("State"));
    }

    [Fact]
    public async Task The_local_queue_holds_the_plain_cloud_event_one_per_message()
    {
        var account = await azurite.AccountAsync();
        await new QueueAlertSender(account, NullLogger<QueueAlertSender>.Instance).SendAsync([Alert("evt-5"), Alert("evt-6"), Alert("evt-5")], "m-5", default);
        var ids = await QueuedIdsAsync(account);
        Assert.Single(ids, id => id == "evt-5");
        Assert.Single(ids, id => id == "evt-6");
    }

    private static async Task<List<string?>> QueuedIdsAsync(StorageAccount account) =>
        (await account.RawQueues.GetQueueClient(AlertMessages.Topic).PeekMessagesAsync(32)).Value.Select(m => AlertMessages.IdOf(m.Body.ToString())).ToList();

    /// <summary>A sender that keeps what it would have sent, batch by batch (the SDK's model factory builds its batches).</summary>
    private sealed class RecordingSender(int maxPerBatch) : ServiceBusSender
    {
        public List<List<string>> Batches { get; } = [];
        private readonly List<List<ServiceBusMessage>> _stores = [];

        public override string EntityPath => AlertMessages.Topic;

        public override ValueTask<ServiceBusMessageBatch> CreateMessageBatchAsync(CancellationToken cancellationToken = default)
        {
            var store = new List<ServiceBusMessage>();
            _stores.Add(store);
            return ValueTask.FromResult(ServiceBusModelFactory.ServiceBusMessageBatch(256 * 1024, store, tryAddCallback: _ => store.Count < maxPerBatch));
        }

        public override Task SendMessagesAsync(ServiceBusMessageBatch messageBatch, CancellationToken cancellationToken = default)
        {
            Batches.Add(_stores[^1].Select(m => m.MessageId).ToList());
            return Task.CompletedTask;
        }
    }
}
