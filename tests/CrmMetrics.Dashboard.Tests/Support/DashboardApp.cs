using CrmMetrics.Demo;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;
using Microsoft.Playwright;

namespace CrmMetrics.Dashboard.Tests.Support;

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardApp>
{
    public const string Name = "dashboard";
}

/// <summary>
/// The app under the local host on its own Azurite, with the demo's seeds loaded and computed exactly as
/// the demo does it (<see cref="DemoJob.LoadAndComputeAsync"/>), and a Chromium to look at it with.
/// </summary>
public sealed class DashboardApp : AppFixture, IAsyncLifetime
{
    /// <summary>The latest closed month of the seeds: the period the dashboard opens first.</summary>
    public const string Month = "2026-10";

    public Chromium Chromium { get; private set; } = null!;

    /// <summary>What the demo computed, as the demo keeps it for the links it prints.</summary>
    public DemoComputation Computation { get; private set; } = null!;
    public IBrowser Browser => Chromium.Browser;

    protected override async Task AfterStartAsync()
    {
        var calendar = PeriodCalendar.TryCreate(null, null, out var gregorian, out _) ? gregorian : throw new InvalidOperationException();
        Computation = new DemoComputation(calendar, TimeProvider.System);
        var load = new DemoJob(BaseAddress.ToString().TrimEnd('/'), TestKeys.Admin, Computation).LoadAndComputeAsync(CancellationToken.None);
        var launch = Chromium.LaunchAsync();
        await Task.WhenAll(load, launch);
        Chromium = await launch;
    }

    public Task<PageSession> OpenAsync(int width = 1280, int height = 900) => PageSession.OpenAsync(Browser, BaseAddress, width, height);

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (Chromium is not null) await Chromium.DisposeAsync();
        await DisposeAsync();
    }
}
