using CrmMetrics.Domain.Aggregation;

namespace CrmMetrics.Domain.Tests.Aggregation;

/// <summary>The selection behind the top fifth's revenue: the largest values at the end, against a sort.</summary>
public class LargestValuesTests
{
    public static TheoryData<string, long[]> Shapes()
    {
        var random = new Random(11);
        var data = new TheoryData<string, long[]>
        {
            { "one", [42] },
            { "two", [7, 3] },
            { "all equal", Enumerable.Repeat(5L, 300).ToArray() },
            { "ascending", Enumerable.Range(0, 1000).Select(i => (long)i).ToArray() },
            { "descending", Enumerable.Range(0, 1000).Select(i => (long)(1000 - i)).ToArray() },
            { "few distinct amounts", Enumerable.Range(0, 5000).Select(_ => (long)random.Next(4) * 1000).ToArray() },
            { "random with negatives", Enumerable.Range(0, 5000).Select(_ => random.NextInt64(-1_000_000, 1_000_000)).ToArray() },
            { "organ pipe", Enumerable.Range(0, 2001).Select(i => (long)Math.Min(i, 2000 - i)).ToArray() },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_last_values_are_the_largest_for_every_count(string shape, long[] input)
    {
        var sorted = input.Order().ToArray();
        foreach (var count in new[] { 0, 1, input.Length / 5, (input.Length + 4) / 5, input.Length / 2, input.Length - 1, input.Length }.Where(c => c >= 0 && c <= input.Length).Distinct())
        {
            var values = (long[])input.Clone();
            LargestValues.MoveToEnd(values.AsSpan(), count);

            Assert.True(values.Order().SequenceEqual(sorted), $"{shape}, {count}: the values changed");
            Assert.True(values[^count..].Order().SequenceEqual(sorted[^count..]), $"{shape}, {count}: the last {count} are not the largest");
            if (count > 0 && count < values.Length) Assert.True(values[..^count].Max() <= values[^count..].Min(), $"{shape}, {count}: a smaller value follows a larger one across the boundary");
        }
    }

    [Fact]
    public void Decimals_are_selected_too()
    {
        decimal[] values = [1.5m, 10m, 0.25m, 10m, 3m, -2m];
        LargestValues.MoveToEnd(values.AsSpan(), 2);
        Assert.Equal([10m, 10m], values[^2..]);
    }

    [Fact]
    public void A_count_outside_the_span_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LargestValues.MoveToEnd(new long[3].AsSpan(), 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => LargestValues.MoveToEnd(new long[3].AsSpan(), -1));
    }
}
