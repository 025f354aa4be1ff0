namespace CrmMetrics.LocalHost.Tests;

/// <summary>
/// A clock that runs as the real one from another time, and that a test can move on at once (to an occurrence months
/// away, or past one while a run is busy). Its timers fire after real time as usual, or at once when a jump passes
/// the time they are due; a test can see which it has pending.
/// </summary>
public sealed class ShiftedClock(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<ShiftedTimer> _timers = [];
    private long _offsetTicks = (start - System.GetUtcNow()).Ticks;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>
    /// Whether a timer is pending that is due at a time <paramref name="due"/> accepts. (<c>Task.Delay</c> sets its timer
    /// for whole milliseconds, read from the clock a moment after its caller did: a wait until an instant is due about then.)
    /// </summary>
    public bool Waits(Func<DateTimeOffset, bool> due)
    {
        lock (_gate) return _timers.Any(t => due(t.Due));
    }

    /// <summary>Moves the clock on to <paramref name="instant"/>; timers due by then fire at once, the others when they come due.</summary>
    public void JumpTo(DateTimeOffset instant)
    {
        if (instant < GetUtcNow()) throw new ArgumentOutOfRangeException(nameof(instant), "The clock only moves on.");
        Interlocked.Exchange(ref _offsetTicks, (instant - System.GetUtcNow()).Ticks);
        List<ShiftedTimer> timers;
        lock (_gate) timers = [.. _timers];
        foreach (var timer in timers) timer.Refresh();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ShiftedTimer(this, callback, state);
        lock (_gate) _timers.Add(timer);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>A real timer set for a time on this clock.</summary>
    private sealed class ShiftedTimer : ITimer
    {
        private readonly ShiftedClock _clock;
        private readonly ITimer _inner;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;

        public ShiftedTimer(ShiftedClock clock, TimerCallback callback, object? state)
        {
            _clock = clock;
            _inner = System.CreateTimer(_ =>
            {
                lock (_clock._gate)
                {
                    if (_period == Timeout.InfiniteTimeSpan) _clock._timers.Remove(this);
                    else Due += _period;
                }
                callback(state);
            }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        /// <summary>When it is due on the clock; <see cref="DateTimeOffset.MaxValue"/> when it is not set.</summary>
        public DateTimeOffset Due { get; private set; } = DateTimeOffset.MaxValue;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (_clock._gate)
            {
                Due = dueTime == Timeout.InfiniteTimeSpan ? DateTimeOffset.MaxValue : _clock.GetUtcNow() + dueTime;
                _period = period;
            }
            return _inner.Change(dueTime, period);
        }

        /// <summary>Sets the real timer again for what is left until it is due, after the clock jumped.</summary>
        public void Refresh()
        {
            TimeSpan left;
            lock (_clock._gate)
            {
                if (Due == DateTimeOffset.MaxValue) return;
                left = Due - _clock.GetUtcNow();
            }
            _inner.Change(left > TimeSpan.Zero ? left : TimeSpan.Zero, _period);
        }

        public void Dispose()
        {
            lock (_clock._gate) _clock._timers.Remove(this);
            _inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
