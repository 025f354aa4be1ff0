using System.Net;
using System.Net.Sockets;

namespace CrmMetrics.Testing;

/// <summary>
/// A TCP relay in front of one storage port that can go silent: once <see cref="Silence"/> is called it
/// keeps taking connections and reading requests but forwards nothing and answers nothing, as storage
/// that is up but hung does, until <see cref="Resume"/>. What it read while silent is dropped (the
/// client gives up on those connections).
/// </summary>
public sealed class SilentStorageRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _accepting;
    private volatile bool _silent;
    private int _dropped;

    public SilentStorageRelay(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many reads of request bytes were dropped while silent.</summary>
    public int DroppedReads => Volatile.Read(ref _dropped);

    public void Silence() => _silent = true;

    public void Resume() => _silent = false;

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
                var up = PumpAsync(client.GetStream(), server.GetStream(), requests: true);
                var down = PumpAsync(server.GetStream(), client.GetStream(), requests: false);
                await Task.WhenAny(up, down);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task PumpAsync(Stream from, Stream to, bool requests)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, _closing.Token);
                if (read == 0) return;
                if (requests && _silent)
                {
                    Interlocked.Increment(ref _dropped);
                    continue;
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
        await _closing.CancelAsync();
        _listener.Stop();
        await _accepting;
        _closing.Dispose();
    }
}
