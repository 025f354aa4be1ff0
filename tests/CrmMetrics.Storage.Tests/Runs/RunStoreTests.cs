using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Runs;

/// <summary>A run's record of its days, against a real Azurite.</summary>
public class RunStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly DateOnly Planned = new(2026, 8, 3);
    private static readonly DateOnly NotPlanned = new(2026, 8, 4);

    [Fact]
    public async Task A_planned_day_is_recorded_done_or_failed()
    {
        var runs = new RunStore(await azurite.AccountAsync());
        Assert.True(await runs.CreateAsync("run-days", "api", null, null, default));
        await runs.PlanAsync("run-days", [Planned, NotPlanned], [], default);

        Assert.True(await runs.CompleteDayAsync("run-days", Planned, 42, default));
        Assert.True(await runs.FailDayAsync("run-days", NotPlanned, "IOException: gone", default));

        var run = await runs.GetAsync("run-days", default);
        Assert.Equal([(Planned, StepState.Done, 42L), (NotPlanned, StepState.Failed, 0L)], run!.Days.OrderBy(d => d.Day).Select(d => (d.Day, d.State, d.Facts)));
        Assert.Equal("IOException: gone", run.Days.Single(d => d.Day == NotPlanned).Error);
    }

    [Fact]
    public async Task A_day_of_no_run_or_outside_the_plan_is_not_recorded_and_writes_nothing()
    {
        // A job message that names no planned day must not leave a stray day row on a run.
        var runs = new RunStore(await azurite.AccountAsync());
        Assert.True(await runs.CreateAsync("run-plan", "api", null, null, default));
        await runs.PlanAsync("run-plan", [Planned], [], default);

        Assert.False(await runs.CompleteDayAsync("run-plan", NotPlanned, 7, default));
        Assert.False(await runs.FailDayAsync("run-plan", NotPlanned, "boom", default));
        Assert.False(await runs.CompleteDayAsync("run-nobody-created", Planned, 7, default));

        Assert.Equal([Planned], (await runs.GetAsync("run-plan", default))!.Days.Select(d => d.Day));
        Assert.Null(await runs.GetAsync("run-nobody-created", default));
        Assert.False(await runs.ExistsAsync("run-nobody-created", default));
    }
}
