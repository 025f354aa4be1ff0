using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Snapshots;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>
/// A run planned before <c>CrmMetrics:Calendar</c> changed: its period keys were made in the other calendar, and under
/// fiscal:4 the year 2026 runs from April 2026 to March 2027. Finalised under gregorian, its job computed the calendar
/// year 2026 without a word (found in review). Now its periods fail, naming the setting, as a changed zone's do. The
/// steps are called as the host calls them, over a real Azurite, with the app's services (gregorian) in this process.
/// </summary>
public class ChangedCalendarTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_run_planned_under_another_calendar_fails_its_periods_naming_the_setting_and_takes_no_stale_period()
    {
        await using var services = await InProcessApp.StartAsync(azurite);
        var runs = services.GetRequiredService<RunStore>();
        // "Compute now" for years, planned under fiscal:4.
        var runId = await PlannedUnderFiscalAsync(runs, Grain.Year, "2026", requested: null);

        // A year stale under the calendar now is not added to it: its steps would refuse it, and it stays marked for the next run.
        await services.GetRequiredService<StalePeriodStore>().MarkAsync(["2025"], default);
        var toFinalise = await services.GetRequiredService<RunPlanner>().PeriodsToFinaliseAsync((await runs.GetAsync(runId, default))!, default);
        Assert.Equal(["2026"], toFinalise.Select(p => p.Period));

        var finalize = ActivatorUtilities.CreateInstance<FinalizePeriodFunction>(services);
        Assert.Null(await finalize.RunAsync(JobMessages.Write(new PeriodJob(runId, Grain.Year, "2026")), 1, $"finalise-{runId}", default));
        var run = (await runs.GetAsync(runId, default))!;
        Assert.Equal("failed", run.State);
        var period = Assert.Single(run.Periods);
        Assert.Equal(StepState.Failed, period.State);
        Assert.Equal("CrmMetrics:Calendar is gregorian, but the run was planned under fiscal:4: 2026 is a period of fiscal:4. " +
            "Not finalised; a run started now plans its periods under gregorian.", period.Error);
        var calendarYear = new PeriodCalendar(ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse("2026", Grain.Year);
        Assert.Empty(await services.GetRequiredService<SnapshotReader>().ReadAllAsync(calendarYear, new SnapshotFilter(), default));
    }

    [Fact]
    public async Task A_period_whose_key_names_the_same_days_under_both_calendars_is_finalised()
    {
        // Months are cut alike under gregorian and fiscal calendars: a request for March in flight when the setting changed goes on.
        await using var services = await InProcessApp.StartAsync(azurite);
        var runs = services.GetRequiredService<RunStore>();
        var runId = await PlannedUnderFiscalAsync(runs, Grain.Month, "2026-03", requested: "2026-03");

        var finalize = ActivatorUtilities.CreateInstance<FinalizePeriodFunction>(services);
        await finalize.RunAsync(JobMessages.Write(new PeriodJob(runId, Grain.Month, "2026-03")), 1, $"finalise-{runId}", default);

        var period = Assert.Single((await runs.GetAsync(runId, default))!.Periods);
        Assert.Null(period.Error);
        Assert.NotEqual(StepState.Failed, period.State);
        var gregorianMarch = new PeriodCalendar(ReportingCalendar.Gregorian, TimeZoneInfo.Utc).Parse("2026-03", Grain.Month);
        Assert.NotEmpty(await services.GetRequiredService<SnapshotReader>().ReadAllAsync(gregorianMarch, new SnapshotFilter(), default));
    }

    [Fact]
    public async Task A_stale_mark_of_another_calendar_that_no_fact_can_fall_in_is_left_out_of_a_run()
    {
        // Marked under persian, 1405-08 is a month of 2026; under gregorian it reads as a month of 1405 AD, which the period's
        // step refuses (it ends before 1900). Taken, it failed every run that took stale periods, for good: the mark stays.
        await using var services = await InProcessApp.StartAsync(azurite);
        var runs = services.GetRequiredService<RunStore>();
        var gregorian = new PeriodCalendar(ReportingCalendar.Gregorian, TimeZoneInfo.Utc);
        var runId = await runs.PlannedAsync("after-persian", [], [gregorian.Parse("2026-11", Grain.Month)], requested: null);
        await services.GetRequiredService<StalePeriodStore>().MarkAsync(["1405-08", "2026-10"], default);

        var toFinalise = await services.GetRequiredService<RunPlanner>().PeriodsToFinaliseAsync((await runs.GetAsync(runId, default))!, default);
        Assert.Contains("2026-10", toFinalise.Select(p => p.Period));
        Assert.DoesNotContain("1405-08", toFinalise.Select(p => p.Period));
    }

    [Fact]
    public void A_latest_version_of_no_recorded_calendar_is_served_as_before()
    {
        // Versions promoted before the pointer recorded its calendar: which calendar made their keys is unknown.
        var fiscal = new PeriodCalendar(ReportingCalendar.Fiscal(4), TimeZoneInfo.Utc);
        LatestSnapshot Quarter(string? calendar) => new(Grain.Quarter, "2026-Q1", 1, "run", default, 0, default, Calendar: calendar);
        Assert.Null(SnapshotReader.CalendarChange(Quarter(null), fiscal));
        Assert.Null(SnapshotReader.CalendarChange(Quarter("fiscal:4"), fiscal));
        Assert.NotNull(SnapshotReader.CalendarChange(Quarter("gregorian"), fiscal));
        Assert.Null(SnapshotReader.CalendarChange(new LatestSnapshot(Grain.Month, "2026-03", 1, "run", default, 0, default, Calendar: "gregorian"), fiscal));
    }

    /// <summary>An API run of <paramref name="grain"/> (for <paramref name="requested"/>, or its current periods) planned under fiscal:4 with one period, <paramref name="key"/>.</summary>
    private static Task<string> PlannedUnderFiscalAsync(RunStore runs, Grain grain, string key, string? requested) =>
        runs.PlannedAsync("fiscal", [], [new PeriodCalendar(ReportingCalendar.Fiscal(4), TimeZoneInfo.Utc).Parse(key, grain)], requested);


}
