using CrmMetrics.Functions.OData;
using Microsoft.OData.Edm;
using Microsoft.OData.UriParser;

namespace CrmMetrics.Functions.Tests.BiAccess;

/// <summary>Which parts of a $filter choose periods (pushed to storage as parameterised filters) and which are row conditions.</summary>
public class PartitionFilterTests
{
    private static readonly IEdmModel Model = ODataModel.Build();

    private static readonly CrmMetrics.Domain.Periods.PeriodCalendar Utc = Calendar("gregorian", "UTC");

    private static CrmMetrics.Domain.Periods.PeriodCalendar Calendar(string calendar, string zone) =>
        CrmMetrics.Domain.Periods.PeriodCalendar.TryCreate(calendar, zone, out var created, out var error) ? created : throw new InvalidOperationException(error);

    private static PartitionFilter Parse(string filter, string set = "Snapshots", CrmMetrics.Domain.Periods.PeriodCalendar? calendar = null)
    {
        var entitySet = Model.EntityContainer.FindEntitySet(set);
        // Names matched regardless of case, as the app's parser does: the model's members are camelCase, the filters here as Power BI writes them.
        var parser = new ODataQueryOptionParser(Model, entitySet.EntityType, entitySet, new Dictionary<string, string> { ["$filter"] = filter }) { Resolver = new ODataUriResolver { EnableCaseInsensitive = true } };
        return PartitionFilter.From(parser.ParseFilter(), calendar ?? Utc, set == "Alerts" ? ["Time"] : null);
    }

    [Fact]
    public void A_selection_beyond_the_services_comparison_limit_becomes_one_query_per_alternative()
    {
        // Found in review: Azure takes at most 15 comparisons in a filter (Azurite more); a slicer of 12 months with a grain makes 24.
        var months = string.Join(",", Enumerable.Range(1, 12).Select(m => $"'2026-{m:D2}'"));
        var queries = Parse($"Grain eq 'month' and Period in ({months})").PointerFilters();
        Assert.Equal(12, queries.Count);
        Assert.Equal("PartitionKey eq 'month' and RowKey eq '2026-01'", queries[0]);
        Assert.All(queries, q => Assert.True(q.Split(" and ").Length <= PartitionFilter.MaxComparisonsPerQuery));
        Assert.Single(Parse("Period in ('2026-01','2026-02','2026-03')").PointerFilters());
    }

    [Fact]
    public void Period_and_grain_conditions_choose_partitions_with_escaped_values()
    {
        var f = Parse("Grain eq 'month' and Period ge '2026-01' and Scope eq 'org'");
        Assert.True(f.SelectsPeriods);
        Assert.Equal("org", f.Scope);
        Assert.Equal("PartitionKey eq 'month' and RowKey ge '2026-01'", f.Pointer());
        var quoted = Parse("Period eq '2026-03'' or ''a''=''a'");
        Assert.Equal("RowKey eq '2026-03%0027 or %0027a%0027=%0027a'", quoted.Pointer().Replace("''", "%0027"));
    }

