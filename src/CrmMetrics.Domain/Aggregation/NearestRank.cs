namespace CrmMetrics.Domain.Aggregation;

/// <summary>Nearest-rank percentiles: the ⌈q·n⌉-th smallest value, with q in whole percent so no float rounding moves the rank.</summary>
public static class NearestRank
{
    /// <summary>1-based rank for percentile <paramref name="percent"/> (1–100) among <paramref name="n"/> values.</summary>
    public static long Rank(int percent, long n)
    {
        if (percent is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(percent));
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n));
        return (percent * n + 99) / 100;
    }
}
