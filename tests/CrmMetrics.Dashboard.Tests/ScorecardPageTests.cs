using System.Text.Json;
using System.Text.RegularExpressions;
using CrmMetrics.Dashboard.Tests.Support;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CrmMetrics.Dashboard.Tests;

/// <summary>The scorecard in Chromium against the app with the demo's seeds: what an executive sees and does.</summary>
[Collection(DashboardCollection.Name)]
public class ScorecardPageTests(DashboardApp app)
{
    private async Task<PageSession> OpenScorecardAsync(string query = "", int width = 1280, int height = 900)
    {
        var session = await app.OpenAsync(width, height);
        await session.Page.GotoAsync($"/dashboard?code={TestKeys.Reader}{query}");
        await Expect(session.Page.Locator("#tiles .tile").First).ToBeVisibleAsync();
        return session;
    }

    private async Task<JsonElement> GetAsync(string path) => await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, path, TestKeys.Reader));

    [Fact]
    public async Task Tiles_show_the_figures_the_api_serves_with_the_change_judged_by_direction_and_the_goal_status()
    {
        await using var session = await OpenScorecardAsync();
        var page = session.Page;
        var current = (await ApiDriver.SnapshotsAsync(app, $"grain=month&period={DashboardApp.Month}&scope=org")).ToDictionary(r => r.GetProperty("indicator").GetString()!);
        var previous = (await ApiDriver.SnapshotsAsync(app, "grain=month&period=2026-09&scope=org")).ToDictionary(r => r.GetProperty("indicator").GetString()!);
        var goals = (await GetAsync($"/api/goals/attainment?grain=month&period={DashboardApp.Month}")).GetProperty("items").EnumerateArray().ToList();

        var tiles = page.Locator("#tiles .tile");
        Assert.Equal(12, await tiles.CountAsync());
        for (var i = 0; i < 12; i++)
        {
            var tile = tiles.Nth(i);
            var indicator = (await tile.GetAttributeAsync("data-indicator"))!;
            var row = current[indicator];
            var value = row.GetProperty("value").GetDouble();
            var unit = row.GetProperty("unit").GetString()!;
            Assert.Equal(value, double.Parse((await tile.GetAttributeAsync("data-value"))!, System.Globalization.CultureInfo.InvariantCulture));
            var shown = await tile.Locator(".tile-value").InnerTextAsync();
            Assert.True(Figures.ExpectedDigits(value, unit) == Figures.DigitsOf(shown), $"{indicator}: {value} {unit} shown as '{shown}'");

            var before = previous[indicator].GetProperty("value").GetDouble();
            var higherIsBetter = row.GetProperty("direction").GetString() == "higher";
            var verdict = value == before ? "same" : (value > before) == higherIsBetter ? "better" : "worse";
            Assert.Contains(verdict, await tile.Locator(".tile-change").GetAttributeAsync("class"), StringComparison.Ordinal);

            var goal = goals.FirstOrDefault(g => g.GetProperty("indicator").GetString() == indicator && g.GetProperty("scope").GetString() == "org");
            var chip = tile.Locator(".chip");
            if (goal.ValueKind == JsonValueKind.Undefined) Assert.Equal(0, await chip.CountAsync());
            else Assert.Contains($"status-{goal.GetProperty("status").GetString()}", await chip.GetAttributeAsync("class"), StringComparison.Ordinal);
        }
        await Expect(page.Locator("#tiles-note")).ToContainTextAsync("Computed");
        session.AssertNoErrors();
    }

    [Fact]
    public async Task Switching_to_persian_flips_the_layout_and_the_digits_without_asking_the_api_again()
    {
        await using var session = await OpenScorecardAsync();
        var page = session.Page;
        await session.WaitForPanelsAsync();
        var requests = session.ApiRequests.Count;

        await page.ClickAsync("#language");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("dir", "rtl");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "fa");
        await Expect(page.Locator("h1")).ToHaveTextAsync("داشبورد مدیریتی");
        Assert.Contains("lang=fa", page.Url, StringComparison.Ordinal);
        Assert.Equal("اکتبر ۲۰۲۶", await page.Locator("#period option:checked").InnerTextAsync());

        foreach (var shown in await page.Locator("#tiles .tile-value").AllInnerTextsAsync())
        {
            Assert.True(Figures.HasPersianDigits(shown) && !Figures.HasAsciiDigits(shown), $"'{shown}' is not written in Persian digits");
        }
        // Right to left: the title stands at the right, the tools at the left.
        var brand = (await page.Locator(".brand").BoundingBoxAsync())!;
        var tools = (await page.Locator(".tools").BoundingBoxAsync())!;
        Assert.True(brand.X > tools.X, $"brand at {brand.X}, tools at {tools.X}");
        Assert.Equal(requests, session.ApiRequests.Count);

        await page.ClickAsync("#language");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("dir", "ltr");
        await Expect(page.Locator("#period option:checked")).ToHaveTextAsync("October 2026");
        session.AssertNoErrors();
    }

    [Fact]
    public async Task In_persian_the_goals_panel_names_each_goal_by_its_persian_name_in_persian_order()
    {
        await using var session = await OpenScorecardAsync("&lang=fa");
        var page = session.Page;
        await session.WaitForPanelsAsync();
        var goals = (await GetAsync($"/api/goals/attainment?grain=month&period={DashboardApp.Month}")).GetProperty("items").EnumerateArray()
            .ToDictionary(g => g.GetProperty("goalId").GetString()!, g => g.GetProperty("nameFa").GetString()!);
        var rows = page.Locator("#goals tbody tr");
        var (roots, shown) = (new List<string>(), new List<string>());
        for (var i = 0; i < await rows.CountAsync(); i++)
        {
            var row = rows.Nth(i);
            var id = (await row.GetAttributeAsync("data-goal"))!;
            Assert.Equal(goals[id], await row.Locator("th > :first-child").InnerTextAsync());
            shown.Add(goals[id]);
            if (await row.GetAttributeAsync("data-depth") == "0") roots.Add(goals[id]);
        }
        // The demo's two top-level goals come in another order in Persian than in English ("Customer-centric score", "Monthly revenue").
        Assert.Equal(["درآمد ماهانه", "شاخص مشتری‌مداری"], roots);
        Assert.Equal(roots.Order(StringComparer.Create(new System.Globalization.CultureInfo("fa-IR"), false)), roots);
        // The CSV of this view names and orders the goals as the panel does (found in review: English names in Persian order).
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-csv"));
        var csvNames = (await File.ReadAllTextAsync((await download.PathAsync())!)).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("goal,", StringComparison.Ordinal)).Select(l => l.Split(',')[2]).ToList();
        Assert.Equal(shown, csvNames);
        session.AssertNoErrors();
    }

    [Fact]
    public async Task A_staff_members_statement_opens_from_the_leaderboard_with_its_tiers_and_gates()
    {
        await using var session = await OpenScorecardAsync();
        var page = session.Page;
        var payouts = (await ApiDriver.SnapshotsAsync(app, $"grain=month&period={DashboardApp.Month}&indicator=staff.incentive-payout")).ToList();
        var leader = payouts.Single(r => r.GetProperty("details").GetProperty("rankByPayout").GetInt32() == 1).GetProperty("scope").GetString()!["staff:".Length..];
        await Expect(page.Locator("#staff tbody tr").First).ToHaveAttributeAsync("data-staff", leader);
        Assert.Equal(payouts.Count, await page.Locator("#staff tbody tr").CountAsync());

        var card = await GetAsync($"/api/staff/S-01/scorecard?grain=month&period={DashboardApp.Month}");
        var statement = card.GetProperty("statement").GetProperty("statement");
        var button = page.Locator("#staff button[data-statement='S-01']");
        await button.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        var dialog = page.Locator("#statement");
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog.Locator(".tiers-table tbody tr")).ToHaveCountAsync(statement.GetProperty("tiers").GetArrayLength());
        await Expect(dialog.Locator(".gates-table tbody tr")).ToHaveCountAsync(statement.GetProperty("gates").GetArrayLength());
        Assert.Equal(card.GetProperty("payout").GetDouble(), double.Parse((await dialog.Locator("[data-payout]").GetAttributeAsync("data-payout"))!, System.Globalization.CultureInfo.InvariantCulture));
        await Expect(dialog).ToContainTextAsync("sales-2026");
        // S-01's CSAT gate failed in October: the statement says so.
        await Expect(dialog.Locator(".gate-failed")).ToHaveCountAsync(statement.GetProperty("gates").EnumerateArray().Count(g => !g.GetProperty("passed").GetBoolean()));

        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();
        Assert.Equal("S-01", await page.EvaluateAsync<string>("document.activeElement?.dataset.statement"));
        session.AssertNoErrors();
    }

    [Fact]
    public async Task An_alerts_link_lands_on_its_figure_in_the_page_and_from_outside()
    {
        await using var session = await OpenScorecardAsync();
        var page = session.Page;
        await Expect(page.Locator("#alerts li").First).ToBeVisibleAsync();
        // An alert on screen about another month than the one the page opens, a segment's if there is one: its link must move period and scope.
        var shown = new List<(string Id, string Period, string Scope)>();
        foreach (var item in await page.Locator("#alerts li").AllAsync())
        {
            var link = item.Locator("a.alert-link");
            shown.Add(((await item.GetAttributeAsync("data-alert"))!, (await link.GetAttributeAsync("data-period"))!, (await link.GetAttributeAsync("data-scope"))!));
        }
        var alerts = (await GetAsync("/api/alerts?pageSize=100")).GetProperty("items").EnumerateArray().ToList();
        // (Alerts about a composite goal open at the organisation and have no trend of their own: not the subject here.)
        bool AboutGoal(string id) => alerts.Single(a => a.GetProperty("id").GetString() == id).GetProperty("data").GetProperty("scope").GetString()!.StartsWith("goal:", StringComparison.Ordinal);
        var chosen = shown.Where(a => a.Period != DashboardApp.Month && !AboutGoal(a.Id)).OrderBy(a => a.Scope == "org" ? 1 : 0).First();
        var alert = alerts.Single(a => a.GetProperty("id").GetString() == chosen.Id);
        var data = alert.GetProperty("data");
        var (period, scope, indicator) = (data.GetProperty("period").GetString()!, data.GetProperty("scope").GetString()!, data.GetProperty("indicator").GetString()!);

        async Task AssertOnFigure()
        {
            await Expect(page.Locator("#period")).ToHaveValueAsync(period);
            await Expect(page.Locator("#scope")).ToHaveValueAsync(scope);
            await Expect(page.Locator("#indicator")).ToHaveValueAsync(indicator);
            await Expect(page.Locator("#trend")).ToHaveAttributeAsync("data-indicator", indicator);
            await Expect(page.Locator("#trend")).ToBeFocusedAsync();
            await Expect(page.Locator($"#tiles .tile[data-indicator='{indicator}']")).ToHaveAttributeAsync("aria-pressed", "true");
            await Expect(page.Locator("#trend canvas")).ToBeVisibleAsync();
        }

        // In the page: the alert's own link.
        await page.Locator($"#alerts li[data-alert='{alert.GetProperty("id").GetString()}'] a.alert-link").ClickAsync();
        await AssertOnFigure();
        Assert.Contains($"period={period}", page.Url, StringComparison.Ordinal);

        // From outside: the CloudEvent's link, opened in a browser that holds the key for this session.
        await page.GotoAsync("/dashboard");
        await Expect(page.Locator("#period")).ToHaveValueAsync(DashboardApp.Month);
        await page.GotoAsync(data.GetProperty("links").GetProperty("dashboard").GetString()!);
        await AssertOnFigure();
        // Scrolled to it once the panels above it had their figures, not while the page was still too short to scroll.
        await session.WaitForPanelsAsync();
        await Expect(page.Locator("#trend")).ToBeInViewportAsync();
        session.AssertNoErrors();
    }

    [Fact]
    public async Task A_wrong_or_missing_key_shows_a_clear_message_and_the_right_key_opens_the_figures()
    {
        await using var session = await app.OpenAsync();
        var page = session.Page;
        await page.GotoAsync("/dashboard?code=not-a-key&period=2026-10");
        await Expect(page.Locator("#key-gate")).ToBeVisibleAsync();
        await Expect(page.Locator("#key-message")).ToHaveTextAsync("This key was not accepted. Check it and enter it again.");
        await Expect(page.Locator("#main")).ToBeHiddenAsync();
        // The key left the address, so it is neither bookmarked nor shared.
        Assert.DoesNotContain("code=", page.Url, StringComparison.Ordinal);

        await page.FillAsync("#key-input", TestKeys.Writer);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#key-message")).ToHaveTextAsync("This key may not read figures: a reader (or admin) key is needed.");

        await page.FillAsync("#key-input", TestKeys.Reader);
        await page.ClickAsync("#key-form button[type=submit]");
        await Expect(page.Locator("#tiles .tile").First).ToBeVisibleAsync();
        await Expect(page.Locator("#key-gate")).ToBeHiddenAsync();
        // The browser itself logs each refused request; nothing else may be logged.
        session.AssertNoErrors("401", "403");

        await using var fresh = await app.OpenAsync();
        await fresh.Page.GotoAsync("/");
        await Expect(fresh.Page.Locator("#key-message")).ToHaveTextAsync("A reader key is needed to see the figures.");
        await Expect(fresh.Page.Locator("h1")).ToHaveTextAsync("Executive scorecard");
        fresh.AssertNoErrors();
    }

    [Fact]
    public async Task A_period_without_figures_is_an_empty_state_not_an_error()
    {
        await using var session = await app.OpenAsync();
        var page = session.Page;
        await page.GotoAsync($"/dashboard?code={TestKeys.Reader}&grain=month&period=2026-11");
        await Expect(page.Locator("#tiles .empty")).ToHaveTextAsync("No figures for November 2026 yet: no run has computed this period.");
        await Expect(page.Locator("#goals .empty")).ToBeVisibleAsync();
        await Expect(page.Locator("#alerts .alert").First).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator(".error").CountAsync());
        session.AssertNoErrors();
    }

    [Fact]
    public async Task At_phone_width_nothing_overflows_the_keyboard_reaches_the_figures_and_each_panel_asks_once()
    {
        await using var session = await OpenScorecardAsync(width: 390, height: 844);
        var page = session.Page;
        await session.WaitForPanelsAsync();
        var width = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(width <= 390, $"the page is {width} px wide at a phone's 390 px: it scrolls sideways");

        // One request per panel's figures (the tiles also ask for the previous period, the alerts for the latest and the
        // period's own), none twice.
        var requests = session.ApiRequests.Select(u => new Uri(u).PathAndQuery).ToList();
        Assert.Equal(requests.Distinct().Count(), requests.Count);
        Assert.True(requests.Count <= 10, "requests: " + string.Join(", ", requests));

        // Tab to the first tile and choose it with the keyboard: the trend follows.
        for (var i = 0; i < 30 && await page.EvaluateAsync<string?>("document.activeElement?.dataset?.indicator ?? null") is null; i++) await page.Keyboard.PressAsync("Tab");
        var chosen = await page.EvaluateAsync<string?>("document.activeElement?.dataset?.indicator ?? null");
        Assert.NotNull(chosen);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#trend")).ToHaveAttributeAsync("data-indicator", chosen!);
        Assert.Matches(new Regex($"indicator={Regex.Escape(chosen!)}"), page.Url);
        session.AssertNoErrors();
    }

    [Theory]
    [InlineData("en")]
    [InlineData("fa")]
    public async Task Axe_finds_no_serious_accessibility_problem_contrast_included(string lang)
    {
        await using var session = await OpenScorecardAsync($"&lang={lang}");
        var page = session.Page;
        await session.WaitForPanelsAsync();
        await Expect(page.Locator("#trend canvas")).ToBeVisibleAsync();
        var results = await page.RunAxe();
        Assert.Contains(results.Passes, rule => rule.Id == "color-contrast");
        // landmark-unique is only "moderate" to axe, but two landmarks of one name (a panel and its table) leave a screen reader's list ambiguous;
        // region ("moderate" too) is content outside every landmark, which a screen reader's list of landmarks skips (found by probing: the view controls).
        var serious = results.Violations.Where(v => v.Impact is "serious" or "critical" || v.Id is "landmark-unique" or "region")
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help} — {string.Join("; ", v.Nodes.Take(3).Select(n => string.Join(" ", n.Target)))}").ToList();
        Assert.True(serious.Count == 0, string.Join("\n", serious));
        session.AssertNoErrors();
    }

    [Fact]
    public async Task The_csv_download_holds_what_is_on_screen()
    {
        await using var session = await OpenScorecardAsync();
        var page = session.Page;
        await session.WaitForPanelsAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-csv"));
        Assert.Equal($"crm-metrics-month-{DashboardApp.Month}-org.csv", download.SuggestedFilename);
        var lines = (await File.ReadAllTextAsync((await download.PathAsync())!)).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("section,indicator,name,scope,grain,period,value,unit", lines[0], StringComparison.Ordinal);
        var revenue = (await ApiDriver.SnapshotsAsync(app, $"grain=month&period={DashboardApp.Month}&scope=org&indicator=com.revenue")).Single().GetProperty("value").GetRawText();
        Assert.Contains(lines, l => l.StartsWith($"headline,com.revenue,Revenue,org,month,{DashboardApp.Month},{revenue},currency", StringComparison.Ordinal));
        foreach (var section in new[] { "goal", "trend", "staff", "benchmark", "alert" }) Assert.Contains(lines, l => l.StartsWith(section + ",", StringComparison.Ordinal));
        // The benchmarks as the table shows them: each competitor's figure and the peer mean, beside the API's rows.
        Assert.Contains(lines, l => l.StartsWith("benchmark,", StringComparison.Ordinal) && l.Contains(",competitor:", StringComparison.Ordinal) && !l.Contains("bench.", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("benchmark,", StringComparison.Ordinal) && l.Contains(",competitors,", StringComparison.Ordinal));
        // An alert's severity in its own column, its state (open, resolved) under status.
        Assert.EndsWith(",stretch,severity", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("alert,", StringComparison.Ordinal) && (l.EndsWith(",warning", StringComparison.Ordinal) || l.EndsWith(",critical", StringComparison.Ordinal) || l.EndsWith(",info", StringComparison.Ordinal)));
        await Expect(page.Locator("#odata-url")).ToHaveTextAsync(new Regex(@"/odata/Snapshots\?\$filter=grain eq 'month' and period eq '2026-10'$"));
        session.AssertNoErrors();
    }

    [Fact]
    public async Task Screenshots_of_the_english_and_persian_views()
    {
        // The README's pictures: DASHBOARD_SCREENSHOTS=docs (an absolute folder) writes them there; otherwise beside the tests.
        var folder = Environment.GetEnvironmentVariable("DASHBOARD_SCREENSHOTS") is { Length: > 0 } chosen ? chosen : Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        foreach (var (lang, name, width) in new[] { ("en", "dashboard-en.png", 1280), ("fa", "dashboard-fa.png", 1280), ("en", "dashboard-phone.png", 390) })
        {
            await using var session = await OpenScorecardAsync($"&lang={lang}", width, width < 500 ? 844 : 900);
            await session.WaitForPanelsAsync();
            await Expect(session.Page.Locator("#trend canvas")).ToBeVisibleAsync();
            var path = Path.Combine(folder, name);
            await session.Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
            Assert.True(new FileInfo(path).Length > 10_000);
            session.AssertNoErrors();
        }
    }
}
