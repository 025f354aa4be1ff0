using CrmMetrics.Domain.Aggregation;

namespace CrmMetrics.Domain.Tests.Aggregation;

public class DurationDigestTests
{
    [Theory]
    [InlineData(50, 10, 5)]
    [InlineData(90, 10, 9)]
    [InlineData(90, 11, 10)]
    [InlineData(50, 1, 1)]
    [InlineData(100, 7, 7)]
    [InlineData(1, 7, 1)]
    public void Nearest_rank_is_the_ceiling_of_q_times_n_without_float_error(int percent, long n, long rank) =>
        Assert.Equal(rank, NearestRank.Rank(percent, n));

    [Fact]
    public void Small_digests_are_exact()
    {
        var d = new DurationDigest();
        foreach (var v in new[] { 5.0, 1, 4, 2, 3, 10, 9, 8, 7, 6 }) d.Add(v);
        Assert.Equal(5, d.Percentile(50));
        Assert.Equal(9, d.Percentile(90));
        Assert.Null(new DurationDigest().Percentile(50));
    }

    [Fact]
    public void Merging_exact_digests_equals_one_digest_of_all_values()
    {
        var a = new DurationDigest();
        var b = new DurationDigest();
        for (var i = 1; i <= 100; i++) (i % 2 == 0 ? a : b).Add(i);
        a.Merge(b);
        Assert.Equal(50, a.Percentile(50));
        Assert.Equal(90, a.Percentile(90));
    }

    [Fact]
    public void Large_digests_become_sketches_within_one_percent()
    {
        var random = new Random(42);
        var values = Enumerable.Range(0, 50_000).Select(_ => Math.Exp(random.NextDouble() * 8) - 0.5).ToList();
        var parts = Enumerable.Range(0, 10).Select(_ => new DurationDigest()).ToArray();
        for (var i = 0; i < values.Count; i++) parts[i % 10].Add(values[i]);
        var merged = new DurationDigest();
        foreach (var p in parts) merged.Merge(p);
        Assert.Null(merged.Exact);
        var sorted = values.Order().ToArray();
        foreach (var percent in new[] { 1, 10, 50, 90, 99 })
        {
            var exact = sorted[NearestRank.Rank(percent, sorted.Length) - 1];
            var estimate = merged.Percentile(percent)!.Value;
            Assert.InRange(estimate, exact - Math.Abs(exact) * 0.01, exact + Math.Abs(exact) * 0.01);
        }
    }
}
