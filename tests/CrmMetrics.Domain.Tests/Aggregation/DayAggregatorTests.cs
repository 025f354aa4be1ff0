using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Lifecycle;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Tests.Periods;

namespace CrmMetrics.Domain.Tests.Aggregation;

public class DayAggregatorTests
{
    private static readonly DateOnly Day1 = new(2026, 9, 1);
    private static readonly Period September = TestCalendars.Create("gregorian").Parse("2026-09", Grain.Month);

    private static Fact Order(string id, DateOnly day, string customer, decimal amount, string? channel = null, string? staff = null) => new()
    {
        Id = id, Type = FactType.Order, Time = new DateTimeOffset(day.ToDateTime(new TimeOnly(10, 0)), TimeSpan.Zero), CustomerId = customer,
        Channel = channel, StaffId = staff, Amount = amount, Currency = "EUR",
    };

    private static DayPartial Aggregate(FactLabels labels, DateOnly day, IEnumerable<Fact> facts, Dictionary<string, CustomerDimension>? dimensions = null)
    {
        var columns = new FactColumns(labels);
        foreach (var f in facts) columns.Add(f);
        var customers = new CustomerDimensions(labels);
        foreach (var (id, d) in dimensions ?? []) customers.Set(labels.Customers.Code(id), d);
        var aggregator = new DayAggregator(day, labels);
        aggregator.Add(columns, Enumerable.Range(0, columns.Count).ToArray(), customers);
        return aggregator.Result();
    }

    [Fact]
    public void Revenue_per_customer_of_every_scope_matches_a_naive_grouping_over_the_period()
    {
        var random = new Random(5);
        string[] channels = ["web", "phone", "email"];
        string[] staff = ["S-1", "S-2"];
        var dimensions = Enumerable.Range(0, 40).ToDictionary(c => $"C-{c}", c => new CustomerDimension(c % 3 == 0 ? null : $"seg-{c % 2}", $"reg-{c % 4}"));
        var orders = Enumerable.Range(0, 600).Select(i => Order($"o-{i}", Day1.AddDays(random.Next(30)), $"C-{random.Next(40)}",
            random.Next(5) == 0 ? 0m : Math.Round((decimal)random.NextDouble() * 500, 2), random.Next(4) == 0 ? null : channels[random.Next(3)],
            random.Next(3) == 0 ? null : staff[random.Next(2)])).ToList();

        var labels = new FactLabels();
        var partials = orders.GroupBy(o => DateOnly.FromDateTime(o.Time.UtcDateTime)).Select(g => Aggregate(labels, g.Key, g, dimensions)).ToList();
        var period = PeriodAggregate.Merge(September, partials, new Dictionary<string, long>(), new Dictionary<string, long>());

        var expected = orders.SelectMany(o => new[]
            {
                Scope.Org, Scope.Segment(dimensions[o.CustomerId!].Segment), Scope.Region(dimensions[o.CustomerId!].Region),
                o.Channel is null ? null : Scope.Channel(o.Channel), o.StaffId is null ? null : Scope.Staff(o.StaffId),
            }.OfType<string>().Select(scope => (Scope: scope, Order: o)))
            .GroupBy(x => x.Scope)
            .ToDictionary(g => g.Key, g =>
            {
                var revenues = g.GroupBy(x => x.Order.CustomerId).Select(c => c.Sum(x => x.Order.Amount!.Value)).OrderByDescending(r => r).ToList();
                var top = (int)Math.Ceiling(0.2m * revenues.Count);
                return new CustomerRevenue(revenues.Count, revenues.Take(top).Sum());
            });
        Assert.Equal(expected.OrderBy(e => e.Key), period.Customers.OrderBy(c => c.Key));
        Assert.Equal(orders.Sum(o => o.Amount!.Value), period.Scopes[Scope.Org].Revenue);
    }

    [Fact]
    public void Orders_of_one_customer_through_one_channel_and_staff_share_a_cell()
    {
        var labels = new FactLabels();
        var partial = Aggregate(labels, Day1, [Order("a", Day1, "C-1", 10m, "web", "S-1"), Order("b", Day1, "C-1", 5m, "web", "S-1"), Order("c", Day1, "C-1", 1m, "web")]);
        Assert.Equal(2, partial.Orders.Count);
        Assert.Equal([15m, 1m], partial.Orders.Amounts.ToArray());
        Assert.Equal(3, partial.Scopes[Scope.Org].Orders);
    }

    [Theory]
    [InlineData(new double[0], 0, 0)]
    [InlineData(new[] { 7.0 }, 1, 7)]
    [InlineData(new[] { 1.0, 2, 3, 4, 5 }, 5, 5)]
    [InlineData(new[] { 1.0, 2, 3, 4, 5, 6 }, 6, 11)]
    [InlineData(new[] { 0.0, 0, 3, 3, 3 }, 5, 3)]
    public void The_top_fifth_is_the_ceiling_of_a_fifth_of_the_ordering_customers(double[] revenues, long customers, double topFifth)
    {
        var values = revenues.Select(r => (decimal)r).ToArray();
        Assert.Equal(new CustomerRevenue(customers, (decimal)topFifth), CustomerRevenue.FromRevenues(values));
    }

