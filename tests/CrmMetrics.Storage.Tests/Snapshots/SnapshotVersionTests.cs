using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Storage.Snapshots;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Snapshots;

public class SnapshotVersionTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Concurrent_deliveries_of_one_run_share_a_version_and_the_next_run_gets_the_next_number()
    {
        var store = new SnapshotStore(await azurite.AccountAsync());
        var first = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => store.ReserveVersionAsync(Grain.Month, "2026-02", "run-a", default)));
        Assert.All(first, v => Assert.Equal(1, v));
        Assert.Equal(2, await store.ReserveVersionAsync(Grain.Month, "2026-02", "run-b", default));
        Assert.Equal(2, await store.ReserveVersionAsync(Grain.Month, "2026-02", "run-b", default));
        Assert.Equal(1, await store.ReserveVersionAsync(Grain.Month, "2026-03", "run-b", default));
    }

    [Fact]
    public async Task A_version_written_again_is_read_from_the_attempt_its_pointer_names_and_the_reserving_delivery_does_not_replace_it()
    {
        var store = new SnapshotStore(await azurite.AccountAsync());
        var (grain, key, now) = (Grain.Month, "2026-07", DateTimeOffset.UtcNow);
        var version = await store.ReserveVersionAsync(grain, key, "run-a", default);
        SnapshotRow Row(string scope) => new()
        {
            Indicator = "goal.attainment", Family = "goals", Scope = scope, Grain = grain, Period = key, Unit = "%", Direction = Direction.Higher, Kind = IndicatorKind.Internal,
            RunId = "run-a", Version = version, ComputedAt = now,
        };
        // The reserving delivery's rows, and a retry's without one of them.
        await store.WriteAsync([Row("goal:kept"), Row("goal:gone")], null, default);
        var retry = SnapshotStore.NewAttempt();
        await store.WriteAsync([Row("goal:kept")], retry, default);

        async Task<LatestSnapshot> PointerAsync() => (await store.LatestAsync(grain, key, default))!;
        Assert.True(await store.PromoteAsync(grain, key, version, "run-a", now, 1, default, attempt: retry));
        var latest = await PointerAsync();
        Assert.Equal((version, retry, 1), (latest.Version, latest.Attempt, latest.Rows));
        Assert.Equal(["goal:kept"], (await store.ReadVersionAsync(grain, key, version, latest.Attempt, new SnapshotFilter(), default)).Select(r => r.Scope));
        // The reserving delivery, finishing late, leaves the retry's rows in place.
        Assert.False(await store.PromoteAsync(grain, key, version, "run-a", now, 2, default));
        Assert.Equal(latest, await PointerAsync());

        // A newer version promoted, the retried one is still found by number.
        var newer = await store.ReserveVersionAsync(grain, key, "run-b", default);
        Assert.True(await store.PromoteAsync(grain, key, newer, "run-b", now, 0, default));
        Assert.Null((await PointerAsync()).Attempt);
        Assert.Equal(retry, await store.AttemptOfAsync(grain, key, version, default));
        // Another retry of the older version, done after the newer one is promoted, records where its rows are without being promoted.
        var late = SnapshotStore.NewAttempt();
        Assert.False(await store.PromoteAsync(grain, key, version, "run-a", now, 1, default, attempt: late));
        Assert.Equal((newer, (string?)null), ((await PointerAsync()).Version, (await PointerAsync()).Attempt));
        Assert.Equal(late, await store.AttemptOfAsync(grain, key, version, default));
    }

    [Fact]
    public void The_attempts_a_pointer_keeps_read_back_as_written_and_keep_the_newest_versions()
    {
        var attempts = VersionAttempts.None.With(3, "abc").With(7, "def");
        Assert.Equal("3:abc,7:def", attempts.ToString());
        Assert.Equal("def", VersionAttempts.Parse(attempts.ToString()).Of(7));
        Assert.Null(VersionAttempts.Parse(attempts.ToString()).Of(4));
        Assert.Equal(VersionAttempts.None, VersionAttempts.Parse(null));
        var many = Enumerable.Range(1, VersionAttempts.MaxKept + 2).Aggregate(VersionAttempts.None, (a, v) => a.With(v, "x" + v));
        Assert.Null(many.Of(2));
        Assert.Equal("x3", many.Of(3));
        Assert.Equal("x" + (VersionAttempts.MaxKept + 2), many.Of(VersionAttempts.MaxKept + 2));
    }
}
