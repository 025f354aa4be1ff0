using System.Text;
using CrmMetrics.LocalHost.Storage;
using CrmMetrics.Testing;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>
/// A TCP relay in front of Azurite's queue port that, once told to <see cref="Hold"/>, keeps back every
/// answer carrying a message's text (a dequeue that found messages) until <see cref="Release"/>:
/// Azurite has dequeued, the client has not yet heard. Everything else passes untouched.
/// </summary>
public sealed class HeldDequeueProxy(int targetPort) : TcpRelay(targetPort)
{
    private static readonly byte[] Marker = Encoding.ASCII.GetBytes("<MessageText>");
    private volatile TaskCompletionSource? _held;
    private int _heldAnswers;

    /// <summary>How many answers with messages have been kept back so far.</summary>
    public int HeldAnswers => Volatile.Read(ref _heldAnswers);

    /// <summary>Azurite's connection string with queue traffic going through this relay.</summary>
    public string ConnectionString(AzuriteServer azurite) => AzuriteServer.ConnectionStringFor(azurite.BlobPort, Port, azurite.TablePort);

    public void Hold() => _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => Interlocked.Exchange(ref _held, null)?.TrySetResult();

    protected override async ValueTask<bool> ForwardAsync(ReadOnlyMemory<byte> read, bool request)
    {
        if (!request && _held is { } held && read.Span.IndexOf(Marker) >= 0)
        {
            Interlocked.Increment(ref _heldAnswers);
            await held.Task.WaitAsync(Closing);
        }
        return true;
    }

    protected override void Closed() => Release();
}
