using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Lifecycle;

namespace CrmMetrics.Domain.Tests.Lifecycle;

public class CustomerTimelineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static LifecycleEvent E(string id, FactType type, int day, string? segment = null) => new(id, type, T0.AddDays(day), segment);

    private static LifecycleEffect[] EffectsOf(params LifecycleEvent[] events) =>
        new CustomerTimeline(events).Effects().OrderBy(x => x.Event.Id).Select(x => x.Effect).ToArray();

    [Fact]
    public void First_acquisition_is_new_then_churn_then_acquired_again_is_a_win_back()
    {
        Assert.Equal(
            [LifecycleEffect.New, LifecycleEffect.Churn, LifecycleEffect.WinBack],
            EffectsOf(E("1", FactType.CustomerAcquired, 0), E("2", FactType.CustomerChurned, 10), E("3", FactType.CustomerAcquired, 20)));
    }

    [Fact]
    public void Arrival_order_does_not_change_any_effect()
    {
        var events = new[]
        {
            E("a", FactType.CustomerAcquired, 0, "smb"), E("b", FactType.CustomerChurned, 5), E("c", FactType.CustomerReactivated, 7),
            E("d", FactType.CustomerAcquired, 8, "ent"), E("e", FactType.CustomerChurned, 9), E("f", FactType.CustomerChurned, 10),
        };
        var expected = EffectsOf(events);
        var random = new Random(7);
        for (var i = 0; i < 50; i++)
        {
            var shuffled = events.OrderBy(_ => random.Next()).ToArray();
            var timeline = new CustomerTimeline(shuffled.Take(3));
            timeline.Add(shuffled.Skip(3));
            Assert.Equal(expected, timeline.Effects().OrderBy(x => x.Event.Id).Select(x => x.Effect).ToArray());
            Assert.Equal("smb", timeline.Segment);
        }
        Assert.Equal([LifecycleEffect.New, LifecycleEffect.Churn, LifecycleEffect.WinBack, LifecycleEffect.None, LifecycleEffect.Churn, LifecycleEffect.None], expected);
    }

    [Fact]
    public void A_second_acquisition_while_active_and_a_second_churn_change_nothing()
    {
        Assert.Equal([LifecycleEffect.New, LifecycleEffect.None, LifecycleEffect.Churn, LifecycleEffect.None],
            EffectsOf(E("1", FactType.CustomerAcquired, 0), E("2", FactType.CustomerAcquired, 1), E("3", FactType.CustomerChurned, 2), E("4", FactType.CustomerChurned, 3)));
    }

    [Fact]
    public void An_acquisition_after_a_churn_counts_as_a_win_back_even_without_an_earlier_acquisition()
    {
        Assert.Equal([LifecycleEffect.None, LifecycleEffect.WinBack], EffectsOf(E("1", FactType.CustomerChurned, 0), E("2", FactType.CustomerAcquired, 1)));
    }

    [Fact]
    public void Segment_comes_from_the_earliest_acquisition_even_when_it_arrives_last()
    {
        var timeline = new CustomerTimeline([E("late", FactType.CustomerAcquired, 30, "ent")]);
        Assert.Equal("ent", timeline.Segment);
        Assert.True(timeline.Add([E("early", FactType.CustomerAcquired, 1, "smb")]));
        Assert.Equal("smb", timeline.Segment);
        Assert.False(timeline.Add([E("early", FactType.CustomerAcquired, 1, "smb")]));
    }

    [Fact]
    public void Same_instant_orders_acquired_before_churned()
    {
        Assert.Equal([LifecycleEffect.New, LifecycleEffect.Churn], EffectsOf(E("1", FactType.CustomerAcquired, 0), E("2", FactType.CustomerChurned, 0)));
    }
}
