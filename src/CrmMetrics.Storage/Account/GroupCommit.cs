namespace CrmMetrics.Storage.Account;

/// <summary>
/// Writes that callers in this process ask for at about the same time, done as one: a caller's
/// items join the next write, and the caller returns once a write holding them succeeded (or with
/// that write's failure). While one write is in flight the next callers' items gather, so under
/// load many small writes become a few larger ones; alone, a caller's write starts at once.
/// Storage charges per request far more than per item, which is what this saves.
/// </summary>
public sealed class GroupCommit<T>(Func<List<T>, Task> write)
{
    private readonly object _gate = new();
    private List<(IReadOnlyCollection<T> Items, TaskCompletionSource Done)> _pending = [];
    private bool _writing;

    /// <summary>
    /// Returns when the items are written. Cancelling stops the wait, not the write the items may
    /// already have joined.
    /// </summary>
    public Task AddAsync(IReadOnlyCollection<T> items, CancellationToken cancellationToken)
    {
        if (items.Count == 0) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _pending.Add((items, done));
            if (!_writing)
            {
                _writing = true;
                _ = Task.Run(WriteWhilePendingAsync, CancellationToken.None);
            }
        }
        return done.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteWhilePendingAsync()
    {
        while (true)
        {
            List<(IReadOnlyCollection<T> Items, TaskCompletionSource Done)> group;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _writing = false;
                    return;
                }
                group = _pending;
                _pending = [];
            }
            try
            {
                await write(group.SelectMany(g => g.Items).ToList());
                foreach (var (_, done) in group) done.TrySetResult();
            }
            catch (Exception e)
            {
                foreach (var (_, done) in group) done.TrySetException(e);
            }
        }
    }
}
