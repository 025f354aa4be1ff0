using System.Diagnostics;
using System.Net.Sockets;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using CrmMetrics.LocalHost.Storage;
using CrmMetrics.Testing;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>The Azurite the host starts when no storage is configured keeps what it acknowledged.</summary>
public sealed class AzuriteServerTests
{
    [Fact]
    public async Task A_second_azurite_on_the_same_data_folder_is_refused_until_the_first_has_closed()
    {
        var folder = Directory.CreateTempSubdirectory("lh-azurite-");
        try
        {
            var first = await AzuriteServer.StartAsync(folder.FullName);
            // Its own type, so the host and the demo say it without a stack trace; the advice names what helps.
            var refused = await Assert.ThrowsAsync<AzuriteFolderInUseException>(() => AzuriteServer.StartAsync(folder.FullName));
            Assert.Contains("Another local host runs Azurite on the data in", refused.Message);
            Assert.Contains("set AzureWebJobsStorage", refused.Message);
            var firstProcess = first.ProcessId;
            await first.DisposeAsync();
            await using var second = await AzuriteServer.StartAsync(folder.FullName);
            Assert.NotEqual(firstProcess, second.ProcessId);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task What_a_persisted_azurite_acknowledged_just_before_it_stopped_is_there_when_it_starts_again()
    {
        // Azurite saves its tables and queues to disk every 5 seconds: a kill right after a write loses it.
        var folder = Directory.CreateTempSubdirectory("lh-azurite-");
        try
        {
            var ports = AzuriteServer.FreePorts();
            var first = await AzuriteServer.StartAsync(folder.FullName, ports: ports);
            var table = new TableClient(first.ConnectionString, "Kept");
            await table.CreateIfNotExistsAsync();
            var queue = new QueueClient(first.ConnectionString, "kept");
            await queue.CreateIfNotExistsAsync();
            await table.AddEntityAsync(new TableEntity("p", "written-last") { ["Value"] = 42 });
            await queue.SendMessageAsync("sent last");
            await first.DisposeAsync();

            await using var second = await AzuriteServer.StartAsync(folder.FullName, ports: ports);
            var entity = await new TableClient(second.ConnectionString, "Kept").GetEntityIfExistsAsync<TableEntity>("p", "written-last");
            Assert.True(entity.HasValue, "the entity written just before the stop was lost");
            Assert.Equal(42, entity.Value!.GetInt32("Value"));
            var message = (await new QueueClient(second.ConnectionString, "kept").ReceiveMessageAsync()).Value;
            Assert.Equal("sent last", message?.Body.ToString());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_terminal_ctrl_c_reaching_azurite_leaves_it_serving_until_the_host_stops_it()
    {
        // Ctrl+C signals the whole foreground process group; the host then stops gracefully and needs its storage.
        await using var storage = await AzuriteServer.StartAsync(dataFolder: null);
        var table = new TableClient(storage.ConnectionString, "AfterCtrlC");
        await table.CreateIfNotExistsAsync();
        using (var kill = Process.Start("kill", ["-INT", storage.ProcessId.ToString()])) await kill.WaitForExitAsync();
        // Azurite that honoured SIGINT closes its servers within milliseconds: it answers none of these.
        for (var i = 0; i < 5; i++)
        {
            await table.UpsertEntityAsync(new TableEntity("p", $"r{i}"));
            await Task.Delay(300);
        }
        Assert.Equal(5, await table.QueryAsync<TableEntity>(e => e.PartitionKey == "p").CountAsync());
    }

    [Fact]
    public async Task A_service_managers_stop_reaching_azurite_leaves_it_serving_until_the_host_closes_it_and_saves_its_data()
    {
        // Found by probing: systemd (and `kill` of the process group) sends SIGTERM to every process of the
        // service. Azurite closed at once, and the requests the host was still finishing within its grace
        // period failed with 503. It now waits for the host to close it after the host's own stop.
        var folder = Directory.CreateTempSubdirectory("lh-azurite-");
        try
        {
            var storage = await AzuriteServer.StartAsync(folder.FullName);
            var ports = (storage.BlobPort, storage.QueuePort, storage.TablePort);
            await using (storage)
            {
                var table = new TableClient(storage.ConnectionString, "AfterStop");
                await table.CreateIfNotExistsAsync();
                using (var kill = Process.Start("kill", ["-TERM", storage.ProcessId.ToString()])) await kill.WaitForExitAsync();
                await Eventually.WaitAsync(() => Task.FromResult(storage.Output.ToString().Contains(AzuriteServer.StopSignalLine)), TimeSpan.FromSeconds(30),
                    "Azurite to hear the stop signal");
                await table.UpsertEntityAsync(new TableEntity("p", "after-signal") { ["Value"] = 1 });
                Assert.True(Listening(storage.TablePort), "Azurite closed on the stop signal instead of waiting for its host");
                // The host, stopped, asks it to close, and it saves what it acknowledged (a kill would not).
                await storage.StopAsync();
            }

            await using var again = await AzuriteServer.StartAsync(folder.FullName, ports: ports);
            var entity = await new TableClient(again.ConnectionString, "AfterStop").GetEntityIfExistsAsync<TableEntity>("p", "after-signal");
            Assert.True(entity.HasValue, "what Azurite acknowledged after the stop signal was lost");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Azurite_counts_as_installed_only_once_npm_has_finished_not_when_its_script_has_appeared()
    {
        var root = Directory.CreateTempSubdirectory("lh-npm-");
        try
        {
            var scripts = Directory.CreateDirectory(Path.Combine(root.FullName, "node_modules", "azurite", "dist", "src"));
            Assert.False(AzuriteServer.IsInstalled(root.FullName));
            // npm extracts the package's files (the script among them) before its dependencies…
            File.WriteAllText(Path.Combine(scripts.FullName, "azurite.js"), "");
            Assert.False(AzuriteServer.IsInstalled(root.FullName));
            // …and records the finished install last.
            File.WriteAllText(Path.Combine(root.FullName, "node_modules", ".package-lock.json"), "{}");
            Assert.True(AzuriteServer.IsInstalled(root.FullName));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Azurite_writes_no_line_per_request_for_its_starter_to_read()
    {
        // Its access log was a line per request, read by the host for as long as Azurite ran and all kept in memory.
        await using var storage = await AzuriteServer.StartAsync(dataFolder: null);
        var table = new TableClient(storage.ConnectionString, "Quiet");
        await table.CreateIfNotExistsAsync();
        for (var i = 0; i < 30; i++) await table.UpsertEntityAsync(new TableEntity("p", $"r{i}"));
        await table.GetEntityAsync<TableEntity>("p", "r29");
        var output = storage.Output.ToString();
        Assert.Contains("successfully listening", output);
        Assert.DoesNotContain("HTTP/1.1", output);
        Assert.DoesNotContain("/Quiet", output);
    }

    [Fact]
    public async Task An_azurite_whose_starter_was_killed_outright_closes_on_its_own()
    {
        // A starter that cannot stop it (kill -9): Azurite is started as the host starts it, then orphaned.
        var script = await AzuriteServer.LocateOrInstallAsync(_ => { }, CancellationToken.None);
        var (blob, queue, table) = AzuriteServer.FreePorts();
        var start = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-c", "node \"$@\" > /dev/null 2>&1 & echo $!; wait", "starter" }) start.ArgumentList.Add(arg);
        foreach (var arg in AzuriteServer.NodeArguments(script, null, blob, queue, table)) start.ArgumentList.Add(arg);
        using var starter = Process.Start(start)!;
        var node = int.Parse((await starter.StandardOutput.ReadLineAsync())!);
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(Listening(table)), TimeSpan.FromSeconds(60), "Azurite to listen");
            starter.Kill(entireProcessTree: false);
            await Eventually.WaitAsync(() => Task.FromResult(!Listening(table) && !Listening(blob) && !Listening(queue)), TimeSpan.FromSeconds(30),
                "the orphaned Azurite to close its ports");
        }
        finally
        {
            try { Process.GetProcessById(node).Kill(); } catch (Exception e) when (e is ArgumentException or InvalidOperationException) { }
        }
    }

    [Fact]
    public async Task An_azurite_whose_output_has_no_reader_any_more_keeps_serving_and_saves_what_it_acknowledged()
    {
        // Found by probing: a host killed outright took the read end of Azurite's output with it; Azurite's next
        // line failed with EPIPE and killed it before it saved, losing acknowledged facts. Here the reader is gone at once.
        var script = await AzuriteServer.LocateOrInstallAsync(_ => { }, CancellationToken.None);
        var folder = Directory.CreateTempSubdirectory("lh-azurite-");
        var ports = AzuriteServer.FreePorts();
        var (blob, queue, table) = ports;
        var start = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-c", "node \"$@\" > >(head -c 0) 2>&1 & echo $!; wait", "starter" }) start.ArgumentList.Add(arg);
        foreach (var arg in AzuriteServer.NodeArguments(script, folder.FullName, blob, queue, table)) start.ArgumentList.Add(arg);
        using var starter = Process.Start(start)!;
        var node = int.Parse((await starter.StandardOutput.ReadLineAsync())!);
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(Listening(table)), TimeSpan.FromSeconds(60), "Azurite to listen though nothing reads its output");
            var kept = new TableClient(AzuriteServer.ConnectionStringFor(blob, queue, table), "Kept");
            await kept.CreateIfNotExistsAsync();
            await kept.AddEntityAsync(new TableEntity("p", "acknowledged") { ["Value"] = 7 });
            // Its starter killed outright: it closes on its own, saving, though its closing lines go nowhere.
            starter.Kill(entireProcessTree: false);
            await Eventually.WaitAsync(() => Task.FromResult(!Listening(table) && !Listening(blob) && !Listening(queue)), TimeSpan.FromSeconds(30), "the orphaned Azurite to close");
            await Eventually.WaitAsync(() => Task.FromResult(!Alive(node)), TimeSpan.FromSeconds(30), "the orphaned Azurite to exit");

            await using var again = await AzuriteServer.StartAsync(folder.FullName, ports: ports);
            var entity = await new TableClient(again.ConnectionString, "Kept").GetEntityIfExistsAsync<TableEntity>("p", "acknowledged");
            Assert.True(entity.HasValue, "the entity acknowledged before the starter was killed was lost");
        }
        finally
        {
            try { Process.GetProcessById(node).Kill(); } catch (Exception e) when (e is ArgumentException or InvalidOperationException) { }
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Whether the process still runs (an exited orphan not yet reaped, a zombie, does not).</summary>
    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
