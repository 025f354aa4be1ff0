using System.Text.Json;
using CrmMetrics.Testing;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>
/// Pins the host ↔ worker handshake as the local host speaks it (../shared/design/local-host.md):
/// start arguments, StartStream, init, the worker's own metadata, one load per function. The gRPC
/// protocol is Microsoft's internal contract; when a worker package update changes it, this fails
/// and says which package and version to look at.
/// </summary>
public sealed class HandshakeContractTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly string[] Functions = ["Bytes", "Busy", "Default", "Echo", "Fail", "Item", "OnStartup", "Setting", "SpecialItem", "Tick", "Work"];

    [Fact]
    public async Task The_pinned_worker_completes_the_handshake_and_declares_every_function_with_its_bindings()
    {
        var package = WorkerPackage.In(TestHost.AppFolder);
        var changed = $"{package} changed the host ↔ worker handshake (see ../shared/design/local-host.md and src/CrmMetrics.LocalHost/Workers/WorkerSupervisor.cs)";
        TestHost host;
        try
        {
            host = await TestHost.StartAsync(new TestQueues(azurite.ConnectionString));
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{changed}: the worker did not become ready: {e.Message}");
        }
        await using (host)
        {
            var ready = host.Host.Workers.Current ?? throw new Xunit.Sdk.XunitException($"{changed}: no worker is ready.");
            Assert.True(ready.HttpUri is not null, $"{changed}: its init response announced no HttpUri capability (the ASP.NET Core integration).");
            Assert.True(ready.Metadata.WorkerVersion.StartsWith(package.Version, StringComparison.Ordinal),
                $"{changed}: the worker says it is version {ready.Metadata.WorkerVersion}, the app was built with {package.Version}.");
            Assert.True(Functions.Order().SequenceEqual(ready.Functions.Keys.Order()),
                $"{changed}: it declared [{string.Join(", ", ready.Functions.Keys.Order())}] instead of [{string.Join(", ", Functions)}].");
            Assert.All(ready.Functions.Values, f => Assert.False(string.IsNullOrEmpty(f.Id), $"{changed}: {f.Name} has no function id."));
            var work = ready.Functions["Work"];
            Assert.True(work.Trigger.Type == "queueTrigger" && work.Trigger.Name == "message" && work.Trigger.Get("queueName") == "%WorkQueue%",
                $"{changed}: the raw bindings of Work are {string.Join(" ", work.Bindings.Select(b => b.Raw.ToJsonString()))}.");
            Assert.Contains(work.Outputs, o => o.Type == "queue" && o.Name == "Out" && o.Get("queueName") == "lh-out");
            Assert.True(host.Host.Workers.Current!.Functions["OnStartup"].Trigger.GetBool("runOnStartup") == true, $"{changed}: runOnStartup is not in the timer's binding.");
        }
    }
}

/// <summary>The Microsoft.Azure.Functions.Worker package an app was built with, read from its deps.json.</summary>
public sealed record WorkerPackage(string Version)
{
    public const string Name = "Microsoft.Azure.Functions.Worker";

    public static WorkerPackage In(string appFolder)
    {
        var deps = Directory.GetFiles(appFolder, "*.deps.json").Single();
        using var doc = JsonDocument.Parse(File.ReadAllText(deps));
        foreach (var library in doc.RootElement.GetProperty("libraries").EnumerateObject())
        {
            if (library.Name.StartsWith(Name + "/", StringComparison.Ordinal)) return new WorkerPackage(library.Name[(Name.Length + 1)..]);
        }
        throw new InvalidOperationException($"{deps} names no {Name} package.");
    }

    public override string ToString() => $"{Name} {Version}";
}
