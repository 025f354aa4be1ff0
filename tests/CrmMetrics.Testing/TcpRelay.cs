using System.Net;
using System.Net.Sockets;

namespace CrmMetrics.Testing;

/// <summary>
/// A TCP relay on a free loopback port in front of one target port: every connection is relayed both ways,
/// each read handed to <see cref="ForwardAsync"/>, which decides what reaches the other side and when.
/// Subclasses put faults in storage's way (answers held back, requests dropped).
/// </summary>
public abstract class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _accepting;

    protected TcpRelay(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Cancelled when the relay closes.</summary>
    protected CancellationToken Closing => _closing.Token;

    /// <summary>
    /// What becomes of one read: <paramref name="request"/> when it goes from the client to the target.
    /// Returns whether to write it on; may wait first.
    /// </summary>
    protected abstract ValueTask<bool> ForwardAsync(ReadOnlyMemory<byte> read, bool request);

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
                var up = PumpAsync(client.GetStream(), server.GetStream(), request: true);
                var down = PumpAsync(server.GetStream(), client.GetStream(), request: false);
                await Task.WhenAny(up, down);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task PumpAsync(Stream from, Stream to, bool request)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, _closing.Token);
                if (read == 0) return;
                if (await ForwardAsync(buffer.AsMemory(0, read), request)) await to.WriteAsync(buffer.AsMemory(0, read), _closing.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Called as the relay closes, before it stops taking connections.</summary>
    protected virtual void Closed()
    {
    }

    public async ValueTask DisposeAsync()
    {
        Closed();
        await _closing.CancelAsync();
        _listener.Stop();
        await _accepting;
        _closing.Dispose();
        GC.SuppressFinalize(this);
    }
}
