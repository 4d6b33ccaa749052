using System.Net;
using System.Net.Sockets;

namespace Warren.Testing;

/// <summary>An "internal" server on 127.0.0.1 that only counts the TCP connections it accepts (and closes them): a
/// destination that must never be contacted. With hold, it keeps every connection open and never answers (until
/// disposed): a hung upstream.</summary>
public sealed class CountingListener : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient>? _held;
    private int _connections;

    public CountingListener(bool hold = false)
    {
        _held = hold ? [] : null;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }

    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _connections);
                if (_held is null)
                {
                    client.Dispose();
                    continue;
                }

                lock (_held)
                {
                    _held.Add(client);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        if (_held is not null)
        {
            lock (_held)
            {
                _held.ForEach(c => c.Dispose());
            }
        }

        _stop.Dispose();
    }
}
