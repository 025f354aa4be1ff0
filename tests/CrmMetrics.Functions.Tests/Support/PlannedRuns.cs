using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Storage.Runs;

namespace CrmMetrics.Functions.Tests.Support;

/// <summary>Runs recorded and planned as <c>StartRun</c> plans them, for tests that then call the steps as the host does.</summary>
public static class PlannedRuns
{
    /// <summary>
    /// An API run for the grain of <paramref name="periods"/> (requested for <paramref name="requested"/>, or for the
    /// grain's current periods when null), planned with these days and periods; its id starts with <paramref name="name"/>.
    /// </summary>
    public static async Task<string> PlannedAsync(this RunStore runs, string name, IReadOnlyCollection<DateOnly> days, IReadOnlyList<Period> periods, string? requested)
    {
        var runId = $"{name}-{Guid.NewGuid():N}";
        Assert.True(await runs.CreateAsync(runId, RunPlanner.ApiTrigger, [Grains.Key(periods[0].Grain)], requested, default));
        await runs.PlanAsync(runId, days, periods, default);
        return runId;
    }
}
