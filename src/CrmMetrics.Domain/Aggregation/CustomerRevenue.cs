using System.Buffers;
using CrmMetrics.Domain.Facts;

namespace CrmMetrics.Domain.Aggregation;

/// <summary>
/// A scope's ordering customers over a period (a customer with only zero-amount orders counts) and
/// the revenue of the top fifth of them by revenue, Buttle's strategically significant customers.
/// </summary>
public readonly record struct CustomerRevenue(long Customers, decimal TopFifthRevenue)
{
    /// <summary>
    /// Every scope's figures from the order cells of a period's days, in one pass per breakdown
    /// kind (the kinds in parallel): cells are bucketed by the kind's code (a counting sort, no
    /// hashing) and each bucket's revenue is summed per customer in an array indexed by customer
    /// code. Memory is bounded by the cells and the customers, time is linear in the cells.
    /// </summary>
    public static Dictionary<string, CustomerRevenue> Of(IReadOnlyList<OrderCells> days, FactLabels labels)
    {
        var total = 0;
        foreach (var day in days)
        {
            if (day.Labels != labels) throw new ArgumentException("Order cells of one period must share their labels.", nameof(days));
            total += day.Count;
        }
        var result = new Dictionary<string, CustomerRevenue>(StringComparer.Ordinal);
        if (total == 0) return result;
        var kinds = (Breakdown[])[Breakdown.Org, Breakdown.Channel, Breakdown.Staff, Breakdown.Segment, Breakdown.Region];
        foreach (var part in kinds.AsParallel().Select(kind => OfKind(days, labels, kind, total)).ToList())
        {
            foreach (var (scope, revenue) in part) result[scope] = revenue;
        }
        return result;
    }

    /// <summary>The revenue of the top ⌈20 %⌉ of customers, given each ordering customer's revenue (reordered in place).</summary>
    public static CustomerRevenue FromRevenues(Span<decimal> revenues)
    {
        var n = revenues.Length;
        if (n == 0) return default;
        var top = (int)Math.Ceiling(0.2m * n);
        if (!ScaledIntegers.TryTopSum(revenues, top, out var topRevenue))
        {
            revenues.Sort();
            topRevenue = 0;
            for (var i = n - top; i < n; i++) topRevenue += revenues[i];
        }
        return new CustomerRevenue(n, topRevenue);
    }

    private enum Breakdown { Org, Channel, Staff, Segment, Region }

    private static List<(string Scope, CustomerRevenue Revenue)> OfKind(IReadOnlyList<OrderCells> days, FactLabels labels, Breakdown kind, int total)
    {
        var sums = new PerCustomerSums(labels.Customers.Count);
        if (kind == Breakdown.Org)
        {
            foreach (var day in days)
            {
                var customers = day.Customers;
                var amounts = day.Amounts;
                for (var cell = 0; cell < customers.Length; cell++) sums.Add(customers[cell], amounts[cell]);
            }
            return [(Scope.Org, sums.Take())];
        }

        var set = kind switch { Breakdown.Channel => labels.Channels, Breakdown.Staff => labels.Staff, Breakdown.Segment => labels.Segments, _ => labels.Regions };
        var result = new List<(string, CustomerRevenue)>();
        var order = ArrayPool<(int Day, int Cell)>.Shared.Rent(total);
        try
        {
            var start = BucketByCode(days, kind, set.Count, order);
            for (var code = 0; code < set.Count; code++)
            {
                if (start[code] == start[code + 1]) continue;
                for (var i = start[code]; i < start[code + 1]; i++)
                {
                    var (d, cell) = order[i];
                    sums.Add(days[d].Customers[cell], days[d].Amounts[cell]);
                }
                var label = set[code];
                result.Add((kind switch
                {
                    Breakdown.Channel => Scope.Channel(label),
                    Breakdown.Staff => Scope.Staff(label),
                    Breakdown.Segment => Scope.Segment(label),
                    _ => Scope.Region(label),
                }, sums.Take()));
            }
        }
        finally
        {
            ArrayPool<(int, int)>.Shared.Return(order);
        }
        return result;
    }

    private static ReadOnlySpan<int> Codes(OrderCells cells, Breakdown kind) => kind switch
    {
        Breakdown.Channel => cells.Channels,
        Breakdown.Staff => cells.Staff,
        Breakdown.Segment => cells.Segments,
        _ => cells.Regions,
    };

    /// <summary>Counting sort of the cells by their code of one kind (cells without one are left out); returns each code's start in <paramref name="order"/>.</summary>
    private static int[] BucketByCode(IReadOnlyList<OrderCells> days, Breakdown kind, int codes, (int Day, int Cell)[] order)
    {
        var start = new int[codes + 1];
        foreach (var day in days)
        {
            foreach (var code in Codes(day, kind))
            {
                if (code != FactColumns.None) start[code + 1]++;
            }
        }
        for (var code = 0; code < codes; code++) start[code + 1] += start[code];
        var next = start[..^1];
        for (var d = 0; d < days.Count; d++)
        {
            var keys = Codes(days[d], kind);
            for (var cell = 0; cell < keys.Length; cell++)
            {
                if (keys[cell] != FactColumns.None) order[next[keys[cell]]++] = (d, cell);
            }
        }
        return start;
    }

    /// <summary>Revenue per customer code for one scope at a time; <see cref="Take"/> summarises and resets it.</summary>
    private sealed class PerCustomerSums(int customers)
    {
        private readonly decimal[] _revenue = new decimal[customers];
        private readonly bool[] _seen = new bool[customers];
        private int[] _touched = new int[16];
        private decimal[] _values = [];
        private int _count;

        public void Add(int customer, decimal amount)
        {
            if (!_seen[customer])
            {
                _seen[customer] = true;
                if (_count == _touched.Length) Array.Resize(ref _touched, _count * 2);
                _touched[_count++] = customer;
            }
            _revenue[customer] += amount;
        }

        public CustomerRevenue Take()
        {
            if (_values.Length < _count) _values = new decimal[_touched.Length];
            for (var i = 0; i < _count; i++)
            {
                var customer = _touched[i];
                _values[i] = _revenue[customer];
                _revenue[customer] = 0;
                _seen[customer] = false;
            }
            var result = FromRevenues(_values.AsSpan(0, _count));
            _count = 0;
            return result;
        }
    }

    /// <summary>
    /// Ranking money as integers of its smallest unit (when every value is one exactly) is several
    /// times cheaper than comparing decimals; the sum is the same exact decimal.
    /// </summary>
    private static class ScaledIntegers
    {
        private const int MaxScale = 8;
        private const long MaxMantissa = long.MaxValue / 100_000_000;

        public static bool TryTopSum(Span<decimal> values, int top, out decimal sum)
        {
            sum = 0;
            var scale = 0;
            foreach (var v in values) scale = Math.Max(scale, v.Scale);
            if (scale > MaxScale) return false;
            var keys = ArrayPool<long>.Shared.Rent(values.Length);
            try
            {
                for (var i = 0; i < values.Length; i++)
                {
                    if (!TryScale(values[i], scale, out keys[i])) return false;
                }
                var sorted = keys.AsSpan(0, values.Length);
                sorted.Sort();
                decimal units = 0;
                for (var i = values.Length - top; i < values.Length; i++) units += sorted[i];
                sum = units / Pow10(scale);
                return true;
            }
            finally
            {
                ArrayPool<long>.Shared.Return(keys);
            }
        }

        private static bool TryScale(decimal value, int scale, out long scaled)
        {
            Span<int> bits = stackalloc int[4];
            decimal.GetBits(value, bits);
            var mantissa = (uint)bits[0] | ((ulong)(uint)bits[1] << 32);
            scaled = 0;
            if (bits[2] != 0 || mantissa > MaxMantissa) return false;
            scaled = (long)mantissa * (long)Pow10(scale - value.Scale);
            if (value < 0) scaled = -scaled;
            return true;
        }

        private static decimal Pow10(int exponent)
        {
            decimal p = 1;
            for (var i = 0; i < exponent; i++) p *= 10;
            return p;
        }
    }
}
