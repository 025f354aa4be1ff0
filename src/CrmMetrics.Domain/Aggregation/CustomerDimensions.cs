using CrmMetrics.Domain.Facts;

namespace CrmMetrics.Domain.Aggregation;

/// <summary>A customer's breakdown attributes, from their first <c>customer.acquired</c>.</summary>
public readonly record struct CustomerDimension(string? Segment, string? Region)
{
    public static readonly CustomerDimension Unknown = new(null, null);
}

/// <summary>
/// Each customer's segment and region as label codes, indexed by customer code, for the
/// aggregator's hot loop. A customer not set, or set without a segment or region, is in the
/// <c>unknown</c> one.
/// </summary>
public sealed class CustomerDimensions
{
    private readonly FactLabels _labels;
    private readonly int _unknownSegment;
    private readonly int _unknownRegion;
    private int[] _segment = [];
    private int[] _region = [];
    private bool[] _set = [];

    public CustomerDimensions(FactLabels labels)
    {
        _labels = labels;
        _unknownSegment = labels.Segments.Code(Scope.Unknown);
        _unknownRegion = labels.Regions.Code(Scope.Unknown);
    }

    public bool Has(int customer) => (uint)customer < (uint)_set.Length && _set[customer];

    public void Set(int customer, CustomerDimension dimension) =>
        Set(customer, _labels.Segments.Code(dimension.Segment), _labels.Regions.Code(dimension.Region));

    /// <summary>Sets a customer's codes; <see cref="FactColumns.None"/> stands for unknown.</summary>
    public void Set(int customer, int segment, int region)
    {
        if (customer >= _set.Length)
        {
            var old = _set.Length;
            var capacity = Math.Max(customer + 1, Math.Max(64, old * 2));
            Array.Resize(ref _segment, capacity);
            Array.Resize(ref _region, capacity);
            Array.Resize(ref _set, capacity);
        }
        _segment[customer] = segment == FactColumns.None ? _unknownSegment : segment;
        _region[customer] = region == FactColumns.None ? _unknownRegion : region;
        _set[customer] = true;
    }

    public int SegmentOf(int customer) => Has(customer) ? _segment[customer] : _unknownSegment;

    public int RegionOf(int customer) => Has(customer) ? _region[customer] : _unknownRegion;
}
