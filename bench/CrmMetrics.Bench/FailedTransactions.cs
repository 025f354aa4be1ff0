using System.Runtime.ExceptionServices;
using Azure.Data.Tables;

namespace CrmMetrics.Bench;

/// <summary>
/// Counts the entity-group transactions that failed in this process while it is alive (a row
/// existed or changed: the callers retry them). Each failure is counted once, however many awaits
/// rethrow it on its way up.
/// </summary>
public sealed class FailedTransactions : IDisposable
{
    private readonly HashSet<Exception> _seen = new(ReferenceEqualityComparer.Instance);

    public FailedTransactions() => AppDomain.CurrentDomain.FirstChanceException += OnThrown;

    public int Count
    {
        get
        {
            lock (_seen) return _seen.Count;
        }
    }

    private void OnThrown(object? sender, FirstChanceExceptionEventArgs e)
    {
        if (e.Exception is not TableTransactionFailedException failed) return;
        lock (_seen) _seen.Add(failed);
    }

    public void Dispose() => AppDomain.CurrentDomain.FirstChanceException -= OnThrown;
}
