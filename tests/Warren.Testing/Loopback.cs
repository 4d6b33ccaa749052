using System.Net;
using System.Net.Sockets;

namespace Warren.Testing;

/// <summary>Ports on 127.0.0.1.</summary>
public static class Loopback
{
    /// <summary>A port that was free a moment ago (the OS's choice for an ephemeral listener).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until something accepts connections on 127.0.0.1:port; false when <paramref name="alive"/> turns false or the time is up.</summary>
    public static async Task<bool> WaitForListenerAsync(int port, Func<bool> alive, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(alive);
        var deadline = DateTime.UtcNow + timeout;
        while (alive() && DateTime.UtcNow < deadline)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port).ConfigureAwait(false);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
        }

        return false;
    }
}
