using System.Net;
using System.Net.Http.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Process;

/// <summary>The app as an operator starts it: the local host's process with the real worker, settings from environment variables (<c>__</c> for <c>:</c>).</summary>
public class AppProcessTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Started_with_urls_and_environment_settings_it_serves_the_contract()
    {
        await using var app = await AppProcessHandle.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CrmMetrics__Keys__crm"] = "writer:" + TestKeys.Hash("process-writer"),
        });
        var events = JsonContent.Create(new[] { new { id = "p-1", type = "customer.acquired", time = "2026-08-01T10:00:00Z", customerId = "C-1" } });
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.PostAsync("/api/events", events)).StatusCode);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = events };
        request.Headers.Add("x-api-key", "process-writer");
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.SendAsync(request)).StatusCode);
        Assert.Contains(app.Output, l => l.Contains("IngestEvents: [POST]"));
        Assert.Contains(app.Output, l => l.Contains("AggregateDay: queueTrigger (kpi-days)"));
        // The log names the keys and their roles, never their hashes.
        Assert.Contains(app.Output, l => l.Contains("API keys: crm (writer)"));
        Assert.DoesNotContain(app.Output, l => l.Contains(TestKeys.Hash("process-writer")));
    }

    [Fact]
    public async Task Without_keys_or_with_a_wrong_storage_key_the_log_says_so()
    {
        await using (var keyless = await AppProcessHandle.StartAsync(new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString }))
        {
            await Eventually.WaitAsync(() => Task.FromResult(keyless.Output.Any(l => l.Contains("No API keys are configured"))), TimeSpan.FromSeconds(30), "the warning about keys");
        }
        // A refused credential is a setting to fix, not storage that does not answer.
        var wrongKey = System.Text.RegularExpressions.Regex.Replace(azurite.ConnectionString, "AccountKey=[^;]+", "AccountKey=" + Convert.ToBase64String(new byte[64]));
        await using var refused = await AppProcessHandle.StartAsync(new Dictionary<string, string> { ["AzureWebJobsStorage"] = wrongKey }, waitHealthy: false);
        await Eventually.WaitAsync(() => Task.FromResult(refused.Output.Any(l => l.Contains("Storage refused this app's credentials (403"))), TimeSpan.FromSeconds(60), "the log to say the key was refused");
    }

    [Fact]
    public async Task Killing_only_the_worker_the_host_restarts_it_and_queued_work_completes()
    {
        await using var app = await AppProcessHandle.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CrmMetrics__Keys__ops"] = "admin:" + TestKeys.Hash(TestKeys.Admin),
        });
        async Task<System.Text.Json.JsonElement> Get(string path) => System.Text.Json.JsonDocument.Parse(await app.Client.GetStringAsync(path)).RootElement.Clone();
        var worker = (await Get("/admin/host/status")).GetProperty("workerProcessId").GetInt32();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/events")
        {
            Content = JsonContent.Create(Enumerable.Range(0, 20).Select(i => new { id = $"kw-{i}", type = "order", time = "2026-08-03T10:00:00Z", customerId = $"C-{i % 4}", data = new { amount = 10, currency = "EUR" } })),
        };
        request.Headers.Add("x-api-key", TestKeys.Admin);
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.SendAsync(request)).StatusCode);

        System.Diagnostics.Process.GetProcessById(worker).Kill();
        // Work queued while the worker is down: a run, whose steps go through three queues.
        var start = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = JsonContent.Create(new { grain = "month", period = "2026-08" }) };
        start.Headers.Add("x-api-key", TestKeys.Admin);
        var accepted = await app.Client.SendAsync(start);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var runId = System.Text.Json.JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("runId").GetString();
        app.Client.DefaultRequestHeaders.Add("x-api-key", TestKeys.Admin);
        await Eventually.WaitAsync(async () => (await Get($"/api/runs/{runId}")).GetProperty("state").GetString() == "succeeded", TimeSpan.FromMinutes(2), "the run to succeed");
        Assert.NotEqual(worker, (await Get("/admin/host/status")).GetProperty("workerProcessId").GetInt32());
        Assert.Contains(app.Output, l => l.Contains($"Worker process {worker} exited"));
    }

    [Fact]
    public async Task Job_messages_of_a_run_nobody_created_or_of_an_impossible_day_are_logged_and_dropped_writing_nothing()
    {
        // Found by probing: each of these crashed five times into a poison queue, or wrote rows (a year 9999 among the scorecard's periods).
        await using var app = await AppProcessHandle.StartAsync(AppProcessHandle.AdminEnvironment(azurite.ConnectionString));
        app.Client.DefaultRequestHeaders.Add("x-api-key", TestKeys.Admin);
        var account = CrmMetrics.Storage.Account.StorageAccount.FromConnectionString(azurite.ConnectionString);
        await account.Queue("kpi-days").SendMessageAsync("""{"runId":"ghost-run","day":"2026-08-03"}""");
        await account.Queue("kpi-days").SendMessageAsync("""{"runId":"ghost-run","day":"9999-12-31"}""");
        await account.Queue("kpi-periods").SendMessageAsync("""{"runId":"ghost-run","grain":"year","period":"9999"}""");
        await account.Queue("kpi-done").SendMessageAsync("""{"runId":"ghost-run","grain":"year","period":"9999","version":1,"rows":26}""");

        foreach (var line in new[]
                 {
                     "Run ghost-run does not exist or did not plan day 2026-08-03; the day was aggregated but is not recorded on it", "AggregateDay dropped a malformed message",
                     "Run ghost-run does not exist; 9999 is not finalised for it", "Run ghost-run does not exist or did not plan 9999 (year); version 1 is not recorded on it",
                 })
            await Eventually.WaitAsync(() => Task.FromResult(app.Output.Any(l => l.Contains(line))), TimeSpan.FromSeconds(60), line);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync("/api/runs/ghost-run")).StatusCode);

        // A run that exists finalises and records only the periods it planned: stray messages (found by
        // probing: they added periods to a finished run's record) change nothing on it.
        var started = await app.Client.PostAsync("/api/runs", JsonContent.Create(new { grain = "month", period = "2026-08" }));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var runId = System.Text.Json.JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("runId").GetString();
        async Task<System.Text.Json.JsonElement> RunAsync() => System.Text.Json.JsonDocument.Parse(await app.Client.GetStringAsync($"/api/runs/{runId}")).RootElement;
        await Eventually.WaitAsync(async () => (await RunAsync()).GetProperty("state").GetString() == "succeeded", TimeSpan.FromSeconds(60), "the run to succeed");
        var before = (await RunAsync()).ToString();
        await account.Queue("kpi-periods").SendMessageAsync($$"""{"runId":"{{runId}}","grain":"year","period":"9999"}""");
        await account.Queue("kpi-periods").SendMessageAsync($$"""{"runId":"{{runId}}","grain":"month","period":"2026-01"}""");
        await account.Queue("kpi-done").SendMessageAsync($$"""{"runId":"{{runId}}","grain":"month","period":"2026-03","version":99,"rows":5}""");
        await account.Queue("kpi-done").SendMessageAsync($$"""{"runId":"{{runId}}","grain":"month","period":"2026-08","version":99,"rows":5}""");
        foreach (var line in new[]
                 {
                     $"Run {runId} did not plan 9999 (year); it is not finalised for it", $"Run {runId} did not plan 2026-01 (month); it is not finalised for it",
                     $"Run {runId} does not exist or did not plan 2026-03 (month); version 99 is not recorded on it",
                     $"Run {runId} finalises 2026-08 (month) as another version than 99; the message is not recorded on it",
                 })
            await Eventually.WaitAsync(() => Task.FromResult(app.Output.Any(l => l.Contains(line))), TimeSpan.FromSeconds(60), line);
        Assert.Equal(before, (await RunAsync()).ToString());
        var context = await app.Client.GetStringAsync("/api/reporting-context");
        Assert.DoesNotContain("9999", context);
        Assert.DoesNotContain(app.Output, l => l.Contains("failed on message"));
    }

    [Fact]
    public async Task A_worker_whose_host_is_killed_stops_on_its_own()
    {
        var app = await AppProcessHandle.StartAsync(new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString });
        var worker = System.Text.Json.JsonDocument.Parse(await app.Client.GetStringAsync("/admin/host/status")).RootElement.GetProperty("workerProcessId").GetInt32();
        app.KillHostOnly();
        await Eventually.WaitAsync(() => Task.FromResult(!Processes.IsRunning(worker)), TimeSpan.FromSeconds(30), "the orphaned worker to exit");
        await app.DisposeAsync();
    }

    [Fact]
    public async Task A_bad_setting_keeps_the_worker_from_starting_with_a_message_naming_it_and_the_host_answers_503()
    {
        await using var app = await AppProcessHandle.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["CrmMetrics__Calendar"] = "lunar",
            ["CrmMetrics__Keys__bad"] = "superuser:abc",
        }, waitHealthy: false);
        await Eventually.WaitAsync(() => Task.FromResult(app.Output.Any(l => l.Contains("exited with code 2"))), TimeSpan.FromSeconds(60), "the worker to stop on its settings");
        Assert.Contains(app.Output, l => l.Contains("CrmMetrics:Calendar"));
        Assert.Contains(app.Output, l => l.Contains("CrmMetrics:Keys:bad"));
        var response = await app.Client.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        // The answer says why, not "starting" for ever.
        var detail = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();
        Assert.Contains("not running", detail);
        Assert.Contains("CrmMetrics:Calendar", detail);
        Assert.False(app.HasExited);
    }
}
