using CrmMetrics.Dashboard.Tests.Support;
using CrmMetrics.Testing;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CrmMetrics.Dashboard.Tests;

/// <summary>The page that asks for a reader key: its landmarks, what it takes for a key, and the way back without one.</summary>
[Collection(DashboardCollection.Name)]
public class KeyGateTests(DashboardApp app)
{
    [Fact]
    public async Task The_key_page_is_the_main_landmark_and_axe_finds_no_landmark_problem()
    {
        // Found by probing: axe's landmark-one-main, as <main> was hidden and the key form stood outside it.
        await using var session = await app.OpenAsync();
        var page = session.Page;
        await page.GotoAsync("/dashboard?lang=en");
        await Expect(page.Locator("#key-gate")).ToBeVisibleAsync();
        var main = page.GetByRole(AriaRole.Main);
        await Expect(main).ToHaveCountAsync(1);
        await Expect(main.Locator("#key-input")).ToBeVisibleAsync();
        var results = await page.RunAxe();
        var problems = results.Violations.Where(v => v.Impact is "serious" or "critical" || v.Id is "landmark-one-main" or "landmark-no-duplicate-main" or "region" or "landmark-unique")
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help} — {string.Join("; ", v.Nodes.Take(3).Select(n => string.Join(" ", n.Target)))}").ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));

        // Once the key is taken, the figures are the one main landmark.
        await page.FillAsync("#key-input", TestKeys.Reader);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#tiles .tile").First).ToBeVisibleAsync();
        await Expect(main).ToHaveCountAsync(1);
        await Expect(main).ToHaveAttributeAsync("id", "main");
        session.AssertNoErrors();
    }

    [Fact]
    public async Task A_key_of_spaces_is_a_missing_key_and_is_never_sent()
    {
        // Found by probing: spaces were sent as an empty key and answered "This key was not accepted".
        await using var session = await app.OpenAsync();
        var page = session.Page;
        await page.GotoAsync("/dashboard?lang=en");
        await page.FillAsync("#key-input", "   ");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#key-message")).ToHaveTextAsync("A reader key is needed to see the figures.");
        await Expect(page.Locator("#key-input")).ToBeFocusedAsync();
        Assert.Empty(session.ApiRequests);

        await page.FillAsync("#key-input", $"  {TestKeys.Reader}  ");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#tiles .tile").First).ToBeVisibleAsync();
        session.AssertNoErrors();
    }

    [Fact]
    public async Task Change_key_can_be_cancelled_back_to_the_scorecard_while_a_key_is_held()
    {
        // Found by probing: "Change key" left no way back to the figures but typing a key again.
        await using var session = await app.OpenAsync();
        var page = session.Page;
        await page.GotoAsync($"/dashboard?code={TestKeys.Reader}&grain=month&period={DashboardApp.Month}&lang=en");
        await session.WaitForPanelsAsync();
        var requests = session.ApiRequests.Count;

        await page.ClickAsync("#change-key");
        await Expect(page.Locator("#key-gate")).ToBeVisibleAsync();
        await Expect(page.Locator("#main")).ToBeHiddenAsync();
        var cancel = page.Locator("#key-cancel");
        await Expect(cancel).ToHaveTextAsync("Cancel");
        await page.FillAsync("#key-input", "half-typed");
        await cancel.ClickAsync();

        await Expect(page.Locator("#key-gate")).ToBeHiddenAsync();
        await Expect(page.Locator("#main")).ToBeVisibleAsync();
        await Expect(page.Locator("#view")).ToBeVisibleAsync();
        await Expect(page.Locator("#tiles .tile")).ToHaveCountAsync(12);
        await Expect(page.Locator("#change-key")).ToBeFocusedAsync();
        await Expect(page.Locator("#key-input")).ToHaveValueAsync("");
        // Nothing was asked again: the figures on screen are those it had, under the key it holds.
        Assert.Equal(requests, session.ApiRequests.Count);

        // In Persian too.
        await page.ClickAsync("#language");
        await page.ClickAsync("#change-key");
        await Expect(cancel).ToHaveTextAsync("انصراف");
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.Locator("#main")).ToBeVisibleAsync();
        session.AssertNoErrors();
    }

    [Fact]
    public async Task Without_a_key_held_the_key_page_offers_no_way_back()
    {
        await using var session = await app.OpenAsync();
        var page = session.Page;
        await page.GotoAsync("/dashboard?code=not-a-key&lang=en");
        await Expect(page.Locator("#key-message")).ToHaveTextAsync("This key was not accepted. Check it and enter it again.");
        await Expect(page.Locator("#key-cancel")).ToBeHiddenAsync();
        session.AssertNoErrors("401");
    }

    [Fact]
    public async Task The_skip_link_leads_to_the_key_form_on_the_key_page_and_to_the_figures_once_they_are_shown()
    {
        // Found by probing: on the key page "Skip to the figures" pointed at the figures, which were hidden there.
        await using var session = await app.OpenAsync();
        var page = session.Page;
        await page.GotoAsync("/dashboard?lang=en");
        await Expect(page.Locator("#key-gate")).ToBeVisibleAsync();
        var skip = page.Locator("a.skip");
        // The key field has the focus; the skip link is first on the page, and shows itself when it has it.
        await skip.FocusAsync();
        await Expect(skip).ToBeInViewportAsync();
        await Expect(skip).ToHaveTextAsync("Skip to the key form");
        await Expect(page.Locator(await skip.GetAttributeAsync("href") ?? "")).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#key-gate")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.Locator("#key-input")).ToBeFocusedAsync();
        await page.ClickAsync("#language");
        await Expect(skip).ToHaveTextAsync("رفتن به فرم کلید");
        await page.ClickAsync("#language");

        await page.FillAsync("#key-input", TestKeys.Reader);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#tiles .tile").First).ToBeVisibleAsync();
        await Expect(skip).ToHaveTextAsync("Skip to the figures");
        await Expect(skip).ToHaveAttributeAsync("href", "#main");
        await Expect(page.Locator("#main")).ToBeVisibleAsync();
        session.AssertNoErrors();
    }
}
