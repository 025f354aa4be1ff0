namespace CrmMetrics.Functions.Tests.Support;

/// <summary>A clock standing at one instant, for services built in a test at a chosen time.</summary>
public sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
