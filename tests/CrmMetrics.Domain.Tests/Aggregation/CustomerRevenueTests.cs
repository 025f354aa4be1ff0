using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;

namespace CrmMetrics.Domain.Tests.Aggregation;

/// <summary>
/// A period's revenue per ordering customer, computed from the order cells of its days, against a
/// plain recomputation: by integer units when every amount allows it, by decimals when not.
/// </summary>
public class CustomerRevenueTests
{
    private static readonly string?[] Channels = ["web", "phone", null];
    private static readonly string?[] Staff = ["S-1", "S-2", "S-3", null];
    private static readonly string?[] Segments = ["smb", "enterprise"];
    private static readonly string?[] Regions = ["north", null];

    private sealed record Cell(string Customer, string? Channel, string? Staff, string? Segment, string? Region, decimal Amount);

    /// <summary>Cells over a few days sharing one set of labels, amounts drawn from <paramref name="amounts"/>.</summary>
    private static (List<OrderCells> Days, List<Cell> Cells, FactLabels Labels) Period(decimal[] amounts, int cellsPerDay = 40, int days = 3)
    {
        var labels = new FactLabels();
        var random = new Random(7);
        var all = new List<Cell>();
        var result = new List<OrderCells>();
        for (var d = 0; d < days; d++)
        {
            var day = new OrderCells(labels);
            for (var i = 0; i < cellsPerDay; i++)
            {
                // A day attributes each customer to one segment and region (they may change between days).
                var customer = random.Next(25);
                var cell = new Cell($"C-{customer}", Channels[random.Next(Channels.Length)], Staff[random.Next(Staff.Length)],
                    Segments[(customer + d) % Segments.Length], Regions[customer % 3 % Regions.Length], amounts[random.Next(amounts.Length)]);
                day.Add(labels.Customers.Code(cell.Customer), labels.Channels.Code(cell.Channel), labels.Staff.Code(cell.Staff),
                    labels.Segments.Code(cell.Segment), labels.Regions.Code(cell.Region), cell.Amount);
                all.Add(cell);
            }
            result.Add(day);
        }
        return (result, all, labels);
    }

    /// <summary>The figures by their definition: per scope, each ordering customer's revenue, and the sum of the top ⌈20 %⌉.</summary>
    private static Dictionary<string, CustomerRevenue> Expected(List<Cell> cells)
    {
        var byScope = cells.Select(c => (Scope: Scope.Org, c.Customer, c.Amount))
            .Concat(cells.Where(c => c.Channel is not null).Select(c => (Scope: Scope.Channel(c.Channel!), c.Customer, c.Amount)))
            .Concat(cells.Where(c => c.Staff is not null).Select(c => (Scope: Scope.Staff(c.Staff!), c.Customer, c.Amount)))
            .Concat(cells.Where(c => c.Segment is not null).Select(c => (Scope: Scope.Segment(c.Segment), c.Customer, c.Amount)))
            .Concat(cells.Where(c => c.Region is not null).Select(c => (Scope: Scope.Region(c.Region), c.Customer, c.Amount)));
        return byScope.GroupBy(c => c.Scope).ToDictionary(scope => scope.Key, scope =>
        {
            var revenues = scope.GroupBy(c => c.Customer).Select(customer => customer.Sum(c => c.Amount)).OrderDescending().ToList();
            var top = (int)Math.Ceiling(revenues.Count / 5.0);
            return new CustomerRevenue(revenues.Count, revenues.Take(top).Sum());
        });
    }

    [Theory]
    [InlineData("money in cents, zero and negative amounts")]
    [InlineData("an amount finer than the integer ranking takes")]
    public void Every_scope_has_its_ordering_customers_and_top_fifth_revenue(string amounts)
    {
        decimal[] values = amounts switch
        {
            "money in cents, zero and negative amounts" => [19.99m, 5m, 0m, 120.5m, -3.25m, 1_000_000.01m],
            _ => [19.99m, 5m, 0.0000000001m, 120.5m],
        };
        var (days, cells, labels) = Period(values);

        var actual = CustomerRevenue.Of(days, labels);

        var expected = Expected(cells);
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), actual.OrderBy(a => a.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void A_customer_whose_revenue_is_beyond_a_long_in_its_smallest_unit_is_summed_as_decimals()
    {
        // Each amount is 9e18 units of 10^-8 (within a long), one customer's two cells together are not.
        var labels = new FactLabels();
        var cells = new OrderCells(labels);
        cells.Add(labels.Customers.Code("C-1"), labels.Channels.Code("web"), FactColumns.None, FactColumns.None, FactColumns.None, 90_000_000_000m);
        cells.Add(labels.Customers.Code("C-1"), labels.Channels.Code("phone"), FactColumns.None, FactColumns.None, FactColumns.None, 90_000_000_000m);
        cells.Add(labels.Customers.Code("C-2"), labels.Channels.Code("web"), FactColumns.None, FactColumns.None, FactColumns.None, 0.00000001m);

        var revenue = CustomerRevenue.Of([cells], labels);

        Assert.Equal(new CustomerRevenue(2, 180_000_000_000m), revenue[Scope.Org]);
        Assert.Equal(new CustomerRevenue(2, 90_000_000_000m), revenue[Scope.Channel("web")]);
    }
}
