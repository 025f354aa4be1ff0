using System.Text.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Samples;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Engine;

/// <summary>
/// The engine end to end through the public API, checked against an independent implementation of
/// the contract on data with out-of-order, late and resent facts.
/// </summary>
public class EngineAgainstReferenceTests(EngineAgainstReferenceTests.Fixture app) : IClassFixture<EngineAgainstReferenceTests.Fixture>
{
    public static readonly SyntheticCrmOptions Options = new()
    {
        From = new DateOnly(2026, 6, 1),
        To = new DateOnly(2026, 8, 31),
        Customers = 150,
        DuplicateShare = 0.03,
        LateShare = 0.05,
        Seed = 11,
    };

    public sealed class Fixture : AppFixture
    {
        public List<JsonObject> Events { get; } = SyntheticCrm.Generate(Options).Concat(MovingTwice()).ToList();

        /// <summary>
        /// Customers whose lifecycle moves twice in July, on different days: churn and retention count each
        /// of them once (a day partial alone cannot tell), new customers and win-backs count every move.
        /// </summary>
        public static IEnumerable<JsonObject> MovingTwice()
        {
            JsonObject Move(string id, string type, string time, string customer, JsonObject? data = null) =>
                new() { ["id"] = id, ["type"] = type, ["time"] = time, ["customerId"] = customer, ["data"] = data ?? new JsonObject() };
            yield return Move("twice-a1", "customer.acquired", "2026-06-03T09:00:00Z", "TWICE-1", new JsonObject { ["segment"] = "twice", ["region"] = "north" });
            yield return Move("twice-c1", "customer.churned", "2026-07-03T09:00:00Z", "TWICE-1");
            yield return Move("twice-r1", "customer.reactivated", "2026-07-08T09:00:00Z", "TWICE-1");
            yield return Move("twice-c2", "customer.churned", "2026-07-25T09:00:00Z", "TWICE-1");
            yield return Move("twice-a2", "customer.acquired", "2026-07-02T09:00:00Z", "TWICE-2", new JsonObject { ["segment"] = "twice" });
            yield return Move("twice-c3", "customer.churned", "2026-07-05T09:00:00Z", "TWICE-2");
            yield return Move("twice-a3", "customer.acquired", "2026-07-10T09:00:00Z", "TWICE-2");
        }
        public Dictionary<string, List<JsonElement>> Months { get; } = new();

        protected override async Task AfterStartAsync()
        {
            // Shuffled: facts arrive in any order, resent ones included.
            var random = new Random(3);
            await ApiDriver.IngestAsync(this, Events.OrderBy(_ => random.Next()));
            await ApiDriver.RunAsync(this, new { grain = "month", period = "2026-06" });
            foreach (var month in new[] { "2026-07", "2026-08" }) await ApiDriver.RunAsync(this, new { grain = "month", period = month });
            foreach (var month in new[] { "2026-06", "2026-07", "2026-08" }) Months[month] = await ApiDriver.SnapshotsAsync(this, $"grain=month&period={month}");
        }
    }

    [Fact]
    public void Customers_moving_twice_in_a_month_count_once_in_churn_and_retention()
    {
        // Segment "twice": TWICE-1 active at the start, churned twice (won back between); TWICE-2 acquired, churned
        // and acquired again. At the end only TWICE-2 is active. Counted as customers: 2 churned and 2 became
        // active, so churn is 100 × 2 / 1 and retention 100 × (1 − 2) / 1; counted as moves they were 300 and −200.
        var rows = app.Months["2026-07"];
        double? Value(string indicator) => ApiDriver.Value(rows.Single(r => r.GetProperty("indicator").GetString() == indicator && r.GetProperty("scope").GetString() == "segment:twice"));
        Assert.Equal(200, Value("cx.churn-rate"));
        Assert.Equal(-100, Value("cx.retention-rate"));
        Assert.Equal(1, Value("com.active-customers"));
        Assert.Equal(1, Value("com.new-customers"));
        Assert.Equal(2, Value("com.win-backs"));
    }

    [Theory]
    [InlineData(2026, 6)]
    [InlineData(2026, 7)]
    [InlineData(2026, 8)]
    public void Every_base_value_of_every_scope_matches_the_reference(int year, int month)
    {
        var expected = new ReferenceIndicators(app.Events).Month(year, month);
        var rows = app.Months[$"{year}-{month:D2}"].ToDictionary(r => (r.GetProperty("indicator").GetString()!, r.GetProperty("scope").GetString()!));
        var mismatches = new List<string>();
        foreach (var ((indicator, scope), value) in expected)
        {
            if (!rows.TryGetValue((indicator, scope), out var row))
            {
                mismatches.Add($"{indicator} {scope}: missing (expected {value})");
                continue;
            }
            var actual = ApiDriver.Value(row);
            var tolerance = indicator.Contains("resolution-hours") ? 0.01 : 1e-9;
            if (value is null != actual is null || value is { } v && actual is { } a && Math.Abs(v - a) > tolerance * Math.Max(1, Math.Abs(v)))
                mismatches.Add($"{indicator} {scope}: expected {value?.ToString() ?? "null"}, got {actual?.ToString() ?? "null"}");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {expected.Count} values differ:\n" + string.Join("\n", mismatches.Take(40)));
        Assert.Contains(rows.Keys, k => k.Item2.StartsWith("segment:", StringComparison.Ordinal));
        Assert.Contains(rows.Keys, k => k.Item2.StartsWith("staff:", StringComparison.Ordinal));
        Assert.Contains(rows.Keys, k => k.Item2.StartsWith("channel:", StringComparison.Ordinal));
    }

    [Fact]
    public void Rows_carry_the_contract_shape_and_lineage()
    {
        var row = app.Months["2026-07"].First(r => r.GetProperty("indicator").GetString() == "com.revenue" && r.GetProperty("scope").GetString() == "org");
        foreach (var member in new[] { "indicator", "family", "scope", "grain", "period", "value", "unit", "direction", "kind", "factCount", "computedAt", "runId", "version" })
            Assert.True(row.TryGetProperty(member, out _), member);
        Assert.Equal("commercial", row.GetProperty("family").GetString());
        Assert.Equal("month", row.GetProperty("grain").GetString());
        Assert.Equal("currency", row.GetProperty("unit").GetString());
        Assert.True(row.GetProperty("factCount").GetInt64() > 0);
        Assert.StartsWith("run-", row.GetProperty("runId").GetString());
    }
}
