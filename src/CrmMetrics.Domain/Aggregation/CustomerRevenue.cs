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
    /// kind (the kinds in parallel): the cells are first laid out as one set of columns, amounts as
    /// integers of their smallest unit when every amount is one exactly (as money is); cells are
    /// then bucketed by the kind's code (a counting sort, no hashing) and each bucket's revenue is
    /// summed per customer in an array indexed by customer code. Memory is bounded by the cells and
    /// the customers (pooled), time is linear in the cells.
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
        using var cells = PeriodCells.Of(days, total);
        var kinds = (Breakdown[])[Breakdown.Org, Breakdown.Channel, Breakdown.Staff, Breakdown.Segment, Breakdown.Region];
        foreach (var part in kinds.AsParallel().Select(kind => OfKind(cells, labels, kind)).ToList())
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
        var top = TopCount(n);
        if (!ScaledIntegers.TryTopSum(revenues, top, out var topRevenue))
        {
            LargestValues.MoveToEnd(revenues, top);
            topRevenue = 0;
            for (var i = n - top; i < n; i++) topRevenue += revenues[i];
        }
        return new CustomerRevenue(n, topRevenue);
    }

    private enum Breakdown { Org, Channel, Staff, Segment, Region }

    private static List<(string Scope, CustomerRevenue Revenue)> OfKind(PeriodCells cells, FactLabels labels, Breakdown kind)
    {
        var sums = new PerCustomerSums(labels.Customers.Count, cells);
        var customers = cells.Customers;
        if (kind == Breakdown.Org)
        {
            for (var cell = 0; cell < customers.Length; cell++) sums.Add(customers[cell], cell);
            return [(Scope.Org, sums.Take())];
        }

        var set = kind switch { Breakdown.Channel => labels.Channels, Breakdown.Staff => labels.Staff, Breakdown.Segment => labels.Segments, _ => labels.Regions };
        var codes = cells.Codes((int)kind - 1);
        var result = new List<(string, CustomerRevenue)>();
        var order = ArrayPool<int>.Shared.Rent(customers.Length);
        try
        {
            var start = BucketByCode(codes, set.Count, order);
            for (var code = 0; code < set.Count; code++)
            {
                if (start[code] == start[code + 1]) continue;
                for (var i = start[code]; i < start[code + 1]; i++)
                {
                    var cell = order[i];
                    sums.Add(customers[cell], cell);
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
            ArrayPool<int>.Shared.Return(order);
        }
        return result;
    }

    /// <summary>Counting sort of the cells by their code of one kind (cells without one are left out); returns each code's start in <paramref name="order"/>.</summary>
    private static int[] BucketByCode(ReadOnlySpan<int> keys, int codes, int[] order)
    {
        var start = new int[codes + 1];
        foreach (var code in keys)
        {
            if (code != FactColumns.None) start[code + 1]++;
        }
        for (var code = 0; code < codes; code++) start[code + 1] += start[code];
        var next = start[..^1];
        for (var cell = 0; cell < keys.Length; cell++)
        {
            if (keys[cell] != FactColumns.None) order[next[keys[cell]]++] = cell;
        }
        return start;
    }

    /// <summary>
    /// A period's order cells as one set of pooled columns. When every amount is exact as an integer
    /// of 10^-<see cref="Scale"/> and the absolute amounts sum within a long (so no customer's or
    /// scope's sum can overflow), <see cref="HasUnits"/> is true and <see cref="UnitArray"/> holds
    /// them so; otherwise the decimal amounts are summed.
    /// </summary>
    private sealed class PeriodCells : IDisposable
    {
        private readonly int _count;
        private readonly int[] _customers;
        private readonly int[][] _codes;
        private readonly decimal[] _amounts;
        private readonly long[] _units;

        private PeriodCells(int count)
        {
            _count = count;
            _customers = ArrayPool<int>.Shared.Rent(count);
            _codes = [.. Enumerable.Range(0, 4).Select(_ => ArrayPool<int>.Shared.Rent(count))];
            _amounts = ArrayPool<decimal>.Shared.Rent(count);
            _units = ArrayPool<long>.Shared.Rent(count);
        }

        public ReadOnlySpan<int> Customers => _customers.AsSpan(0, _count);
        /// <summary>The amounts as integers (valid when <see cref="HasUnits"/>), as an array for hot loops.</summary>
        public long[] UnitArray => _units;

        /// <summary>The amounts as decimals, as an array for hot loops.</summary>
        public decimal[] AmountArray => _amounts;
        public bool HasUnits { get; private set; }
        public int Scale { get; private set; }

        /// <summary>Codes of one breakdown kind: 0 channel, 1 staff, 2 segment, 3 region.</summary>
        public ReadOnlySpan<int> Codes(int kind) => _codes[kind].AsSpan(0, _count);

        public static PeriodCells Of(IReadOnlyList<OrderCells> days, int total)
        {
            var cells = new PeriodCells(total);
            var at = 0;
            foreach (var day in days)
            {
                day.Customers.CopyTo(cells._customers.AsSpan(at));
                day.Channels.CopyTo(cells._codes[0].AsSpan(at));
                day.Staff.CopyTo(cells._codes[1].AsSpan(at));
                day.Segments.CopyTo(cells._codes[2].AsSpan(at));
                day.Regions.CopyTo(cells._codes[3].AsSpan(at));
                day.Amounts.CopyTo(cells._amounts.AsSpan(at));
                at += day.Count;
            }
            cells.HasUnits = ScaledIntegers.TryScaleAll(cells._amounts.AsSpan(0, total), cells._units.AsSpan(0, total), out var scale);
            cells.Scale = scale;
            return cells;
        }

        public void Dispose()
        {
            ArrayPool<int>.Shared.Return(_customers);
            foreach (var codes in _codes) ArrayPool<int>.Shared.Return(codes);
            ArrayPool<decimal>.Shared.Return(_amounts);
            ArrayPool<long>.Shared.Return(_units);
        }
    }

    /// <summary>Revenue per customer code for one scope at a time; <see cref="Take"/> summarises and resets it.</summary>
    private sealed class PerCustomerSums(int customers, PeriodCells cells)
    {
        private readonly long[]? _cellUnits = cells.HasUnits ? cells.UnitArray : null;
        private readonly decimal[] _cellAmounts = cells.AmountArray;
        private readonly long[] _units = new long[cells.HasUnits ? customers : 0];
        private readonly decimal[] _revenue = new decimal[cells.HasUnits ? 0 : customers];
        private readonly bool[] _seen = new bool[customers];
        private int[] _touched = new int[16];
        private long[] _unitValues = [];
        private decimal[] _values = [];
        private int _count;

        /// <summary>Adds the amount of <paramref name="cell"/> to <paramref name="customer"/>.</summary>
        public void Add(int customer, int cell)
        {
            if (!_seen[customer])
            {
                _seen[customer] = true;
                if (_count == _touched.Length) Array.Resize(ref _touched, _count * 2);
                _touched[_count++] = customer;
            }
            if (_cellUnits is not null) _units[customer] += _cellUnits[cell];
            else _revenue[customer] += _cellAmounts[cell];
        }

        public CustomerRevenue Take()
        {
            var result = _cellUnits is not null ? TakeUnits() : TakeDecimals();
            foreach (var customer in _touched.AsSpan(0, _count)) _seen[customer] = false;
            _count = 0;
            return result;
        }

        private CustomerRevenue TakeUnits()
        {
            if (_unitValues.Length < _count) _unitValues = new long[_touched.Length];
            for (var i = 0; i < _count; i++)
            {
                var customer = _touched[i];
                _unitValues[i] = _units[customer];
                _units[customer] = 0;
            }
            var values = _unitValues.AsSpan(0, _count);
            var top = TopCount(_count);
            LargestValues.MoveToEnd(values, top);
            decimal sum = 0;
            for (var i = _count - top; i < _count; i++) sum += values[i];
            return new CustomerRevenue(_count, sum / ScaledIntegers.Pow10(cells.Scale));
        }

        private CustomerRevenue TakeDecimals()
        {
            if (_values.Length < _count) _values = new decimal[_touched.Length];
            for (var i = 0; i < _count; i++)
            {
                var customer = _touched[i];
                _values[i] = _revenue[customer];
                _revenue[customer] = 0;
            }
            return FromRevenues(_values.AsSpan(0, _count));
        }
    }

    /// <summary>How many customers the top fifth is: ⌈20 %⌉ of them.</summary>
    private static int TopCount(int customers) => (int)Math.Ceiling(0.2m * customers);

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
                var ranked = keys.AsSpan(0, values.Length);
                LargestValues.MoveToEnd(ranked, top);
                decimal units = 0;
                for (var i = values.Length - top; i < values.Length; i++) units += ranked[i];
                sum = units / Pow10(scale);
                return true;
            }
            finally
            {
                ArrayPool<long>.Shared.Return(keys);
            }
        }

        /// <summary>
        /// Every value as an integer of 10^-scale, the scale being the largest among them; false when
        /// one is not exact at a scale of at most 8, or when their absolute values sum beyond a long.
        /// </summary>
        public static bool TryScaleAll(ReadOnlySpan<decimal> values, Span<long> scaled, out int scale)
        {
            scale = 0;
            foreach (var v in values) scale = Math.Max(scale, v.Scale);
            if (scale > MaxScale) return false;
            long absolute = 0;
            for (var i = 0; i < values.Length; i++)
            {
                if (!TryScale(values[i], scale, out scaled[i])) return false;
                var magnitude = Math.Abs(scaled[i]);
                if (absolute > long.MaxValue - magnitude) return false;
                absolute += magnitude;
            }
            return true;
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

        public static decimal Pow10(int exponent)
        {
            decimal p = 1;
            for (var i = 0; i < exponent; i++) p *= 10;
            return p;
        }
    }
}
