using System.Numerics;

namespace CrmMetrics.Domain.Aggregation;

/// <summary>
/// Moves the largest values of a span to its end without sorting it: a selection (quickselect with a
/// three-way partition, so runs of equal amounts cost one pass), linear on average where a sort is
/// n log n. The top fifth's revenue needs only which values are the largest, not their order; every
/// scope of a period asks for it, so with every breakdown the sorts were a large share of the merge.
/// </summary>
public static class LargestValues
{
    /// <summary>
    /// Reorders <paramref name="values"/> so that its last <paramref name="count"/> elements are its largest
    /// (in no particular order) and every element before them is at most the least of them.
    /// </summary>
    public static void MoveToEnd<T>(Span<T> values, int count) where T : struct, IComparisonOperators<T, T, bool>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, values.Length);
        if (count == 0 || count == values.Length) return;
        var k = values.Length - count; // the first index of the largest, in ascending order
        int lo = 0, hi = values.Length - 1;
        // Past this many partitions the pivots are unlucky (adversarial input): sort what is left, n log n at worst.
        var budget = 2 * BitOperations.Log2((uint)values.Length) + 4;
        while (hi > lo)
        {
            if (budget-- == 0)
            {
                values[lo..(hi + 1)].Sort();
                return;
            }
            var pivot = MedianOfThree(values[lo], values[lo + (hi - lo) / 2], values[hi]);
            // [lo, lt) < pivot, [lt, gt] == pivot, (gt, hi] > pivot.
            int lt = lo, i = lo, gt = hi;
            while (i <= gt)
            {
                var v = values[i];
                if (v < pivot)
                {
                    values[i] = values[lt];
                    values[lt] = v;
                    lt++;
                    i++;
                }
                else if (v > pivot)
                {
                    values[i] = values[gt];
                    values[gt] = v;
                    gt--;
                }
                else i++;
            }
            if (k < lt) hi = lt - 1;
            else if (k > gt) lo = gt + 1;
            else return; // k falls among values equal to the pivot: everything from k on is at least it
        }
    }

    private static T MedianOfThree<T>(T a, T b, T c) where T : struct, IComparisonOperators<T, T, bool>
    {
        if (a > b) (a, b) = (b, a);
        if (b > c) b = c;
        return a > b ? a : b;
    }
}
