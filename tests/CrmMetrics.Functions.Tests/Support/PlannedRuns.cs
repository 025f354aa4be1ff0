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

    /// <summary>
    /// A scheduled run named <paramref name="runId"/>, as <c>StartRun</c> creates it; planned with no days and
    /// <paramref name="planned"/> periods when given (else left unplanned), and recorded as the latest scheduled
    /// run when <paramref name="record"/>.
    /// </summary>
    public static async Task ScheduledAsync(this RunStore runs, string runId, bool record, IReadOnlyList<Period>? planned = null)
    {
        Assert.True(await runs.CreateAsync(runId, RunPlanner.ScheduleTrigger, null, null, default));
        if (planned is not null) await runs.PlanAsync(runId, [], planned, default);
        if (record) await runs.RecordScheduledAsync(runId, default);
    }
}
