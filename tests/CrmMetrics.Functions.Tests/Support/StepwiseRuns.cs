using System.Text.Json.Nodes;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Alerts;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Storage.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Support;

/// <summary>An alert sender that keeps what each finalisation sends, for tests that call the steps themselves.</summary>
public sealed class KeptAlerts : IAlertSender
{
    public List<JsonObject> Sent { get; } = [];

    public Task SendAsync(IReadOnlyList<string> cloudEvents, string delivery, CancellationToken ct)
    {
        lock (Sent) Sent.AddRange(cloudEvents.Select(e => JsonNode.Parse(e)!.AsObject()));
        return Task.CompletedTask;
    }
}

/// <summary>Runs whose steps a test calls as the host does, one after the other, in an order it chooses.</summary>
public static class StepwiseRuns
{
    /// <summary>A run of these days and periods: the days aggregated, then the periods finalised one after the other in the order given.</summary>
    public static async Task RunAsync(IServiceProvider services, KeptAlerts kept, string name, IReadOnlyList<DateOnly> days, IReadOnlyList<Period> periods)
    {
        var runs = services.GetRequiredService<RunStore>();
        // Requested for one of them, so that no other period is added to it when its days are done (the acquisitions
        // mark every later month stale): the run finalises exactly these.
        var runId = await runs.PlannedAsync(name, days, periods, requested: periods[^1].Key);
        var aggregateDay = ActivatorUtilities.CreateInstance<AggregateDayFunction>(services);
        foreach (var day in days) await aggregateDay.RunAsync(JobMessages.Write(new DayJob(runId, day)), 1, default);
        var finalize = ActivatorUtilities.CreateInstance<FinalizePeriodFunction>(services, (IAlertSender)kept);
        var complete = ActivatorUtilities.CreateInstance<CompletePeriodFunction>(services);
        foreach (var period in periods)
        {
            var done = await finalize.RunAsync(JobMessages.Write(new PeriodJob(runId, period.Grain, period.Key)), 1, $"{runId}-{period.Key}", default);
            Assert.NotNull(done);
            await complete.RunAsync(done, default);
        }
        Assert.Equal("succeeded", (await runs.GetAsync(runId, default))!.State);
    }
}
