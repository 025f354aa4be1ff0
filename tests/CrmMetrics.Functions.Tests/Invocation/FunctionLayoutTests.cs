using System.Text.Json;
using CrmMetrics.Functions.Api;
using CrmMetrics.Functions.Tests.Support;

namespace CrmMetrics.Functions.Tests.Invocation;

/// <summary>
/// The built app is a standard isolated app whose functions keep today's names, triggers, routes,
/// queues and schedules, and every HTTP operation declares who may call it.
/// </summary>
public class FunctionLayoutTests
{
    private static JsonElement Metadata() => JsonDocument.Parse(File.ReadAllText(Path.Combine(FunctionApp.Folder, "functions.metadata"))).RootElement.Clone();

    private static string Trigger(string function)
    {
        var f = Metadata().EnumerateArray().Single(x => x.GetProperty("name").GetString() == function);
        var b = f.GetProperty("bindings").EnumerateArray().Single(x => x.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
        return b.GetProperty("type").GetString() + " " + (b.TryGetProperty("queueName", out var q) ? q.GetString() : b.TryGetProperty("schedule", out var s) ? s.GetString() : b.GetProperty("route").GetString());
    }

    [Theory]
    [InlineData("IngestQueuedEvents", "queueTrigger crm-events")]
    [InlineData("StartRun", "queueTrigger kpi-runs")]
    [InlineData("AggregateDay", "queueTrigger kpi-days")]
    [InlineData("FinalizePeriod", "queueTrigger kpi-periods")]
    [InlineData("CompletePeriod", "queueTrigger kpi-done")]
    [InlineData("StartRunPoisoned", "queueTrigger kpi-runs-poison")]
    [InlineData("AggregateDayPoisoned", "queueTrigger kpi-days-poison")]
    [InlineData("FinalizePeriodPoisoned", "queueTrigger kpi-periods-poison")]
    [InlineData("CompletePeriodPoisoned", "queueTrigger kpi-done-poison")]
    [InlineData("KpiSchedule", "timerTrigger %KpiSchedule%")]
    [InlineData("AlertDigest", "timerTrigger %AlertDigestSchedule%")]
    [InlineData("IngestEvents", "httpTrigger api/events")]
    [InlineData("PoisonedEvents", "httpTrigger api/events/poisoned")]
    [InlineData("ReplayPoisonedEvents", "httpTrigger api/events/poisoned/replay")]
    [InlineData("Snapshots", "httpTrigger api/snapshots")]
    [InlineData("OData", "httpTrigger odata/{*path}")]
    [InlineData("Dashboard", "httpTrigger {page:regex(^dashboard$)?}")]
    [InlineData("DashboardAsset", "httpTrigger dashboard/assets/{*path}")]
    [InlineData("ReportingContext", "httpTrigger api/reporting-context")]
    public void Every_function_keeps_its_name_and_trigger(string function, string trigger) => Assert.Equal(trigger, Trigger(function));

    [Fact]
    public void The_build_is_a_standard_isolated_app_with_thirty_eight_functions_and_no_function_json()
    {
        Assert.Equal(38, Metadata().GetArrayLength());
        Assert.True(File.Exists(Path.Combine(FunctionApp.Folder, "worker.config.json")));
        Assert.True(File.Exists(Path.Combine(FunctionApp.Folder, "extensions.json")));
        Assert.Empty(Directory.GetFiles(FunctionApp.Folder, "function.json", SearchOption.AllDirectories));
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(FunctionApp.Folder, "host.json")));
        Assert.False(host.RootElement.TryGetProperty("customHandler", out _));
        Assert.Equal("", host.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.Equal(5, host.RootElement.GetProperty("extensions").GetProperty("queues").GetProperty("maxDequeueCount").GetInt32());
    }

    [Fact]
    public void Every_http_method_of_every_http_function_declares_its_operation_and_nothing_else_is_declared()
    {
        var declared = ApiOperations.All().ToList();
        Assert.Equal(FunctionApp.HttpFunctions().Select(f => f.Name).Order(), declared.Select(f => f.Name).Order());
        foreach (var function in declared)
        {
            // HEAD is answered as the GET it stands beside (the dashboard's page and files), not an operation of its own.
            Assert.Equal(function.Methods.Where(m => m != "HEAD" || !function.Methods.Contains("GET")).Order(), function.Operations.Select(o => o.Method).Order());
        }
        // Only health, the OpenAPI document and the dashboard's page and files are open without a key (the page holds
        // no figures: it asks the reader API for them with the reader's key).
        Assert.Equal(["GetDashboard", "GetDashboardAsset", "Health", "OpenApiDocument"], declared.SelectMany(f => f.Operations).Where(o => o.Access == Access.Anonymous).Select(o => o.OperationId).Order());
    }
}
