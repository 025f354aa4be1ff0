using CrmMetrics.Dashboard.Tests.Support;
using CrmMetrics.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CrmMetrics.Dashboard.Tests;

/// <summary>
/// The scorecard when the app does not answer: requests held back by the test (never answered until it lets
/// them go), with the page's request timeout shortened through <c>window.crmMetricsApiTimeoutMs</c>.
/// </summary>
[Collection(DashboardCollection.Name)]
public class SlowApiTests(DashboardApp app)
{
    private static readonly LocatorAssertionsToHaveTextOptions Patiently = new() { Timeout = 30_000 };

    /// <summary>Holds back every request that <paramref name="matches"/> until <paramref name="release"/> completes; then drops it.</summary>
    private static Task StallAsync(IPage page, Func<string, bool> matches, Task release) =>
        page.RouteAsync(matches, async route =>
        {
            await release;
            try { await route.AbortAsync(); } catch (PlaywrightException) { /* the page gave up on it long ago, or is gone */ }
        });

    private static Task SetTimeoutAsync(IPage page, int milliseconds) => page.EvaluateAsync($"() => {{ window.crmMetricsApiTimeoutMs = {milliseconds}; }}");

    [Fact]
    public async Task A_stalled_reporting_context_shows_loading_then_says_the_app_did_not_answer_and_trying_again_opens_it()
    {
        // Found by probing: with the context unanswered the page stayed blank for good.
        var release = new TaskCompletionSource();
        await using var session = await app.OpenAsync();
        var page = session.Page;
        try
        {
            await page.AddInitScriptAsync("window.crmMetricsApiTimeoutMs = 1500;");
            await StallAsync(page, url => url.Contains("/api/reporting-context", StringComparison.Ordinal), release.Task);
            await page.GotoAsync($"/dashboard?code={TestKeys.Reader}");
            await Expect(page.Locator("#notice")).ToHaveTextAsync("Loading the scorecard…");
            await Expect(page.Locator("#notice p")).ToHaveTextAsync("The app did not answer. Check the connection and try again.", Patiently);

            await page.UnrouteAllAsync(new PageUnrouteAllOptions { Behavior = UnrouteBehavior.IgnoreErrors });
            await SetTimeoutAsync(page, 120_000);
            await page.Locator("#notice button").ClickAsync();
            await Expect(page.Locator("#tiles .tile").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
            await Expect(page.Locator("#notice")).ToBeHiddenAsync();
        }
        finally
        {
            release.TrySetResult();
        }
        session.AssertNoErrors();
    }

    [Fact]
    public async Task A_panel_whose_figures_never_come_says_the_app_did_not_answer_and_offers_to_try_again()
    {
        // Found by probing: a panel's request had no timeout, so a stalled one left "Loading…" for good.
        var release = new TaskCompletionSource();
        await using var session = await app.OpenAsync();
        var page = session.Page;
        try
        {
            await page.GotoAsync($"/dashboard?code={TestKeys.Reader}&grain=month&period={DashboardApp.Month}");
            await session.WaitForPanelsAsync();
            // Another scope reloads only the tiles and the trend; their requests for it are held back (the goals the
            // tiles also ask for are remembered from the first load, so nothing is left to the real app's speed).
            var scope = await page.Locator("#scope option:not([value='org'])").First.GetAttributeAsync("value");
            var encoded = Uri.EscapeDataString(scope!);
            await StallAsync(page, url => url.Contains("/api/snapshots?", StringComparison.Ordinal) && url.Contains(encoded, StringComparison.Ordinal)
                || url.Contains("/api/indicators/", StringComparison.Ordinal), release.Task);
            await SetTimeoutAsync(page, 1500);
            await page.Locator("#scope").SelectOptionAsync(scope!);
            await Expect(page.Locator("#trend .error p")).ToHaveTextAsync("The app did not answer. Check the connection and try again.", Patiently);
            await Expect(page.Locator("#tiles .error p")).ToHaveTextAsync("The app did not answer. Check the connection and try again.", Patiently);

            await page.UnrouteAllAsync(new PageUnrouteAllOptions { Behavior = UnrouteBehavior.IgnoreErrors });
            await SetTimeoutAsync(page, 120_000);
            await page.Locator("#trend .error button").ClickAsync();
            await Expect(page.Locator("#trend .panel-body > :is(.panel-note, .empty)")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        }
        finally
        {
            release.TrySetResult();
        }
        session.AssertNoErrors();
    }
}
