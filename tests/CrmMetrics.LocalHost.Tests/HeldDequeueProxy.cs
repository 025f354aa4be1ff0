using System.Net;
using System.Net.Sockets;
using System.Text;
using CrmMetrics.LocalHost.Storage;

namespace CrmMetrics.LocalHost.Tests;

/// <summary>
/// A TCP relay in front of Azurite's queue port that, once told to <see cref="Hold"/>, keeps back every
/// answer carrying a message's text (a dequeue that found messages) until <see cref="Release"/>:
/// Azurite has dequeued, the client has not yet heard. Everything else passes untouched.
/// </summary>
public sealed class HeldDequeueProxy : IAsyncDisposable
{
    private static readonly byte[] Marker = Encoding.ASCII.GetBytes("<MessageText>");
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _accepting;
    private volatile TaskCompletionSource? _held;
    private int _heldAnswers;

    public HeldDequeueProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many answers with messages have been kept back so far.</summary>
    public int HeldAnswers => Volatile.Read(ref _heldAnswers);

    /// <summary>Azurite's connection string with queue traffic going through this relay.</summary>
    public string ConnectionString(AzuriteServer azurite) => AzuriteServer.ConnectionStringFor(azurite.BlobPort, Port, azurite.TablePort);

    public void Hold() => _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => Interlocked.Exchange(ref _held, null)?.TrySetResult();

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_closing.Token);
                _ = RelayAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _target, _closing.Token);
                var up = PumpAsync(client.GetStream(), server.GetStream(), inspect: false);
                var down = PumpAsync(server.GetStream(), client.GetStream(), inspect: true);
                await Task.WhenAny(up, down);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task PumpAsync(Stream from, Stream to, bool inspect)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, _closing.Token);
                if (read == 0) return;
                if (inspect && _held is { } held && buffer.AsSpan(0, read).IndexOf(Marker) >= 0)
                {
                    Interlocked.Increment(ref _heldAnswers);
                    await held.Task.WaitAsync(_closing.Token);
                }
                await to.WriteAsync(buffer.AsMemory(0, read), _closing.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _closing.CancelAsync();
        _listener.Stop();
        await _accepting;
        _closing.Dispose();
    }
}
