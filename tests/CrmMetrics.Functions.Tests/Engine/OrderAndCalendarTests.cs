using System.Globalization;
using System.Text.Json.Nodes;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Samples;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Engine;

/// <summary>The same facts in another order, sent twice, give the same values; calendars and time zones shape the periods.</summary>
public class OrderAndCalendarTests
{
    public sealed class ReversedTwice : AppFixture
    {
        public List<JsonObject> Events { get; } = SyntheticCrm.Generate(EngineAgainstReferenceTests.Options).ToList();
        public List<System.Text.Json.JsonElement> July { get; private set; } = [];

        protected override async Task AfterStartAsync()
        {
            // Backwards, in small requests, then everything again: all duplicates the second time.
            await ApiDriver.IngestAsync(this, Enumerable.Reverse(Events), chunk: 300);
            await ApiDriver.RunAsync(this, new { grain = "month", period = "2026-07" });
            await ApiDriver.IngestAsync(this, Events);
            await ApiDriver.RunAsync(this, new { grain = "month", period = "2026-07" });
            July = await ApiDriver.SnapshotsAsync(this, "grain=month&period=2026-07");
        }
    }

    public class Reversed(ReversedTwice app) : IClassFixture<ReversedTwice>
    {
        [Fact]
        public void Reversed_and_resent_facts_give_the_reference_values()
        {
            var expected = new ReferenceIndicators(app.Events).Month(2026, 7);
            var rows = app.July.ToDictionary(r => (r.GetProperty("indicator").GetString()!, r.GetProperty("scope").GetString()!));
            var differ = expected.Where(e => !rows.TryGetValue(e.Key, out var row) || !Same(e.Value, ApiDriver.Value(row))).Select(e => e.Key).ToList();
            Assert.Empty(differ);
            Assert.All(app.July, r => Assert.Equal(2, r.GetProperty("version").GetInt32()));
        }

        private static bool Same(double? expected, double? actual) =>
            expected is null ? actual is null : actual is { } a && Math.Abs(expected.Value - a) <= 1e-9 * Math.Max(1, Math.Abs(expected.Value));
    }

    public sealed class PersianTehran : AppFixture
    {
        public List<JsonObject> Events { get; } = SyntheticCrm.Generate(new SyntheticCrmOptions
        {
            From = new DateOnly(2026, 6, 10), To = new DateOnly(2026, 7, 31), Customers = 80, Seed = 33, CompetitorObservations = false,
        }).ToList();

        protected override IEnumerable<KeyValuePair<string, string?>> Settings() =>
            [new("CrmMetrics:Calendar", "persian"), new("CrmMetrics:TimeZone", "Asia/Tehran")];

        protected override async Task AfterStartAsync()
        {
            await ApiDriver.IngestAsync(this, Events);
            await ApiDriver.RunAsync(this, new { grain = "month", period = "1405-04" });
        }
    }

    public class Persian(PersianTehran app) : IClassFixture<PersianTehran>
    {
        [Fact]
        public async Task A_solar_hijri_month_in_tehran_time_counts_exactly_its_facts()
        {
            var tehran = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tehran");
            var persian = new PersianCalendar();
            var expected = app.Events.DistinctBy(e => e["id"]!.GetValue<string>()).Count(e =>
            {
                if (e["type"]!.GetValue<string>() != "order") return false;
                var local = TimeZoneInfo.ConvertTime(DateTimeOffset.Parse(e["time"]!.GetValue<string>(), CultureInfo.InvariantCulture), tehran).DateTime;
                return persian.GetYear(local) == 1405 && persian.GetMonth(local) == 4;
            });
            var rows = await ApiDriver.SnapshotsAsync(app, "period=1405-04&indicator=com.orders&scope=org");
            var row = Assert.Single(rows);
            Assert.Equal(expected, ApiDriver.Value(row));
            Assert.True(expected > 0);
            Assert.Equal("month", row.GetProperty("grain").GetString());
        }

        [Theory]
        [InlineData("PeriodStart ge 2026-06-22 and PeriodStart lt 2026-06-23", 1)]
        [InlineData("PeriodStart ge 2026-06-21T20:30:00Z and PeriodStart le 2026-06-21T20:30:00Z", 1)]
        [InlineData("PeriodStart gt 2026-06-22", 0)]
        [InlineData("PeriodStart ge 2026-06-22", 1)]
        public async Task An_odata_date_literal_means_midnight_in_the_reporting_zone(string filter, int months)
        {
            // 1 Tir 1405 is 22 June 2026, and its midnight in Tehran (+03:30) is 20:30 UTC the day before.
            var response = await app.SendAsync(System.Net.Http.HttpMethod.Get, $"/odata/Snapshots?$filter={filter} and Indicator eq 'com.orders' and Scope eq 'org'&$select=Period,PeriodStart", TestKeys.Reader);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            var rows = System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("value").EnumerateArray().ToList();
            Assert.True(months == rows.Count, text);
            Assert.All(rows, r => Assert.Equal("1405-04", r.GetProperty("period").GetString()));
            // Served with Tehran's offset, so the date part is the local date a date literal compares with.
            Assert.All(rows, r => Assert.Equal("2026-06-22T00:00:00+03:30", r.GetProperty("periodStart").GetString()));
        }

        [Fact]
        public async Task Gregorian_month_keys_are_refused_in_a_persian_deployment_when_they_name_no_month()
        {
            var response = await app.SendAsync(System.Net.Http.HttpMethod.Get, "/api/snapshots?period=2026-13", TestKeys.Reader);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        }
    }
}
