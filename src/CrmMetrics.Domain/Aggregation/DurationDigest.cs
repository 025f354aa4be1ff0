namespace CrmMetrics.Domain.Aggregation;

/// <summary>
/// A mergeable distribution of durations (hours). Exact while small, so percentiles are exact on
/// ordinary data; past <see cref="ExactLimit"/> values it becomes a log-bucket sketch whose
/// relative error is at most <see cref="RelativeAccuracy"/> (DDSketch), which keeps day partials small.
/// </summary>
public sealed class DurationDigest
{
    public const int ExactLimit = 4096;
    public const double RelativeAccuracy = 0.005;
    private static readonly double Gamma = (1 + RelativeAccuracy) / (1 - RelativeAccuracy);
    private static readonly double LogGamma = Math.Log(Gamma);

    /// <summary>Exact values while small; null once the digest has become a sketch.</summary>
    public List<double>? Exact { get; set; } = [];

    /// <summary>Sketch buckets: positive values by index, negative values by index of their magnitude.</summary>
    public Dictionary<int, long>? Positive { get; set; }
    public Dictionary<int, long>? Negative { get; set; }
    public long Zeros { get; set; }

    public long Count => Exact?.Count ?? (Zeros + Positive!.Values.Sum() + Negative!.Values.Sum());

    // Whether Exact is in ascending order, so percentiles of one digest sort it once.
    private bool _sorted;

    public void Add(double value)
    {
        if (Exact is not null)
        {
            Exact.Add(value);
            _sorted = false;
            if (Exact.Count > ExactLimit) ToSketch();
            return;
        }
        AddToSketch(value, 1);
    }

    public void Merge(DurationDigest other)
    {
        if (other.Exact is not null)
        {
            foreach (var v in other.Exact) Add(v);
            return;
        }
        if (Exact is not null) ToSketch();
        Zeros += other.Zeros;
        foreach (var (k, c) in other.Positive!) Positive![k] = Positive.GetValueOrDefault(k) + c;
        foreach (var (k, c) in other.Negative!) Negative![k] = Negative.GetValueOrDefault(k) + c;
    }

    /// <summary>The nearest-rank percentile, or null without values.</summary>
    public double? Percentile(int percent)
    {
        var n = Count;
        if (n == 0) return null;
        var rank = NearestRank.Rank(percent, n);
        if (Exact is not null)
        {
            if (!_sorted) Exact.Sort();
            _sorted = true;
            return Exact[(int)rank - 1];
        }

        // Walk from the most negative to the most positive value.
        long seen = 0;
        foreach (var (k, c) in Negative!.OrderByDescending(b => b.Key))
        {
            seen += c;
            if (seen >= rank) return -BucketValue(k);
        }
        seen += Zeros;
        if (seen >= rank) return 0;
        foreach (var (k, c) in Positive!.OrderBy(b => b.Key))
        {
            seen += c;
            if (seen >= rank) return BucketValue(k);
        }
        return BucketValue(Positive!.Keys.Max());
    }

    private void ToSketch()
    {
        var values = Exact!;
        Exact = null;
        Positive = [];
        Negative = [];
        Zeros = 0;
        foreach (var v in values) AddToSketch(v, 1);
    }

    private void AddToSketch(double value, long count)
    {
        // Magnitudes below a microsecond count as zero: their relative error has no meaning.
        const double MinMagnitude = 1e-9;
        if (Math.Abs(value) < MinMagnitude) { Zeros += count; return; }
        var index = (int)Math.Ceiling(Math.Log(Math.Abs(value)) / LogGamma);
        var buckets = value > 0 ? Positive! : Negative!;
        buckets[index] = buckets.GetValueOrDefault(index) + count;
    }

    // The bucket (γ^(i−1), γ^i] is represented by the value whose relative error to both ends is α.
    private static double BucketValue(int index) => 2 * Math.Pow(Gamma, index) / (Gamma + 1);
}
