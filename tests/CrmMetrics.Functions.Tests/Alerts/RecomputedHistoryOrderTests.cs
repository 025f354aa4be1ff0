using System.Text.Json.Nodes;
using CrmMetrics.Domain.Alerts;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Alerts;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Functions.Jobs;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Settings;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Alerts;

/// <summary>
/// A run that recomputes a month and the month before it, its two period jobs run in either order, as the host
/// may run them: the later month's trend is judged once, against the earlier month's new figure, whichever
/// finishes first. The steps are called as the host calls them, over a real Azurite, with the app's services in
/// this process and the alerts each finalisation sends kept.
/// </summary>
public class RecomputedHistoryOrderTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly PeriodCalendar Calendar = new(ReportingCalendar.Gregorian, TimeZoneInfo.Utc);

    /// <summary>
    /// Segment CSAT 90 % in August and 80 % in September, computed; then October comes at 70 % and late September
    /// answers bring September to <paramref name="septemberAfter"/> %. A trend rule (two months worse) on October
    /// holds only against the new September when that is under 90 and over 70.
    /// </summary>
    [Theory]
    [InlineData(2021, true, 90, false)]
    [InlineData(2020, false, 90, false)]
    [InlineData(2019, true, 75, true)]
    [InlineData(2018, false, 75, true)]
    public async Task The_later_month_is_judged_against_the_earlier_months_new_figure_in_either_order(int year, bool laterFirst, int septemberAfter, bool trendHolds)
    {
        await using var services = await InProcessApp.StartAsync(azurite);
        var segment = $"order{year}";
        var kept = new KeptAlerts();
        var (august, september, october) = (Month(year, 8), Month(year, 9), Month(year, 10));
        var facts = new List<Fact>();
        for (var c = 0; c < 10; c++)
            facts.Add(new() { Id = $"{segment}-a{c}", Type = FactType.CustomerAcquired, Time = At(year, 7, 1), CustomerId = $"{segment}-{c}", Segment = segment, Region = "north" });
        void Answers(string tag, int month, int count, int satisfied)
        {
            for (var c = 0; c < count; c++)
                facts.Add(new() { Id = $"{segment}-{tag}-{c}", Type = FactType.SurveyResponse, Time = At(year, month, 10), CustomerId = $"{segment}-{c % 10}", Metric = "csat", Score = c < satisfied ? 5 : 1 });
        }
        Answers("s8", 8, 10, 9);
        Answers("s9", 9, 10, 8);
        var ingestion = services.GetRequiredService<FactIngestion>();
        await ingestion.StoreAsync(facts, default);
        var rule = new AlertRule { RuleId = $"{segment}-trend", Kind = AlertKinds.Trend, Indicator = "cx.csat", Scope = $"segment:{segment}", Grain = Grain.Month, M = 2 };
        await services.GetRequiredService<AlertRuleStore>().PutAsync(rule.RuleId, rule, new("test", "admin"), default);
        await StepwiseRuns.RunAsync(services, kept, "order", [new(year, 7, 1), new(year, 8, 10), new(year, 9, 10)], [august, september]);
        Assert.Empty(kept.Sent);

        facts.Clear();
        Answers("s10", 10, 10, 7);
        // Late September answers: with the ten before, September comes to septemberAfter %.
        Answers("s9-late", 9, 10, septemberAfter * 2 / 10 - 8);
        await ingestion.StoreAsync(facts, default);
        await StepwiseRuns.RunAsync(services, kept, "order", [new(year, 9, 10), new(year, 10, 10)], laterFirst ? [october, september] : [september, october]);

        var said = kept.Sent.Select(e => $"{e["type"]} {e["subject"]}").ToList();
        Assert.Equal(trendHolds ? [$"crm.metrics.alert.trend cx.csat/segment:{segment}/{october.Key}"] : [], said);
    }

    private static Period Month(int year, int month) => Calendar.Parse($"{year}-{month:D2}", Grain.Month);

    private static DateTimeOffset At(int year, int month, int day) => new(year, month, day, 10, 0, 0, TimeSpan.Zero);
}
