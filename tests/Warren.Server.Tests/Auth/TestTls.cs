using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Warren.Server.Configuration;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Auth;

/// <summary>Warren behind https on 127.0.0.1 with a throwaway self-signed certificate: the go command sends .netrc
/// credentials only over https, as it would to a real team proxy.</summary>
internal sealed class TlsWarren : IAsyncDisposable
{
    private TlsWarren(WarrenInstance warren, string url, string certificatePem)
    {
        Warren = warren;
        Url = url;
        CertificatePem = certificatePem;
    }

    public WarrenInstance Warren { get; }

    /// <summary>https://127.0.0.1:PORT</summary>
    public string Url { get; }

    /// <summary>The certificate, PEM; give it to the go command as SSL_CERT_FILE.</summary>
    public string CertificatePem { get; }

    public static async Task<TlsWarren> StartAsync(string upstream, Action<WarrenOptionsBuilder> configure, string? root = null,
        Action<IServiceCollection>? services = null)
    {
        var dir = TestPaths.NewTempDir("tls");
        var pem = Path.Combine(dir, "warren.pem");
        var certificate = LoopbackCertificate.Create(pem);

        var port = Loopback.FreePort();
        var warren = await WarrenInstance.StartAsync(upstream, configure, beforeStart: app =>
            app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Listen(IPAddress.Loopback, port, l => l.UseHttps(certificate)),
            root: root, services: services);
        return new TlsWarren(warren, $"https://127.0.0.1:{port}", pem);
    }

    /// <summary>A go client trusting the certificate, whose ~/.netrc sends the token (if any) as the password for 127.0.0.1.</summary>
    public GoRunner Go(string? token) => AuthTestFiles.GoWithToken(Url, token).With("SSL_CERT_FILE", CertificatePem);

    public ValueTask DisposeAsync() => Warren.DisposeAsync();
}