    [Fact]
    public void Revenues_too_fine_or_too_large_for_integer_ranking_are_ranked_as_decimals()
    {
        decimal[] fine = [0.123456789m, 0.5m, 0.1234567891m, 2m, 1m];
        Assert.Equal(new CustomerRevenue(5, 2m), CustomerRevenue.FromRevenues(fine));
        decimal[] large = [1_000_000_000_000.01m, 3m, 999_999_999_999.99m, 1m, 2m, 5m];
        Assert.Equal(new CustomerRevenue(6, 2_000_000_000_000.00m), CustomerRevenue.FromRevenues(large));
        decimal[] mixed = [10.5m, 10.25m, 10.125m, 1m, 0m];
        Assert.Equal(new CustomerRevenue(5, 10.5m), CustomerRevenue.FromRevenues(mixed));
    }

    [Fact]
    public void Scopes_are_named_by_their_labels_and_unknown_customers_fall_in_the_unknown_segment_and_region()
    {
        var labels = new FactLabels();
        var partial = Aggregate(labels, Day1, [Order("a", Day1, "C-1", 10m, "web", "S-1"), Order("b", Day1, "C-2", 5m)],
            new Dictionary<string, CustomerDimension> { ["C-1"] = new("smb", null) });
        Assert.Equal(["channel:web", "org", "region:unknown", "segment:smb", "segment:unknown", "staff:S-1"], partial.Scopes.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, partial.Scopes["region:unknown"].Orders);
    }

    [Fact]
    public void Lifecycle_facts_shift_active_customers_in_the_timeline_segment_and_region()
    {
        var labels = new FactLabels();
        var columns = new FactColumns(labels);
        var acquired = columns.Add(new Fact { Id = "l1", Type = FactType.CustomerAcquired, Time = new DateTimeOffset(2026, 9, 1, 8, 0, 0, TimeSpan.Zero), CustomerId = "C-9", Segment = "ent" });
        var churned = columns.Add(new Fact { Id = "l2", Type = FactType.CustomerChurned, Time = new DateTimeOffset(2026, 9, 1, 9, 0, 0, TimeSpan.Zero), CustomerId = "C-8" });
        var aggregator = new DayAggregator(Day1, labels);
        aggregator.AddLifecycle(columns, acquired, LifecycleEffect.New, labels.Segments.Code("ent"), FactColumns.None);
        aggregator.AddLifecycle(columns, churned, LifecycleEffect.None, FactColumns.None, FactColumns.None);
        var partial = aggregator.Result();
        Assert.Equal(2, partial.FactCount);
        Assert.Equal(1, partial.Scopes["segment:ent"].NewCustomers);
        Assert.Equal(1, partial.ActiveDeltas["org"].Net);
        Assert.Equal(1, partial.ActiveDeltas["region:unknown"].Net);
        Assert.False(partial.ActiveDeltas.ContainsKey("segment:unknown"));
    }

    [Fact]
    public void Churn_and_retention_count_customers_once_however_often_they_moved_in_the_period()
    {
        // Found by an independent check of the contract: C-1 churned on the 2nd and again on the 20th (won back on
        // the 10th) and was counted as two churned customers; C-2, acquired, churned and acquired again, as two
        // who became active. Churn came out at 150 % and retention at −50 %.
        var labels = new FactLabels();
        DayPartial Day(int day, params (string Customer, FactType Type, LifecycleEffect Effect)[] moves)
        {
            var date = new DateOnly(2026, 9, day);
            var columns = new FactColumns(labels);
            var aggregator = new DayAggregator(date, labels);
            foreach (var (customer, type, effect) in moves)
            {
                var row = columns.Add(new Fact { Id = $"{customer}-{day}-{type}", Type = type, Time = new DateTimeOffset(date.ToDateTime(new TimeOnly(9, 0)), TimeSpan.Zero), CustomerId = customer });
                aggregator.AddLifecycle(columns, row, effect, labels.Segments.Code("smb"), FactColumns.None);
            }
            return aggregator.Result();
        }
        var days = new[]
        {
            Day(1, ("C-2", FactType.CustomerAcquired, LifecycleEffect.New)),
            Day(2, ("C-1", FactType.CustomerChurned, LifecycleEffect.Churn)),
            Day(5, ("C-2", FactType.CustomerChurned, LifecycleEffect.Churn)),
            Day(10, ("C-1", FactType.CustomerReactivated, LifecycleEffect.WinBack)),
            Day(20, ("C-1", FactType.CustomerChurned, LifecycleEffect.Churn), ("C-2", FactType.CustomerAcquired, LifecycleEffect.WinBack)),
        };
        // Active at the start: C-1 and C-3; at the end: C-2 and C-3.
        var start = new Dictionary<string, long> { ["org"] = 2, ["segment:smb"] = 2 };
        var end = new Dictionary<string, long> { ["org"] = 2, ["segment:smb"] = 2 };
        var period = PeriodAggregate.Merge(September, days, start, end);
        Assert.Equal(new CustomerMoves(Churned: 2, Activated: 2), period.Moves["org"]);
        Assert.Equal(new CustomerMoves(Churned: 2, Activated: 2), period.Moves["segment:smb"]);
        var rows = period.BaseRows().ToList();
        double? Value(string indicator, string scope) => rows.Single(r => r.Indicator == indicator && r.Scope == scope).Value;
        Assert.Equal(100, Value("cx.churn-rate", "org"));    // 2 of 2, not 3 churns of 2
        Assert.Equal(0, Value("cx.retention-rate", "org"));  // (2 − 2) / 2, not (2 − 3) / 2
        // The counts of moves stay counts of moves.
        Assert.Equal(2, Value("com.win-backs", "org"));
        Assert.Equal(1, Value("com.new-customers", "org"));
    }
}
