using Microsoft.Extensions.DependencyInjection;
using System.Text.Json.Nodes;
using CrmMetrics.Dashboard.Tests.Support;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;
using static Microsoft.Playwright.Assertions;

namespace CrmMetrics.Dashboard.Tests;

[CollectionDefinition(Name)]
public sealed class PersianCollection : ICollectionFixture<PersianApp>
{
    public const string Name = "persian";
}

/// <summary>An app whose reporting calendar is the Solar Hijri one, with a few facts in Aban 1405 (23 October – 21 November 2026).</summary>
public sealed class PersianApp : AppFixture, IAsyncLifetime
{
    public const string Aban = "1405-08";
    public const string GregorianMonth = "2026-11";
    public const string MovedQuarter = "1405-Q2";

    public Chromium Chromium { get; private set; } = null!;

    protected override IEnumerable<KeyValuePair<string, string?>> Settings() => [new("CrmMetrics:Calendar", "persian")];

    protected override async Task AfterStartAsync()
    {
        var launch = Chromium.LaunchAsync();
        JsonObject Fact(string id, string type, string time, JsonObject? data = null) =>
            new() { ["id"] = id, ["type"] = type, ["time"] = time, ["customerId"] = "P-1", ["channel"] = "web", ["data"] = data ?? new JsonObject() };
        await ApiDriver.IngestAsync(this,
        [
            Fact("p-acq", "customer.acquired", "2026-10-24T08:00:00Z", new JsonObject { ["segment"] = "smb", ["region"] = "tehran" }),
            Fact("p-o1", "order", "2026-10-25T09:00:00Z", new JsonObject { ["amount"] = 1200.5, ["currency"] = "EUR" }),
            Fact("p-o2", "order", "2026-11-10T09:00:00Z", new JsonObject { ["amount"] = 800, ["currency"] = "EUR" }),
            Fact("p-s1", "survey.response", "2026-11-11T09:00:00Z", new JsonObject { ["metric"] = "csat", ["score"] = 5 }),
        ]);
        await ApiDriver.RunAsync(this, new { grain = "month", period = Aban });
        // November 2026 and the year 2026 as computed before the calendar was switched from gregorian (the
        // README lets it change): under persian those keys read as periods six centuries ahead.
        var snapshots = Services.GetRequiredService<CrmMetrics.Storage.Snapshots.SnapshotStore>();
        foreach (var (grain, key) in new[] { (CrmMetrics.Domain.Periods.Grain.Month, GregorianMonth), (CrmMetrics.Domain.Periods.Grain.Year, "2026") })
        {
            var version = await snapshots.ReserveVersionAsync(grain, key, "gregorian-run", default);
            await snapshots.PromoteAsync(grain, key, version, "gregorian-run", DateTimeOffset.UtcNow, 0, default);
        }
        // A quarter whose latest version records that it was computed under gregorian, where 1405-Q2 named other days.
        var moved = await snapshots.ReserveVersionAsync(CrmMetrics.Domain.Periods.Grain.Quarter, MovedQuarter, "gregorian-run", default);
        await snapshots.PromoteAsync(CrmMetrics.Domain.Periods.Grain.Quarter, MovedQuarter, moved, "gregorian-run", DateTimeOffset.UtcNow, 0, default, calendar: "gregorian");
        Chromium = await launch;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (Chromium is not null) await Chromium.DisposeAsync();
        await DisposeAsync();
    }
}

