using CrmMetrics.Dashboard.Tests.Support;
using CrmMetrics.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CrmMetrics.Dashboard.Tests;

/// <summary>Where things land on screen: a panel brought into view, and the tables at a phone's width.</summary>
[Collection(DashboardCollection.Name)]
public class LayoutTests(DashboardApp app)
{
    private async Task<PageSession> OpenSettledAsync(int width, int height, string lang = "en")
    {
        var session = await app.OpenAsync(width, height);
        await session.Page.GotoAsync($"/dashboard?code={TestKeys.Reader}&lang={lang}&grain=month&period={DashboardApp.Month}");
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

    [Fact]
    public async Task At_phone_width_the_trends_period_names_stand_apart_whole_and_name_the_period_on_view_in_both_languages()
    {
        // Found by probing: at phone width the Persian trend's period names crowded, and the latest, at the chart's
        // left edge (time runs right to left), was cut off: "اکتبر ۶".
        await using var session = await OpenSettledAsync(375, 812, "fa");
        var page = session.Page;
        await Expect(page.Locator("#trend canvas")).ToBeVisibleAsync();
        await WaitForAsync(page, TrendLabelsReadable);
        await page.ClickAsync("#language");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "en");
        await WaitForAsync(page, TrendLabelsReadable);
        session.AssertNoErrors();
    }

    [Theory]
    [InlineData(320, "en")]
    [InlineData(360, "en")]
    [InlineData(390, "en")]
    [InlineData(414, "en")]
    [InlineData(430, "en")]
    [InlineData(540, "en")]
    [InlineData(320, "fa")]
    [InlineData(414, "fa")]
    public async Task At_every_phone_width_the_trends_period_names_stand_apart(int width, string lang)
    {
        // Review: Chart.js thins the names evenly from the first and keeps the major one (the period on view) besides,
        // so left to right the last name kept before it may stand closer to it than the others do.
        await using var session = await OpenSettledAsync(width, 812, lang);
        await Expect(session.Page.Locator("#trend canvas")).ToBeVisibleAsync();
        await WaitForAsync(session.Page, TrendLabelsReadable);
        session.AssertNoErrors();
    }

    [Theory]
    [InlineData("fa")]
    [InlineData("en")]
    public async Task The_trends_points_tooltips_and_names_run_the_way_the_page_reads(string lang)
    {
        // Review: the Persian trend gives its points in reading order rather than on a reversed axis; the period on view
        // stands at the reading end (left in Persian), and each point's tooltip names its own period and value.
        await using var session = await OpenSettledAsync(800, 900, lang);
        await Expect(session.Page.Locator("#trend canvas")).ToBeVisibleAsync();
        await WaitForAsync(session.Page, $$"""
            () => {
              const canvas = document.querySelector('#trend canvas');
              const chart = canvas && globalThis.Chart?.getChart(canvas);
              if (!chart) return 'the trend has no chart';
              const rows = [...document.querySelectorAll('#trend tbody tr')].map(r => [...r.querySelectorAll('td, th')].map(c => c.textContent));
              const x = chart.scales.x;
              const n = rows.length;
              if (n < 2 || chart.data.labels.length !== n) return `${n} rows in the table, ${chart.data.labels.length} points on the chart`;
              const byPixel = [...Array(n).keys()].sort((a, b) => x.getPixelForValue(a) - x.getPixelForValue(b));
              const rtl = {{(lang == "fa" ? "true" : "false")}};
              for (let k = 0; k < n; k++) {
                // Left to right on screen: oldest to latest in English, latest to oldest in Persian.
                const row = rows[rtl ? n - 1 - k : k];
                const i = byPixel[k];
                chart.tooltip.setActiveElements([{ datasetIndex: 0, index: i }], { x: x.getPixelForValue(i), y: 10 });
                chart.update();
                const title = chart.tooltip.title.join(' ');
                const body = chart.tooltip.body.flatMap(b => b.lines).join(' ');
                if (title !== row[0]) return `point ${k} from the left is titled '${title}', expected '${row[0]}'`;
                if (!body.includes(row[1])) return `point ${k} from the left ('${title}') says '${body}', expected the value '${row[1]}'`;
              }
              return true;
            }
            """);
        session.AssertNoErrors();
    }

    /// <summary>
    /// The trend's time axis as drawn: the names shown (one line or more each) are in type of at least 11 px, each
    /// inside the canvas, at least 8 px clear of the next, and the period on view (the last row of the trend's
    /// table of numbers) is among them.
    /// </summary>
    private const string TrendLabelsReadable = """
        () => {
          const canvas = document.querySelector('#trend canvas');
          const chart = canvas && globalThis.Chart?.getChart(canvas);
          if (!chart) return 'the trend has no chart';
          const x = chart.scales.x;
          if (x.labelRotation !== 0) return `the names are drawn at ${x.labelRotation}°`;
          const font = globalThis.Chart.helpers.toFont(x.options.ticks.font);
          if (font.size < 11) return `the names are drawn in ${font.size} px type`;
          const context = canvas.getContext('2d');
          context.font = font.string;
          const names = x.getLabels();
          const shown = x.ticks.map((tick, i) => {
            const lines = [tick.label].flat();
            return { text: lines.join(' '), name: names[tick.value], at: x.getPixelForTick(i), width: Math.max(...lines.map(l => context.measureText(l).width)) };
          }).sort((a, b) => a.at - b.at);
          const latest = document.querySelector('#trend tbody tr:last-child td')?.textContent;
          if (!shown.some(s => s.name === latest)) return `the period on view, '${latest}', is not named on the axis: ${shown.map(s => s.text).join(' | ')}`;
          for (const label of shown) {
            if (label.at - label.width / 2 < -0.5 || label.at + label.width / 2 > canvas.clientWidth + 0.5)
              return `'${label.text}' spans ${(label.at - label.width / 2).toFixed(1)}–${(label.at + label.width / 2).toFixed(1)} px, outside the ${canvas.clientWidth} px canvas`;
          }
          for (let i = 1; i < shown.length; i++) {
            const [a, b] = [shown[i - 1], shown[i]];
            const clear = b.at - b.width / 2 - (a.at + a.width / 2);
            if (clear < 8) return `'${a.text}' and '${b.text}' are ${clear.toFixed(1)} px apart`;
          }
          return true;
        }
        """;
}
