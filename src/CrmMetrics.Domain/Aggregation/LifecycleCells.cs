namespace CrmMetrics.Domain.Aggregation;

/// <summary>What a customer's lifecycle facts of one day did: churned them, made them active (new or won back), or both.</summary>
[Flags]
public enum LifecycleMoves : byte
{
    None = 0,
    Churned = 1,
    Activated = 2,
}

/// <summary>
/// A day's customers whose lifecycle changed, each once with what changed and the segment and region the
/// day attributed them to; codes refer to the <see cref="Facts.FactLabels"/> of the day's order cells. Churn
/// and retention count customers (indicators.md: "customers churned in P", "customers who became active
/// in P"), and a customer who churns, comes back and churns again within a period is one customer: no
/// per-day count adds up to that, so a period takes the union of its days' cells
/// (<see cref="PeriodAggregate"/>).
/// </summary>
public sealed class LifecycleCells
{
    private readonly Dictionary<int, int> _cellOf = [];
    private int[] _customer = [];
    private int[] _segment = [];
    private int[] _region = [];
    private LifecycleMoves[] _moves = [];

    public int Count { get; private set; }

    public ReadOnlySpan<int> Customers => _customer.AsSpan(0, Count);
    public ReadOnlySpan<int> Segments => _segment.AsSpan(0, Count);
    public ReadOnlySpan<int> Regions => _region.AsSpan(0, Count);
    public ReadOnlySpan<LifecycleMoves> Moves => _moves.AsSpan(0, Count);

    /// <summary>Makes room for <paramref name="capacity"/> cells in all (a reader that knows how many it appends reserves them at once).</summary>
    public void Reserve(int capacity)
    {
        if (capacity <= _customer.Length) return;
        Array.Resize(ref _customer, capacity);
        Array.Resize(ref _segment, capacity);
        Array.Resize(ref _region, capacity);
        Array.Resize(ref _moves, capacity);
    }

    /// <summary>Records a move of the customer (merged with their other moves of the day).</summary>
    public void Add(int customer, int segment, int region, LifecycleMoves moves)
    {
        if (_cellOf.TryGetValue(customer, out var cell))
        {
            _moves[cell] |= moves;
            return;
        }
        _cellOf[customer] = Append(customer, segment, region, moves);
    }

    /// <summary>Appends a cell known to be distinct from the others (as read back from storage).</summary>
    public int Append(int customer, int segment, int region, LifecycleMoves moves)
    {
        if (Count == _customer.Length) Reserve(Math.Max(16, Count * 2));
        var cell = Count++;
        _customer[cell] = customer;
        _segment[cell] = segment;
        _region[cell] = region;
        _moves[cell] = moves;
        return cell;
    }
}

/// <summary>Distinct customers of a customer-state scope who churned, and who became active, in a period.</summary>
public readonly record struct CustomerMoves(long Churned, long Activated)
{
    /// <summary>These counts with one more customer, who made <paramref name="moves"/> in the period.</summary>
    public CustomerMoves With(LifecycleMoves moves) => new(
        Churned + ((moves & LifecycleMoves.Churned) != 0 ? 1 : 0),
        Activated + ((moves & LifecycleMoves.Activated) != 0 ? 1 : 0));
}
