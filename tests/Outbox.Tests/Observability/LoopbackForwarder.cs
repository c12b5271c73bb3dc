using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Observability;

/// <summary>
/// A TCP forwarder on a loopback port that a test can cut and restore: the way to make a shared server (the
/// PostgreSQL every test uses) disappear for one silo only. Cutting closes the listener and every connection.
/// </summary>
public sealed class LoopbackForwarder : IAsyncDisposable
{
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly ConcurrentDictionary<TcpClient, byte> _connections = new();
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task _accepting = Task.CompletedTask;

    public LoopbackForwarder(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        Port = LocalEnvironment.FreePort();
        Open();
    }

    public int Port { get; }

    /// <summary>Accepts connections again (on the same port).</summary>
    public void Open()
    {
        _stop = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _accepting = AcceptAsync(_listener, _stop.Token);
    }

    /// <summary>Refuses new connections and breaks the open ones, like a server that went away.</summary>
    public async Task CutAsync()
    {
        _stop?.Cancel();
        _listener?.Stop();
        foreach (var connection in _connections.Keys) connection.Dispose();
        _connections.Clear();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
        _stop?.Dispose();
        _stop = null;
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }
            var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(_targetHost, _targetPort, stop);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                client.Dispose();
                upstream.Dispose();
                continue;
            }
            _connections[client] = 0;
            _connections[upstream] = 0;
            _ = PumpAsync(client, upstream);
            _ = PumpAsync(upstream, client);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream());
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or SocketException)
        {
            // A cut or a normal close: either way both sides go.
        }
        from.Dispose();
        to.Dispose();
        _connections.TryRemove(from, out _);
        _connections.TryRemove(to, out _);
    }

    public async ValueTask DisposeAsync() => await CutAsync();
}
