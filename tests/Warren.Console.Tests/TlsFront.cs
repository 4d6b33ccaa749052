using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Warren.WebConsole.Tests;

/// <summary>A TLS front on 127.0.0.1 (self-signed for 127.0.0.1) forwarding each connection to a plain-HTTP Warren on
/// loopback: the go command sends ~/.netrc credentials over https only.</summary>
public sealed class TlsFront : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly X509Certificate2 _certificate;
    private readonly int _backendPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private TlsFront(int backendPort)
    {
        _backendPort = backendPort;
        CertificatePem = Path.Combine(TestPaths.NewTempDir("tls"), "front.pem");
        _certificate = LoopbackCertificate.Create(CertificatePem);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Url = $"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _accepting = AcceptAsync();
    }

    /// <summary>https://127.0.0.1:PORT</summary>
    public string Url { get; }

    /// <summary>The certificate (PEM) for the go command's SSL_CERT_FILE.</summary>
    public string CertificatePem { get; }

    public static TlsFront Start(string backendUrl) => new(new Uri(backendUrl).Port);

    /// <summary>A go client trusting the front, with its own GOPATH and module cache, whose ~/.netrc sends the token
    /// as the password for 127.0.0.1.</summary>
    public GoRunner Go(string token)
    {
        var go = new GoRunner(Url);
        File.WriteAllText(Path.Combine(go.Home, ".netrc"), $"machine 127.0.0.1 login x password {token}\n");
        return go.With("SSL_CERT_FILE", CertificatePem);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using (client)
        using (var backend = new TcpClient())
        {
            try
            {
                await backend.ConnectAsync(IPAddress.Loopback, _backendPort, _stop.Token);
                await using var tls = new SslStream(client.GetStream());
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
                var plain = backend.GetStream();
                var up = tls.CopyToAsync(plain, _stop.Token).ContinueWith(_ => backend.Client.Shutdown(SocketShutdown.Send), TaskScheduler.Default);
                await plain.CopyToAsync(tls, _stop.Token);
                await tls.ShutdownAsync();
                await up;
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
            {
                // The connection ended: nothing to forward any more.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _certificate.Dispose();
        _stop.Dispose();
    }
}
