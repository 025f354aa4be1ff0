using System.Net.Http;

namespace CrmMetrics.Storage.Account;

/// <summary>
/// Storage calls that callers in this process ask for at about the same time, made as one: a
/// caller's items join the next call, and the caller gets that call's result (or its failure). While
/// one call is in flight the next callers' items gather, so under load many small calls become a few
/// larger ones; alone, a caller's call starts at once. A call always starts after every caller in it
/// asked, so what it reads is at least as new as what each caller would have read alone. When a shared
/// call is refused (a 4xx answer, or an item the call rejects), each of its callers is retried in a
/// call of its own, in the order they asked, so one bad item fails only its own caller; when storage or
/// the network fails, every caller gets that failure. Storage charges per request far more than per
/// item, which is what this saves.
/// </summary>
public sealed class GroupCall<TItem, TResult>(Func<List<TItem>, Task<TResult>> call)
{
    private readonly object _gate = new();
    private List<(IReadOnlyCollection<TItem> Items, TaskCompletionSource<TResult> Done)> _pending = [];
    private bool _calling;

    /// <summary>
    /// Returns the result of a call that held the items. Cancelling stops the wait, not the call the
    /// items may already have joined; so does an HTTP request's limit on storage answers.
    /// </summary>
    public Task<TResult> AddAsync(IReadOnlyCollection<TItem> items, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _pending.Add((items, done));
            if (!_calling)
            {
                _calling = true;
                // Not in the caller's flow: the call serves callers of every kind (an HTTP request's limit on
                // storage answers, see StorageAnswerLimit, is its own wait's, not the call's).
                _ = StorageAnswerLimit.StartShared(CallWhilePendingAsync);
            }
        }
        return StorageAnswerLimit.WaitShared(done.Task, cancellationToken);
    }

    private async Task CallWhilePendingAsync()
    {
        while (true)
        {
            List<(IReadOnlyCollection<TItem> Items, TaskCompletionSource<TResult> Done)> group;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _calling = false;
                    return;
                }
                group = _pending;
                _pending = [];
            }
            try
            {
                var result = await call(group.SelectMany(g => g.Items).ToList());
                foreach (var (_, done) in group) done.TrySetResult(result);
            }
            catch (Exception e) when (group.Count > 1 && RefusedItem(e))
            {
                // Something in the call was refused, maybe one caller's item: each caller gets a call
                // of its own, in the order they asked (as separate calls would have run), so the
                // others do not fail with it.
                foreach (var (items, done) in group)
                {
                    try
                    {
                        done.TrySetResult(await call(items.ToList()));
                    }
                    catch (Exception alone)
                    {
                        done.TrySetException(alone);
                    }
                }
            }
            catch (Exception e)
            {
                foreach (var (_, done) in group) done.TrySetException(e);
            }
        }
    }

    /// <summary>
    /// A refusal of the call's content (a 4xx answer, or an item the call itself rejects), which one
    /// item can cause; not a failure of the service or the network, nor a cancellation, which calling
    /// again alone would only repeat, once per caller.
    /// </summary>
    private static bool RefusedItem(Exception e) => e switch
    {
        Azure.RequestFailedException r => r.Status is >= 400 and < 500 and not 408 and not 429,
        OperationCanceledException or TimeoutException or HttpRequestException or IOException or AggregateException => false,
        _ => true,
    };
}
