using System.Text.Json.Nodes;
using Azure.Data.Tables;
using CrmMetrics.Functions.Invocation;
using CrmMetrics.Functions.LocalRuntime;
using CrmMetrics.Storage.Account;
using CrmMetrics.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace CrmMetrics.Functions.Tests.LocalRuntime;

/// <summary>The emulated broker's duplicate detection when a sender dies between claiming a message id and sending.</summary>
public class OutputBindingWriterTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string Topic = "claims-test";

    private static readonly FunctionDefinition Function = new("Raise",
        [new BindingDefinition("serviceBus", "out", "alerts", new JsonObject { ["type"] = "serviceBus", ["direction"] = "out", ["name"] = "alerts", ["topicName"] = Topic })],
        Disabled: false);

    private static InvocationResponse Alert(string id)
    {
        var response = new InvocationResponse();
        response.AddMessages("alerts", [new JsonObject { ["specversion"] = "1.0", ["id"] = id, ["type"] = "t", ["source"] = "s", ["data"] = new JsonObject() }.ToJsonString()]);
        return response;
    }

    [Fact]
    public async Task A_redelivered_trigger_takes_over_the_claim_its_dead_attempt_left_and_others_wait()
    {
        var account = await azurite.AccountAsync();
        var writer = new OutputBindingWriter(account, new ConfigurationBuilder().Build(), NullLogger<OutputBindingWriter>.Instance);
        // The first attempt of trigger message m-1 claimed evt-1 and died before sending.
        await account.Table(StorageNames.Tables.SentMessages).AddEntityAsync(new TableEntity(StorageKeys.Encode(Topic), StorageKeys.Encode("evt-1"))
        {
            ["State"] = "claimed", ["At"] = DateTimeOffset.UtcNow, ["Trigger"] = "m-1",
        });

        // Another invocation must not send it while the claim is fresh...
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteAsync(Function, Alert("evt-1"), "m-2", default));
        // ...but the redelivery of m-1 itself sends it at once, and only once.
        await writer.WriteAsync(Function, Alert("evt-1"), "m-1", default);
        await writer.WriteAsync(Function, Alert("evt-1"), "m-1", default);
        await writer.WriteAsync(Function, Alert("evt-1"), "m-2", default);

        var queue = account.RawQueues.GetQueueClient(Topic);
        var messages = (await queue.PeekMessagesAsync(10)).Value;
        Assert.Single(messages);
    }

    [Fact]
    public async Task A_redelivered_trigger_whose_dead_attempt_had_enqueued_the_message_does_not_send_it_again()
    {
        var account = await azurite.AccountAsync();
        var writer = new OutputBindingWriter(account, new ConfigurationBuilder().Build(), NullLogger<OutputBindingWriter>.Instance);
        const string topic = "claims-enqueued";
        var function = Function with { Bindings = [Function.Bindings[0] with { Raw = new JsonObject { ["topicName"] = topic } }] };
        var queue = account.RawQueues.GetQueueClient(topic);
        await queue.CreateIfNotExistsAsync();
        // The first attempt of m-3 claimed evt-3 and enqueued it, then died before recording that.
        await account.Table(StorageNames.Tables.SentMessages).AddEntityAsync(new TableEntity(StorageKeys.Encode(topic), StorageKeys.Encode("evt-3"))
        {
            ["State"] = "claimed", ["At"] = DateTimeOffset.UtcNow, ["Trigger"] = "m-3",
        });
        await queue.SendMessageAsync(Alert("evt-3").Outputs["alerts"]![0]!.GetValue<string>());

        await writer.WriteAsync(function, Alert("evt-3"), "m-3", default);

        Assert.Single((await queue.PeekMessagesAsync(10)).Value);
        var row = await account.Table(StorageNames.Tables.SentMessages).GetEntityAsync<TableEntity>(StorageKeys.Encode(topic), StorageKeys.Encode("evt-3"));
        Assert.Equal("sent", row.Value.GetString("State"));
    }
}