    [Fact]
    public void Date_conditions_choose_partitions_too()
    {
        var f = Parse("PeriodStart ge 2026-03-01T00:00:00Z and PeriodStart lt 2026-04-01T00:00:00Z and Scope eq 'org'");
        Assert.True(f.SelectsPeriods, f.Pointer());
        Assert.Contains("PeriodStart ge datetime'2026-03-01T00:00:00", f.Pointer());
        var alerts = Parse("Time ge 2020-01-01T00:00:00Z and Kind eq 'threshold'", "Alerts");
        Assert.Equal(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), alerts.LowerBound("Time"));
    }

    [Fact]
    public void Date_literals_choose_partitions_from_midnight_utc()
    {
        var f = Parse("PeriodStart ge 2026-03-01 and ComputedAt lt 2026-04-01");
        Assert.True(f.SelectsPeriods);
        Assert.Equal("PeriodStart ge datetime'2026-03-01T00:00:00Z' and ComputedAt lt datetime'2026-04-01T00:00:00Z'", f.Pointer());
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), Parse("Time ge 2026-01-01", "Alerts").LowerBound("Time"));
    }

    [Fact]
    public void Date_literals_mean_local_midnight_in_the_reporting_zone()
    {
        var tehran = Calendar("persian", "Asia/Tehran");
        var f = Parse("PeriodStart ge 2026-06-22", calendar: tehran);
        Assert.Equal("PeriodStart ge datetime'2026-06-21T20:30:00Z'", f.Pointer());
        Assert.Equal(new DateTimeOffset(2025, 12, 31, 20, 30, 0, TimeSpan.Zero), Parse("Time ge 2026-01-01", "Alerts", tehran).LowerBound("Time"));
        // A literal with its own offset is that instant, whatever the zone.
        Assert.Equal("PeriodStart ge datetime'2026-06-22T00:00:00Z'", Parse("PeriodStart ge 2026-06-22T00:00:00Z", calendar: tehran).Pointer());
    }

    [Fact]
    public void A_date_literal_compares_the_local_date_so_eq_and_le_cover_the_whole_day()
    {
        var tehran = Calendar("persian", "Asia/Tehran");
        Assert.Equal("ComputedAt ge datetime'2026-06-21T20:30:00Z' and ComputedAt lt datetime'2026-06-22T20:30:00Z'", Parse("ComputedAt eq 2026-06-22", calendar: tehran).Pointer());
        Assert.Equal("ComputedAt lt datetime'2026-06-22T20:30:00Z'", Parse("ComputedAt le 2026-06-22", calendar: tehran).Pointer());
        Assert.Equal("ComputedAt ge datetime'2026-06-22T20:30:00Z'", Parse("ComputedAt gt 2026-06-22", calendar: tehran).Pointer());
        Assert.Equal("ComputedAt lt datetime'2026-06-21T20:30:00Z'", Parse("ComputedAt lt 2026-06-22", calendar: tehran).Pointer());
        Assert.Equal("ComputedAt ge datetime'2026-06-21T00:00:00Z' and ComputedAt lt datetime'2026-06-22T00:00:00Z'", Parse("2026-06-21 eq ComputedAt").Pointer());
        var ne = Parse("ComputedAt ne 2026-06-22 and Period eq '2026-06'");
        Assert.Equal("RowKey eq '2026-06'", ne.Pointer());
        Assert.Equal(new DateTimeOffset(2026, 6, 23, 0, 0, 0, TimeSpan.Zero), Parse("Time gt 2026-06-22", "Alerts").LowerBound("Time"));
    }

    [Fact]
    public void An_or_with_a_side_that_chooses_no_period_reads_every_period()
    {
        var f = Parse("Period eq '2026-03' or Value gt 1");
        Assert.False(f.SelectsPeriods);
        Assert.Equal("", f.Pointer());
        Assert.Null(Parse("Time ge 2026-01-01 or Kind eq 'threshold'", "Alerts").LowerBound("Time"));
    }

    [Fact]
    public void Or_and_in_over_periods_choose_each_alternative()
    {
        // Found by probing: Power BI's slicers and List.Contains send these; each names two periods, and was refused as reading every period.
        const string twoMonths = "(RowKey eq '2026-09') or (RowKey eq '2026-10')";
        Assert.Equal(twoMonths, Parse("Period eq '2026-09' or Period eq '2026-10'").Pointer());
        Assert.Equal(twoMonths, Parse("Period in ('2026-09','2026-10')").Pointer());
        Assert.Equal("(PartitionKey eq 'month' and RowKey eq '2026-09') or (PartitionKey eq 'month' and RowKey eq '2026-10')",
            Parse("Grain eq 'month' and (Period eq '2026-09' or Period eq '2026-10') and Scope eq 'org'").Pointer());
        Assert.Equal("(PartitionKey eq 'month' and RowKey eq '2026-09') or (PartitionKey eq 'year' and RowKey eq '2026')",
            Parse("(Grain eq 'month' and Period eq '2026-09') or (Grain eq 'year' and Period eq '2026')").Pointer());
        // Row equalities count only when joined to the whole filter by 'and'.
        Assert.Equal("org", Parse("Scope eq 'org' and (Period eq '2026-09' or Period eq '2026-10')").Scope);
        Assert.Null(Parse("Scope eq 'org' or Period eq '2026-09'").Scope);
        // Each alternative's lower bound on Time; the earliest of them bounds the read.
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            Parse("(Time ge 2026-03-01 and Kind eq 'threshold') or Time ge 2026-01-01", "Alerts").LowerBound("Time"));
    }

    [Fact]
    public void Too_many_alternatives_fall_back_to_a_superset()
    {
        var periods = string.Join(" or ", Enumerable.Range(1, 12).Select(m => $"Period eq '2026-{m:D2}'"));
        var grains = string.Join(" or ", new[] { "day", "week", "month", "quarter", "year", "day", "week" }.Select(g => $"Grain eq '{g}'"));
        // 12 x 7 = 84 alternatives would exceed the cap: the side with fewer alternatives (the grains) is kept, a superset.
        var f = Parse($"({periods}) and ({grains})");
        Assert.True(f.SelectsPeriods);
        Assert.Equal(7, f.Pointer().Split(" or ").Length);
        Assert.DoesNotContain("RowKey", f.Pointer());
    }
}

internal static class PartitionFilterAssertions
{
    /// <summary>The one pointer query a selection within the comparison limit makes.</summary>
    public static string Pointer(this PartitionFilter filter) => Assert.Single(filter.PointerFilters());
}
