using CrmMetrics.Domain.Facts;

namespace CrmMetrics.Domain.Aggregation;

/// <summary>
/// A day's order revenue per (customer, channel, staff), each cell with the segment and region the
/// day attributed its customer to; codes refer to <see cref="Labels"/>. Revenue per ordering
/// customer and the strategically significant customers' share need each scope's revenue per
/// customer over the whole period, which no per-day sum gives: a period derives it from these cells
/// for every scope at once (<see cref="CustomerRevenue"/>). Held as columns: one cell is five
/// integers and an amount, however many scopes it counts in.
/// </summary>
public sealed class OrderCells(FactLabels labels)
{
    private int[] _customer = [];
    private int[] _channel = [];
    private int[] _staff = [];
    private int[] _segment = [];
    private int[] _region = [];
    private decimal[] _amount = [];

    // Cells of each customer as a chain (head by customer code, next by cell), built only by Add.
    private int[] _head = [];
    private int[] _next = [];

    public FactLabels Labels { get; } = labels;
    public int Count { get; private set; }

    public ReadOnlySpan<int> Customers => _customer.AsSpan(0, Count);
    public ReadOnlySpan<int> Channels => _channel.AsSpan(0, Count);
    public ReadOnlySpan<int> Staff => _staff.AsSpan(0, Count);
    public ReadOnlySpan<int> Segments => _segment.AsSpan(0, Count);
    public ReadOnlySpan<int> Regions => _region.AsSpan(0, Count);
    public ReadOnlySpan<decimal> Amounts => _amount.AsSpan(0, Count);

    /// <summary>
    /// Makes room for <paramref name="capacity"/> cells in all. A reader that knows how many cells it
    /// appends reserves them at once: growing by doubling would allocate about twice the columns (a
    /// period's days hold some 10,000 cells each at a million facts a month) and copy them on the way.
    /// </summary>
    public void Reserve(int capacity)
    {
        if (capacity <= _customer.Length) return;
        Array.Resize(ref _customer, capacity);
        Array.Resize(ref _channel, capacity);
        Array.Resize(ref _staff, capacity);
        Array.Resize(ref _segment, capacity);
        Array.Resize(ref _region, capacity);
        Array.Resize(ref _amount, capacity);
    }

    /// <summary>
    /// Makes room for <paramref name="more"/> cells beyond those held: exactly when none are held yet, else at
    /// least doubling, so a day added page by page still copies its cells a bounded number of times.
    /// </summary>
    public void ReserveMore(int more)
    {
        var needed = Count + more;
        if (needed > _customer.Length) Reserve(Count == 0 ? needed : Math.Max(needed, _customer.Length * 2));
    }

    /// <summary>Adds an order's amount to its cell (a customer with a zero-amount order still has one).</summary>
    public void Add(int customer, int channel, int staff, int segment, int region, decimal amount)
    {
        if (customer >= _head.Length)
        {
            // Every customer the labels know at once: their codes are what indexes the chains.
            var old = _head.Length;
            Array.Resize(ref _head, Math.Max(customer + 1, Math.Max(old * 2, Labels.Customers.Count)));
            _head.AsSpan(old).Fill(-1);
        }
        for (var cell = _head[customer]; cell >= 0; cell = _next[cell])
        {
            if (_channel[cell] == channel && _staff[cell] == staff)
            {
                _amount[cell] += amount;
                return;
            }
        }
        var added = Append(customer, channel, staff, segment, region, amount);
        if (_next.Length < _customer.Length) Array.Resize(ref _next, _customer.Length);
        _next[added] = _head[customer];
        _head[customer] = added;
    }

    /// <summary>Appends a cell known to be distinct from the others (as read back from storage).</summary>
    public int Append(int customer, int channel, int staff, int segment, int region, decimal amount)
    {
        if (Count == _customer.Length) Reserve(Math.Max(64, Count * 2));
        var cell = Count++;
        _customer[cell] = customer;
        _channel[cell] = channel;
        _staff[cell] = staff;
        _segment[cell] = segment;
        _region[cell] = region;
        _amount[cell] = amount;
        return cell;
    }
}
