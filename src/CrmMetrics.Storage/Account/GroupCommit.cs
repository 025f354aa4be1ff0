namespace CrmMetrics.Storage.Account;

/// <summary>
/// Writes that callers in this process ask for at about the same time, done as one (a
/// <see cref="GroupCall{TItem,TResult}"/> without a result): a caller returns once a write holding
/// its items succeeded, or with that write's failure.
/// </summary>
public sealed class GroupCommit<T>(Func<List<T>, Task> write)
{
    private readonly GroupCall<T, bool> _calls = new(async items =>
    {
        await write(items);
        return true;
    });

    /// <summary>
    /// Returns when the items are written. Cancelling stops the wait, not the write the items may
    /// already have joined.
    /// </summary>
    public Task AddAsync(IReadOnlyCollection<T> items, CancellationToken cancellationToken) =>
        items.Count == 0 ? Task.CompletedTask : _calls.AddAsync(items, cancellationToken);
}