/// <summary>Under the Persian calendar the page names periods with Solar Hijri months, in both languages.</summary>
[Collection(PersianCollection.Name)]
public class PersianCalendarTests(PersianApp app)
{
    [Fact]
    public async Task Periods_carry_solar_hijri_month_names_and_the_persian_view_shows_them_with_persian_digits()
    {
        var context = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/reporting-context", TestKeys.Reader));
        Assert.Equal("persian", context.GetProperty("calendarKind").GetString());
        var month = context.GetProperty("grains").EnumerateArray().Single(g => g.GetProperty("grain").GetString() == "month");
        Assert.Equal(PersianApp.Aban, month.GetProperty("default").GetString());
        var aban = month.GetProperty("periods").EnumerateArray().Single(p => p.GetProperty("key").GetString() == PersianApp.Aban);
        // Found by probing: keys computed under gregorian were offered as "Bahman 2026", which every read refuses.
        Assert.DoesNotContain(month.GetProperty("periods").EnumerateArray(), p => p.GetProperty("key").GetString() == PersianApp.GregorianMonth);
        var year = context.GetProperty("grains").EnumerateArray().Single(g => g.GetProperty("grain").GetString() == "year");
        Assert.DoesNotContain(year.GetProperty("periods").EnumerateArray(), p => p.GetProperty("key").GetString() == "2026");
        Assert.NotEqual("2026", year.GetProperty("default").GetString());
        Assert.Equal("Aban 1405", aban.GetProperty("label").GetProperty("en").GetString());
        Assert.Equal("آبان ۱۴۰۵", aban.GetProperty("label").GetProperty("fa").GetString());

        await using var session = await PageSession.OpenAsync(app.Chromium.Browser, app.BaseAddress);
        var page = session.Page;
        await page.GotoAsync($"/dashboard?lang=fa&grain=month&period={PersianApp.Aban}&code={TestKeys.Reader}");
        await Expect(page.Locator("#tiles .tile[data-indicator='com.revenue']")).ToBeVisibleAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("dir", "rtl");
        Assert.Equal("آبان ۱۴۰۵", await page.Locator("#period option:checked").InnerTextAsync());
        var revenue = await page.Locator("#tiles .tile[data-indicator='com.revenue'] .tile-value").InnerTextAsync();
        Assert.Equal(Figures.ExpectedDigits(2000.5, "currency"), Figures.DigitsOf(revenue));
        Assert.True(Figures.HasPersianDigits(revenue) && !Figures.HasAsciiDigits(revenue), revenue);
        await Expect(page.Locator("#subtitle")).ToContainTextAsync("هجری شمسی");

        await page.ClickAsync("#language");
        await Expect(page.Locator("#period option:checked")).ToHaveTextAsync("Aban 1405");
        session.AssertNoErrors();
    }

    [Fact]
    public async Task A_period_computed_under_another_calendar_says_so_instead_of_not_computed()
    {
        var context = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/reporting-context", TestKeys.Reader));
        var quarter = context.GetProperty("grains").EnumerateArray().Single(g => g.GetProperty("grain").GetString() == "quarter")
            .GetProperty("periods").EnumerateArray().Single(p => p.GetProperty("key").GetString() == PersianApp.MovedQuarter);
        Assert.False(quarter.GetProperty("computed").GetBoolean());
        Assert.Contains("CrmMetrics:Calendar gregorian", quarter.GetProperty("calendarChange").GetString(), StringComparison.Ordinal);

        await using var session = await PageSession.OpenAsync(app.Chromium.Browser, app.BaseAddress);
        await session.Page.GotoAsync($"/dashboard?lang=en&grain=quarter&period={PersianApp.MovedQuarter}&code={TestKeys.Reader}");
        await Expect(session.Page.Locator("#tiles .empty")).ToContainTextAsync("computed under another calendar");
        // Every panel says so, not only the tiles (found in review: goals, staff and benchmarks said no run had computed it).
        foreach (var panel in new[] { "#goals", "#staff", "#benchmarks" })
            await Expect(session.Page.Locator($"{panel} .empty")).ToContainTextAsync("computed under another calendar");
        // And so does the period list (found by probing: it offered the quarter as "(no figures yet)").
        var option = session.Page.Locator($"#period option[value='{PersianApp.MovedQuarter}']");
        await Expect(option).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@" \(computed under another calendar\)$"));
        await session.Page.ClickAsync("#language");
        await Expect(option).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@" \(محاسبه با تقویمی دیگر\)$"));
        session.AssertNoErrors();
    }
}
