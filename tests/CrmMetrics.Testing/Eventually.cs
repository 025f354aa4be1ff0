using System.Diagnostics;

namespace CrmMetrics.Testing;

/// <summary>Waits for a condition with a deadline, polling; fails with what was awaited. Never a blind sleep.</summary>
public static class Eventually
{
    public static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan deadline, string what)
    {
        var watch = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(20);
        T? last = default;
        while (watch.Elapsed < deadline)
        {
            last = await probe();
            if (done(last)) return last;
            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 500));
        }
        throw new TimeoutException($"Waited {deadline.TotalSeconds:0} s for {what}; last seen: {last}");
    }

    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan deadline, string what) =>
        await WaitAsync(condition, b => b, deadline, what);
}
