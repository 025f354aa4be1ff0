using System.Reflection;
using System.Text.Json;
using Azure.Storage.Queues;
using CrmMetrics.Testing;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>
/// The test app under a local host on a free port, against a given Azurite, with its logs captured.
/// Each test names its own queues (work, records), so tests share an Azurite without seeing each other.
/// </summary>
public sealed class TestHost : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private TestHost(LocalFunctionsHost host, LogCapture logs, TestQueues queues)
    {
        Host = host;
        Logs = logs;
        Queues = queues;
        Client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromMinutes(1) };
    }

    public LocalFunctionsHost Host { get; }
    public LogCapture Logs { get; }
    public TestQueues Queues { get; }
    public HttpClient Client { get; }

    public static string AppFolder =>
        typeof(TestHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TestApp").Value!;

    /// <summary>Starts a host for the test app; <paramref name="settings"/> win over the defaults.</summary>
    public static async Task<TestHost> StartAsync(TestQueues queues, IReadOnlyDictionary<string, string?>? settings = null,
        Func<LocalHostOptions, LocalHostOptions>? options = null, bool waitUntilReady = true)
    {
        var all = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = queues.Storage,
            ["WorkQueue"] = queues.Work,
            ["RecordQueue"] = queues.Records,
            // Quiet unless a test sets its own schedule.
            ["TickSchedule"] = "0 0 0 1 1 *",
            // Each test its own timer locks and status blobs.
            ["AzureFunctionsWebHost__hostid"] = queues.HostId,
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
        var logs = new LogCapture();
        var hostOptions = new LocalHostOptions { AppDirectory = AppFolder, Urls = ["http://127.0.0.1:0"], Settings = all, AzuriteDataFolder = null, WorkerGracePeriod = TimeSpan.FromSeconds(5) };
        if (options is not null) hostOptions = options(hostOptions);
        var host = await LocalFunctionsHost.StartAsync(hostOptions, logs);
        if (waitUntilReady)
        {
            try
            {
                await host.Ready.WaitAsync(Deadline);
            }
            catch (Exception e)
            {
                await host.DisposeAsync();
                throw new InvalidOperationException($"The host did not get ready ({e.Message}):\n{logs.Tail()}");
            }
        }
        return new TestHost(host, logs, queues);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
    }
}

/// <summary>One test's queues on a shared Azurite: where work goes and where the test app records what it saw.</summary>
public sealed class TestQueues(string storage, string workSuffix = "")
{
    private readonly string _id = Guid.NewGuid().ToString("N")[..10];

    public string Storage { get; } = storage;
    public string Work => "work-" + _id + workSuffix;
    public string Records => "seen-" + _id;
    public string HostId => "lh-" + _id;

    /// <summary>A queue, encoding messages as the queue trigger expects (base64) unless told otherwise.</summary>
    public QueueClient Queue(string name, bool base64 = true) =>
        new(Storage, name, new QueueClientOptions { MessageEncoding = base64 ? QueueMessageEncoding.Base64 : QueueMessageEncoding.None });

    public async Task SendWorkAsync(object work)
    {
        var queue = Queue(Work);
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync(JsonSerializer.Serialize(work));
    }

    /// <summary>Every record the test app wrote so far (the records queue is drained into this list).</summary>
    public List<JsonElement> Seen { get; } = [];

    /// <summary>Waits until the records satisfy <paramref name="done"/>, reading new ones as they come.</summary>
    public async Task<List<JsonElement>> WaitForRecordsAsync(Func<List<JsonElement>, bool> done, string what, TimeSpan? deadline = null)
    {
        var queue = Queue(Records, base64: false);
        await Eventually.WaitAsync(async () =>
        {
            if ((await queue.ExistsAsync()).Value)
            {
                foreach (var m in (await queue.ReceiveMessagesAsync(32)).Value)
                {
                    Seen.Add(JsonDocument.Parse(m.Body.ToString()).RootElement.Clone());
                    await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                }
            }
            return done(Seen);
        }, deadline ?? TestHost.Deadline, what);
        return Seen;
    }

    public IEnumerable<JsonElement> Of(string function) => Seen.Where(r => r.GetProperty("function").GetString() == function);
}
