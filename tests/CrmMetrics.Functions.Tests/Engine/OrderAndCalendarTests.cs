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

        [Fact]
        public async Task Gregorian_month_keys_are_refused_in_a_persian_deployment_when_they_name_no_month()
        {
            var response = await app.SendAsync(System.Net.Http.HttpMethod.Get, "/api/snapshots?period=2026-13", TestKeys.Reader);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        }
    }
}
