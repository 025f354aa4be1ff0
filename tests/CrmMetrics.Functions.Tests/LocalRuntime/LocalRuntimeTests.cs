using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Invocation;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Account;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.LocalRuntime;

/// <summary>The local trigger runtime against a real Azurite, with test functions whose behaviour the tests control.</summary>
public class LocalRuntimeTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite = new();
    private readonly List<CrmMetricsApp.Built> _apps = [];
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public Task InitializeAsync() => _azurite.InitializeAsync();

    public async Task DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.App.StopAsync();
            await app.DisposeAsync();
        }
        await _azurite.DisposeAsync();
    }

    private async Task<CrmMetricsApp.Built> StartAsync(TestFunctionsFolder folder, IReadOnlyDictionary<string, string?> settings, params IFunctionHandler[] handlers)
    {
        var all = new Dictionary<string, string?>(TestKeys.Settings())
        {
            ["AzureWebJobsStorage"] = _azurite.ConnectionString,
            ["urls"] = "http://127.0.0.1:0",
            ["CrmMetrics:FunctionsRoot"] = folder.Root,
        };
        foreach (var (k, v) in settings) all[k] = v;
        var built = await CrmMetricsApp.BuildAsync([], all, services =>
        {
            foreach (var h in handlers) services.AddSingleton(h);
        });
        await built.App.StartAsync();
        _apps.Add(built);
        return built;
    }

    private sealed class Handler(string name, Func<InvocationRequest, Task<InvocationResponse>> body) : IFunctionHandler
    {
        public string Name => name;
        public Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken) => body(request);
    }

    [Fact]
    public async Task A_message_that_keeps_failing_is_retried_with_growing_dequeue_counts_then_moved_to_poison()
    {
        using var folder = new TestFunctionsFolder(h => h["extensions"]!["queues"]!["maxDequeueCount"] = 3)
            .Add("AlwaysFails", new { type = "queueTrigger", direction = "in", name = "item", queueName = "test-fails", connection = "AzureWebJobsStorage" });
        var seenCounts = new ConcurrentBag<int>();
        var texts = new ConcurrentBag<string?>();
        var built = await StartAsync(folder, new Dictionary<string, string?>(), new Handler("AlwaysFails", r =>
        {
            seenCounts.Add(r.DequeueCount);
            texts.Add(r.TriggerText("item"));
            throw new InvalidOperationException("storage is down (simulated)");
        }));
        var account = built.App.Services.GetRequiredService<StorageAccount>();
        await account.Queue("test-fails").CreateIfNotExistsAsync();
        await account.Queue("test-fails").SendMessageAsync("{\"hello\":\"world\"}");

        var poison = account.Queue("test-fails-poison");
        await Eventually.WaitAsync(async () => (await poison.GetPropertiesAsync()).Value.ApproximateMessagesCount == 1, Deadline, "the message to reach the poison queue");
        Assert.Equal([1, 2, 3], seenCounts.Order());
        Assert.All(texts, t => Assert.Equal("{\"hello\":\"world\"}", t));
        var moved = (await poison.ReceiveMessageAsync()).Value;
        Assert.Equal("{\"hello\":\"world\"}", moved.Body.ToString());
        Assert.Equal(0, (await account.Queue("test-fails").GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task A_transient_failure_is_retried_and_then_succeeds_with_its_outputs_written_base64()
    {
        using var folder = new TestFunctionsFolder()
            .Add("Flaky",
                new { type = "queueTrigger", direction = "in", name = "item", queueName = "test-flaky", connection = "AzureWebJobsStorage" },
                new { type = "queue", direction = "out", name = "next", queueName = "test-flaky-out", connection = "AzureWebJobsStorage" });
        var attempts = 0;
        var built = await StartAsync(folder, new Dictionary<string, string?>(), new Handler("Flaky", r =>
        {
            if (Interlocked.Increment(ref attempts) < 3) throw new TimeoutException("transient (simulated)");
            var response = new InvocationResponse();
            response.AddMessages("next", ["one", "{\"two\":2}"]);
            return Task.FromResult(response);
        }));
        var account = built.App.Services.GetRequiredService<StorageAccount>();
        await account.Queue("test-flaky").CreateIfNotExistsAsync();
        await account.Queue("test-flaky-out").CreateIfNotExistsAsync();
        await account.Queue("test-flaky").SendMessageAsync("go");

        var raw = account.RawQueues.GetQueueClient("test-flaky-out");
        var messages = await Eventually.WaitAsync(async () => (await raw.PeekMessagesAsync(10)).Value, m => m.Length == 2, Deadline, "two output messages");
        Assert.Equal(["one", "{\"two\":2}"], messages.Select(m => Encoding.UTF8.GetString(Convert.FromBase64String(m.Body.ToString()))).Order(StringComparer.Ordinal));
        Assert.Equal(3, attempts);
        Assert.Equal(0, (await account.Queue("test-flaky-poison").GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task A_message_that_is_not_base64_fails_like_under_the_host_and_ends_in_poison()
    {
        using var folder = new TestFunctionsFolder(h => h["extensions"]!["queues"]!["maxDequeueCount"] = 2)
            .Add("Strict", new { type = "queueTrigger", direction = "in", name = "item", queueName = "test-strict", connection = "AzureWebJobsStorage" });
        var invoked = 0;
        var built = await StartAsync(folder, new Dictionary<string, string?>(), new Handler("Strict", _ => { invoked++; return Task.FromResult(new InvocationResponse()); }));
        var account = built.App.Services.GetRequiredService<StorageAccount>();
        await account.RawQueues.GetQueueClient("test-strict").CreateIfNotExistsAsync();
        await account.RawQueues.GetQueueClient("test-strict").SendMessageAsync("not base64 at all!");
        var poison = account.Queue("test-strict-poison");
        await Eventually.WaitAsync(async () => (await poison.ExistsAsync()).Value && (await poison.GetPropertiesAsync()).Value.ApproximateMessagesCount == 1, Deadline, "the undecodable message in poison");
        Assert.Equal(0, invoked);
    }

    [Fact]
    public async Task A_timer_runs_on_its_setting_schedule_never_overlapping_even_across_two_instances()
    {
        using var folder = new TestFunctionsFolder()
            .Add("Tick",
                new { type = "timerTrigger", direction = "in", name = "timer", schedule = "%TickSchedule%" },
                new { type = "queue", direction = "out", name = "ticks", queueName = "test-ticks", connection = "AzureWebJobsStorage" });
        var running = 0;
        var maxRunning = 0;
        var runs = 0;
        var payloads = new ConcurrentBag<string>();
        Func<InvocationRequest, Task<InvocationResponse>> body = async r =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxRunning, now);
            payloads.Add(r.Data["timer"].GetRawText());
            // Busy until the next occurrence of the every-second schedule is well past, so an
            // overlapping scheduler would run twice at once.
            var pastNextOccurrence = DateTimeOffset.UtcNow.AddSeconds(1.5);
            await Eventually.WaitAsync(() => Task.FromResult(DateTimeOffset.UtcNow >= pastNextOccurrence), Deadline, "the next occurrence to pass");
            Interlocked.Decrement(ref running);
            Interlocked.Increment(ref runs);
            var response = new InvocationResponse();
            response.AddMessages("ticks", ["tick"]);
            return response;
        };
        var settings = new Dictionary<string, string?> { ["TickSchedule"] = "* * * * * *" };
        var first = await StartAsync(folder, settings, new Handler("Tick", body));
        await StartAsync(folder, settings, new Handler("Tick", body));

        var account = first.App.Services.GetRequiredService<StorageAccount>();
        await account.Queue("test-ticks").CreateIfNotExistsAsync();
        await Eventually.WaitAsync(() => Task.FromResult(Volatile.Read(ref runs) >= 4), Deadline, "four timer runs");
        Assert.Equal(1, maxRunning);
        Assert.All(payloads, p => Assert.Contains("\"IsPastDue\"", p));
        await Eventually.WaitAsync(async () => (await account.Queue("test-ticks").GetPropertiesAsync()).Value.ApproximateMessagesCount >= 4, Deadline, "tick outputs");
    }

    [Fact]
    public async Task A_schedule_setting_that_is_not_ncrontab_stops_the_app_from_starting_with_its_name()
    {
        using var folder = new TestFunctionsFolder()
            .Add("Tick", new { type = "timerTrigger", direction = "in", name = "timer", schedule = "%TickSchedule%" });
        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => StartAsync(folder,
            new Dictionary<string, string?> { ["TickSchedule"] = "*/5 * * * *" }, new Handler("Tick", _ => Task.FromResult(new InvocationResponse()))));
        Assert.Contains("%TickSchedule%", error.Message);
        Assert.Contains("6 fields", error.Message);
    }

    [Fact]
    public async Task ServiceBus_outputs_go_to_the_azurite_queue_of_the_topic_once_per_cloud_event_id()
    {
        using var folder = new TestFunctionsFolder()
            .Add("Notify",
                new { type = "queueTrigger", direction = "in", name = "item", queueName = "test-notify", connection = "AzureWebJobsStorage" },
                new { type = "serviceBus", direction = "out", name = "alerts", topicName = "test-alerts", connection = "AlertsServiceBus" });
        var built = await StartAsync(folder, new Dictionary<string, string?>(), new Handler("Notify", r =>
        {
            var response = new InvocationResponse();
            var id = r.TriggerText("item");
            response.Outputs["alerts"] = new JsonObject { ["specversion"] = "1.0", ["id"] = id, ["type"] = "t" }.ToJsonString();
            return Task.FromResult(response);
        }));
        var account = built.App.Services.GetRequiredService<StorageAccount>();
        await account.Queue("test-notify").CreateIfNotExistsAsync();
        foreach (var id in new[] { "e-1", "e-2", "e-1" }) await account.Queue("test-notify").SendMessageAsync(id);
        await Eventually.WaitAsync(async () => (await account.Queue("test-notify").GetPropertiesAsync()).Value.ApproximateMessagesCount == 0
            && (await account.Queue("test-alerts").ExistsAsync()).Value, Deadline, "all notifications processed");
        var delivered = (await account.RawQueues.GetQueueClient("test-alerts").PeekMessagesAsync(10)).Value;
        Assert.Equal(["e-1", "e-2"], delivered.Select(m => System.Text.Json.JsonDocument.Parse(m.Body.ToString()).RootElement.GetProperty("id").GetString()).Order());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
