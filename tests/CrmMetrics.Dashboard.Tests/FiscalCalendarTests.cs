using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Dashboard.Tests.Support;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CrmMetrics.Dashboard.Tests;

[CollectionDefinition(Name)]
public sealed class FiscalCollection : ICollectionFixture<FiscalApp>
{
    public const string Name = "fiscal";
}

/// <summary>
/// An app whose reporting year starts in April (<c>fiscal:4</c>), with orders in the first two quarters of FY2026
/// (April to June and July to September 2026), both computed, and a rule that raises an alert on the second's revenue.
/// </summary>
public sealed class FiscalApp : AppFixture, IAsyncLifetime
{
    public const string FirstQuarter = "2026-Q1";
    public const string SecondQuarter = "2026-Q2";

    public Chromium Chromium { get; private set; } = null!;

    protected override IEnumerable<KeyValuePair<string, string?>> Settings() => [new("CrmMetrics:Calendar", "fiscal:4")];

    protected override async Task AfterStartAsync()
    {
        var launch = Chromium.LaunchAsync();
        JsonObject Order(string id, string time, double amount) => new()
        {
            ["id"] = id, ["type"] = "order", ["time"] = time, ["customerId"] = "F-1", ["channel"] = "web",
            ["data"] = new JsonObject { ["amount"] = amount, ["currency"] = "EUR" },
        };
        await ApiDriver.IngestAsync(this, [Order("f-o1", "2026-05-12T09:00:00Z", 1000), Order("f-o2", "2026-08-12T09:00:00Z", 1500)]);
        var rule = await SendAsync(HttpMethod.Put, "/api/alert-rules/fiscal-revenue", TestKeys.Admin,
            JsonContent.Create(new { kind = "threshold", indicator = "com.revenue", grain = "quarter", below = 2000 }));
        if (!rule.IsSuccessStatusCode) throw new InvalidOperationException(await rule.Content.ReadAsStringAsync());
        await ApiDriver.RunAsync(this, new { grain = "quarter", period = FirstQuarter });
        await ApiDriver.RunAsync(this, new { grain = "quarter", period = SecondQuarter });
        Chromium = await launch;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (Chromium is not null) await Chromium.DisposeAsync();
        await DisposeAsync();
    }
}

/// <summary>Under a fiscal calendar the scorecard marks fiscal years and quarters as fiscal wherever it names them, in both languages.</summary>
[Collection(FiscalCollection.Name)]
public class FiscalCalendarTests(FiscalApp app)
{
    [Fact]
    public async Task Fiscal_quarters_are_named_as_fiscal_in_the_period_list_tiles_trend_and_alerts_in_both_languages()
    {
        // Found by probing: the period list named April to June 2026 "Q1 2026", as though it were January to March;
        // only the subtitle said "fiscal calendar".
        await using var session = await PageSession.OpenAsync(app.Chromium.Browser, app.BaseAddress);
        var page = session.Page;
        await page.GotoAsync($"/dashboard?lang=en&grain=quarter&period={FiscalApp.SecondQuarter}&indicator=com.revenue&code={TestKeys.Reader}");
        await session.WaitForPanelsAsync();
        await Expect(page.Locator("#period option:checked")).ToHaveTextAsync("FY2026 Q2");
        await Expect(page.Locator("#tiles .tile[data-indicator='com.revenue'] .tile-change")).ToContainTextAsync("vs FY2026 Q1");
        await Expect(page.Locator("#trend tbody tr:last-child td").First).ToHaveTextAsync("FY2026 Q2");
        // The rule's alert about the quarter: its message (written by the app) and the line under it.
        var alert = page.Locator("#alerts li.alert", new() { Has = page.Locator($"a.alert-link[data-period='{FiscalApp.SecondQuarter}']") }).First;
        await Expect(alert.Locator(".alert-message")).ToContainTextAsync("in FY2026 Q2");
        await Expect(alert.Locator(".alert-text .muted")).ToContainTextAsync(" · FY2026 Q2 · ");
        // Years are fiscal too.
        await page.SelectOptionAsync("#grain", "year");
        await Expect(page.Locator("#period option")).ToContainTextAsync(["FY2026"]);

        await page.GotoAsync($"/dashboard?lang=fa&grain=quarter&period={FiscalApp.SecondQuarter}&indicator=com.revenue");
        await session.WaitForPanelsAsync();
        await Expect(page.Locator("#period option:checked")).ToHaveTextAsync("فصل دوم سال مالی ۲۰۲۶");
        await Expect(page.Locator("#tiles .tile[data-indicator='com.revenue'] .tile-change")).ToContainTextAsync("نسبت به فصل اول سال مالی ۲۰۲۶");
        await Expect(page.Locator("#trend tbody tr:last-child td").First).ToHaveTextAsync("فصل دوم سال مالی ۲۰۲۶");
        await Expect(alert.Locator(".alert-message")).ToContainTextAsync("فصل دوم سال مالی ۲۰۲۶");
        session.AssertNoErrors();
    }

    [Fact]
    public async Task Months_keep_their_calendar_names_under_a_fiscal_calendar()
    {
        var context = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/reporting-context", TestKeys.Reader));
        var month = context.GetProperty("grains").EnumerateArray().Single(g => g.GetProperty("grain").GetString() == "month")
            .GetProperty("periods").EnumerateArray().Single(p => p.GetProperty("key").GetString() == "2026-08").GetProperty("label");
        Assert.Equal(("August 2026", "اوت ۲۰۲۶"), (month.GetProperty("en").GetString(), month.GetProperty("fa").GetString()));
    }
}
