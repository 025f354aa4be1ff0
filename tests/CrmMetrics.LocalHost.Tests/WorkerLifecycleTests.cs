using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CrmMetrics.Testing;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>The worker's life under the host: restarted when it dies, told to stop with WorkerTerminate, work handed over on shutdown.</summary>
public sealed class WorkerLifecycleTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_worker_that_dies_is_restarted_and_queued_work_then_completes()
    {
        var queues = new TestQueues(azurite.ConnectionString);
        await using var host = await TestHost.StartAsync(queues);
        var first = host.Host.Workers.ProcessId!.Value;
        var before = (await host.Client.GetFromJsonAsync<JsonElement>("/lh/settings/X")).GetProperty("pid").GetInt32();
        Assert.Equal(first, before);

        host.Host.Workers.KillWorker();
        for (var i = 0; i < 5; i++) await queues.SendWorkAsync(new { name = $"after-{i}" });

        await queues.WaitForRecordsAsync(_ => queues.Of("Work").Count() >= 5, "the queued work done by the new worker");
        Assert.All(queues.Of("Work"), r => Assert.NotEqual(first, r.GetProperty("pid").GetInt32()));
        var after = (await host.Client.GetFromJsonAsync<JsonElement>("/lh/settings/X")).GetProperty("pid").GetInt32();
        Assert.NotEqual(first, after);
        Assert.Equal(2, host.Host.Workers.Starts);
        Assert.True(host.Logs.Contains($"Worker process {first} exited"), host.Logs.Tail());
    }

    [Fact]
    public async Task A_function_past_its_timeout_restarts_the_worker_as_the_functions_host_does()
    {
        // Found by a review against the Functions host's source: it restarts the worker of a timed-out invocation (every
        // invocation in flight on it fails), where this host cancelled that one invocation alone. The test app's
        // functionTimeout is one minute.
        var queues = new TestQueues(azurite.ConnectionString);
        await using var host = await TestHost.StartAsync(queues);
        var first = host.Host.Workers.ProcessId!.Value;
        await queues.SendWorkAsync(new { name = "too-long", busyMs = 75_000 });
        await Eventually.WaitAsync(() => Task.FromResult(host.Logs.Contains("ran past functionTimeout")), TimeSpan.FromSeconds(100), "the timeout");
        await Eventually.WaitAsync(() => Task.FromResult(host.Host.Workers.Starts == 2 && host.Host.Workers.Current is not null), TestHost.Deadline, "a new worker");
        var after = (await host.Client.GetFromJsonAsync<JsonElement>("/lh/settings/X")).GetProperty("pid").GetInt32();
        Assert.NotEqual(first, after);
    }

    [Fact]
    public async Task Stopping_the_host_ends_the_worker_with_WorkerTerminate_rather_than_a_kill()
    {
        var queues = new TestQueues(azurite.ConnectionString);
        var host = await TestHost.StartAsync(queues);
        var pid = host.Host.Workers.ProcessId!.Value;
        await host.DisposeAsync();
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
        Assert.False(host.Logs.Contains("killing it"), host.Logs.Tail());
        Assert.True(host.Logs.Contains("Host stopped"), host.Logs.Tail());
    }

    [Fact]
    public async Task On_shutdown_a_running_invocation_finishes_within_the_grace_period()
    {
        var queues = new TestQueues(azurite.ConnectionString);
        var host = await TestHost.StartAsync(queues);
        await queues.SendWorkAsync(new { name = "slow", busyMs = 1500 });
        await Eventually.WaitAsync(async () => (await queues.Queue(queues.Work).GetPropertiesAsync()).Value.ApproximateMessagesCount == 1
            && (await queues.Queue(queues.Work).PeekMessageAsync()).Value is null, TestHost.Deadline, "the message in flight");
        await host.DisposeAsync();
        await queues.WaitForRecordsAsync(_ => queues.Of("Work").Any(), "the slow invocation's record");
        Assert.Equal("slow", queues.Of("Work").Single().GetProperty("Name").GetString());
        Assert.Equal(0, (await queues.Queue(queues.Work).GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task A_message_dequeued_as_the_host_stops_is_run_rather_than_left_invisible_for_its_lease()
    {
        await using var proxy = new HeldDequeueProxy(azurite.Server.QueuePort);
        var (host, queues) = await StartWithDequeueHeldAsync(proxy, "caught");
        var stopping = host.DisposeAsync().AsTask();
        await Eventually.WaitAsync(() => Task.FromResult(host.Logs.Contains("Stopping: no new work is taken")), TestHost.Deadline, "the host stopping");
        proxy.Release();
        await stopping;

        await queues.WaitForRecordsAsync(_ => queues.Of("Work").Any(r => r.GetProperty("Name").GetString() == "caught"), "the caught message's record");
        Assert.Equal(0, (await queues.Queue(queues.Work).GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.True(host.Logs.Contains("received as the host stops run within the grace period"), host.Logs.Tail());
    }

    [Fact]
    public async Task Storage_that_never_answers_a_receive_holds_up_the_stop_only_for_the_grace_period()
    {
        await using var proxy = new HeldDequeueProxy(azurite.Server.QueuePort);
        var (host, _) = await StartWithDequeueHeldAsync(proxy, "never-heard");
        // Never released: the receive is given up after the 5 s grace period, long before the client's
        // own 30 s network timeout and its retries would end it.
        await host.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(host.Logs.Contains("Host stopped"), host.Logs.Tail());
    }

    /// <summary>
    /// A host whose queue traffic goes through <paramref name="proxy"/>, with a message named
    /// <paramref name="name"/> dequeued by Azurite and the answer held, so the host has not heard of it.
    /// </summary>
    private async Task<(TestHost Host, TestQueues Queues)> StartWithDequeueHeldAsync(HeldDequeueProxy proxy, string name)
    {
        var queues = new TestQueues(azurite.ConnectionString);
        var host = await TestHost.StartAsync(queues, new Dictionary<string, string?> { ["AzureWebJobsStorage"] = proxy.ConnectionString(azurite.Server) });
        // The listener is in its receive loop before answers are held.
        await queues.SendWorkAsync(new { name = "first" });
        await queues.WaitForRecordsAsync(_ => queues.Of("Work").Any(), "the first message's record");
        proxy.Hold();
        await queues.SendWorkAsync(new { name });
        await Eventually.WaitAsync(() => Task.FromResult(proxy.HeldAnswers > 0), TestHost.Deadline, "the dequeue's answer held");
        return (host, queues);
    }

    [Fact]
    public async Task On_shutdown_an_invocation_past_the_grace_period_is_cancelled_and_its_message_released_for_the_next_host()
    {
        var queues = new TestQueues(azurite.ConnectionString);
        var host = await TestHost.StartAsync(queues, options: o => new LocalHostOptions
        {
            AppDirectory = o.AppDirectory, Urls = o.Urls, Settings = o.Settings, AzuriteDataFolder = null, WorkerGracePeriod = TimeSpan.FromSeconds(1),
        });
        await queues.SendWorkAsync(new { name = "too-slow", busyMs = 20_000 });
        await Eventually.WaitAsync(async () => (await queues.Queue(queues.Work).GetPropertiesAsync()).Value.ApproximateMessagesCount == 1
            && (await queues.Queue(queues.Work).PeekMessageAsync()).Value is null, TestHost.Deadline, "the message in flight");
        await host.DisposeAsync();
        // Released at once: visible again long before its 10-minute lease would have run out.
        await Eventually.WaitAsync(async () => (await queues.Queue(queues.Work).PeekMessageAsync()).Value is not null, TimeSpan.FromSeconds(20), "the message visible again");
        Assert.True(host.Logs.Contains("did not finish within the grace period"), host.Logs.Tail());
        // Found by probing: each invocation a stop cancelled was logged as a failure, with the worker's stack trace.
        // The worker's report comes before its answer, which the stop does not wait for; when it came, it is one line.
        Assert.All(host.Logs.Lines.Where(l => l.Contains("An exception was thrown by the invocation")),
            l => Assert.Matches(@"Information +Host\.Worker: .* — cancelled as the host stops \(TaskCanceledException\)$", l));
        Assert.DoesNotContain(host.Logs.Lines, l => l.Contains("   at "));
    }

    [Fact]
    public async Task A_stop_while_more_invocations_run_than_new_batch_threshold_ends_within_the_grace_period_and_releases_their_messages()
    {
        // Found by probing: a stop under a backlog took 33–40 s with a 10 s grace. With more invocations running
        // than newBatchThreshold (2 here), the listener waited for some to finish before it looked at the stop again,
        // and released the messages of the others only then. These never finish.
        var queues = new TestQueues(azurite.ConnectionString);
        for (var i = 0; i < 3; i++) await queues.SendWorkAsync(new { name = $"endless-{i}", busyMs = 3_600_000 });
        var host = await TestHost.StartAsync(queues);
        var work = queues.Queue(queues.Work);
        await Eventually.WaitAsync(async () => (await work.GetPropertiesAsync()).Value.ApproximateMessagesCount == 3 && (await work.PeekMessageAsync()).Value is null,
            TestHost.Deadline, "the three messages in flight");

        // The grace period for the invocations, at most as long again for the worker to exit after WorkerTerminate, and a margin.
        var deadline = host.Host.Workers.GracePeriod * 2 + TimeSpan.FromSeconds(10);
        try
        {
            await host.DisposeAsync().AsTask().WaitAsync(deadline);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The stop had not ended after {deadline.TotalSeconds} s:\n{host.Logs.Tail()}");
        }
        Assert.True(host.Logs.Contains("3 invocations did not finish within the grace period"), host.Logs.Tail());
        await Eventually.WaitAsync(async () => (await work.PeekMessagesAsync(32)).Value.Length == 3, TimeSpan.FromSeconds(20), "the three messages visible again");
    }

    [Fact]
    public async Task Requests_wait_for_a_restarting_worker_instead_of_failing()
    {
        var queues = new TestQueues(azurite.ConnectionString);
        await using var host = await TestHost.StartAsync(queues);
        host.Host.Workers.KillWorker();
        var response = await host.Client.GetAsync("/lh/items/7");
        // Failed once in CI (500, not reproduced since): the answer and the host's log say which path gave it.
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{host.Logs.Tail()}");
    }

    [Fact]
    public async Task A_request_with_a_body_sent_as_the_worker_dies_reaches_the_next_worker_whole()
    {
        var queues = new TestQueues(azurite.ConnectionString);
        await using var host = await TestHost.StartAsync(queues);
        await host.Client.GetAsync("/lh/items/1"); // a pooled connection to the worker that is about to die
        var body = new string('b', 200_000);
        host.Host.Workers.KillWorker();
        var response = await host.Client.PostAsync("/lh/echo/after", new StringContent(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(body.Length, echo.GetProperty("bodyLength").GetInt32());
    }

    [Fact]
    public async Task A_worker_whose_host_process_is_killed_stops_on_its_own()
    {
        var queues = new TestQueues(azurite.ConnectionString);
        var port = Processes.FreePort();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(HostCommand.HostDirectory()!, "CrmMetrics.LocalHost.dll"), "--urls", $"http://127.0.0.1:{port}", "--app", TestHost.AppFolder })
            info.ArgumentList.Add(a);
        foreach (var (k, v) in new Dictionary<string, string> { ["AzureWebJobsStorage"] = queues.Storage, ["WorkQueue"] = queues.Work, ["RecordQueue"] = queues.Records,
                     ["TickSchedule"] = "0 0 0 1 1 *", ["AzureFunctionsWebHost__hostid"] = queues.HostId })
            info.Environment[k] = v;
        using var host = Process.Start(info)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        host.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        host.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        host.BeginOutputReadLine();
        host.BeginErrorReadLine();
        var worker = 0;
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            await Eventually.WaitAsync(async () =>
            {
                if (host.HasExited) throw new InvalidOperationException("The host exited: " + string.Join("\n", output.TakeLast(10)));
                try
                {
                    var answer = await client.GetAsync("/lh/settings/X");
                    if (answer.StatusCode != HttpStatusCode.OK) return false;
                    worker = (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("pid").GetInt32();
                    return true;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TestHost.Deadline, "the worker to answer");

            host.Kill(entireProcessTree: false);
            await host.WaitForExitAsync();
            await Eventually.WaitAsync(() => Task.FromResult(!Processes.IsRunning(worker)), TimeSpan.FromSeconds(30), "the orphaned worker to exit");
        }
        finally
        {
            if (!host.HasExited) host.Kill(entireProcessTree: true);
            if (worker != 0 && Processes.IsRunning(worker)) Process.GetProcessById(worker).Kill();
        }
    }
}
