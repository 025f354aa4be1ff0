using CrmMetrics.Dashboard.Tests.Support;
using CrmMetrics.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CrmMetrics.Dashboard.Tests;

/// <summary>Where things land on screen: a panel brought into view, and the tables at a phone's width.</summary>
[Collection(DashboardCollection.Name)]
public class LayoutTests(DashboardApp app)
{
    private async Task<PageSession> OpenSettledAsync(int width, int height)
    {
        var session = await app.OpenAsync(width, height);
        await session.Page.GotoAsync($"/dashboard?code={TestKeys.Reader}&grain=month&period={DashboardApp.Month}");
        await session.WaitForPanelsAsync();
        return session;
    }

    /// <summary>Waits until <paramref name="condition"/> (a function of the page returning true or a reason it is not met) holds, failing with its last reason.</summary>
    private static async Task WaitForAsync(IPage page, string condition)
    {
        try
        {
            await page.WaitForFunctionAsync($"() => ({condition})() === true", null, new PageWaitForFunctionOptions { Timeout = 15_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail(await page.EvaluateAsync<string>($"() => String(({condition})())"));
        }
    }

    [Fact]
    public async Task A_tiles_trend_comes_into_view_below_the_sticky_view_controls_not_under_them()
    {
        // Found by probing: the trend was scrolled to the very top of the window, under the sticky controls bar.
        await using var session = await OpenSettledAsync(1280, 900);
        var page = session.Page;
        await page.Locator("#tiles .tile").Nth(1).ClickAsync();
        await Expect(page.Locator("#trend")).ToBeFocusedAsync();
        await WaitForAsync(page, """
            () => {
              const trend = document.getElementById('trend').getBoundingClientRect(), controls = document.getElementById('view').getBoundingClientRect();
              if (scrollY === 0) return 'the page did not scroll to the trend';
              return trend.top >= controls.bottom - 0.5 || `the trend's top (${trend.top} px) is under the controls, which end at ${controls.bottom} px`;
            }
            """);
        session.AssertNoErrors();
    }

    [Fact]
    public async Task At_phone_width_each_goals_status_and_each_statement_button_is_in_view_without_scrolling_sideways()
    {
        // Found by probing: at 390 px the goals table was 816 px wide in a 336 px panel, its Status off-screen,
        // and the staff table's Statement buttons were cut off.
        await using var session = await OpenSettledAsync(390, 844);
        var page = session.Page;
        Assert.True(await page.Locator("#goals tbody tr").CountAsync() > 0);
        await WaitForAsync(page, """
            () => {
              const inside = (selector, items) => {
                const wrap = document.querySelector(selector + ' .table-wrap');
                if (wrap.scrollWidth > wrap.clientWidth + 1) return `${selector}'s table is ${wrap.scrollWidth} px wide in ${wrap.clientWidth} px`;
                const box = wrap.getBoundingClientRect();
                for (const item of wrap.querySelectorAll(items)) {
                  const r = item.getBoundingClientRect();
                  if (r.width === 0 || r.left < box.left - 0.5 || r.right > box.right + 0.5) return `${selector}: '${item.textContent}' spans ${r.left}–${r.right} px, outside ${box.left}–${box.right} px`;
                }
                return wrap.querySelectorAll(items).length > 0 || `${selector} shows no ${items}`;
              };
              const goals = inside('#goals', 'tbody tr .chip');
              return goals === true ? inside('#staff', 'button[data-statement]') : goals;
            }
            """);
        session.AssertNoErrors();
    }
}
