using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Warren.Server.Tests.Auth;

/// <summary>TLS in front of a Warren on 127.0.0.1, as a company would put it: a Kestrel https listener with a fresh
/// self-signed certificate for 127.0.0.1 that streams every request (headers included, so Authorization) to Warren and
/// the answer back. The go command sends .netrc credentials only over https, so a go client with a .netrc needs it.</summary>
internal sealed class OriginAuthorizationHttpsFront : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Host",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _backend;
    private readonly X509Certificate2 _certificate;

    private OriginAuthorizationHttpsFront(WebApplication app, HttpClient backend, X509Certificate2 certificate, string url, string certificateFile)
    {
        _app = app;
        _backend = backend;
        _certificate = certificate;
        Url = url;
        CertificateFile = certificateFile;
    }

    /// <summary>https://127.0.0.1:PORT, no trailing slash.</summary>
    public string Url { get; }

    /// <summary>The certificate (PEM) for SSL_CERT_FILE.</summary>
    public string CertificateFile { get; }

    public static async Task<OriginAuthorizationHttpsFront> StartAsync(string backendUrl, string dir)
    {
        var certificate = CreateCertificate();
        var pem = Path.Combine(dir, "front-cert.pem");
        await File.WriteAllTextAsync(pem, certificate.ExportCertificatePem());
        var backend = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = new Uri(backendUrl.TrimEnd('/') + "/"),
            Timeout = TimeSpan.FromMinutes(5),
        };

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        var app = builder.Build();
        app.Run(ctx => ForwardAsync(ctx, backend));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new OriginAuthorizationHttpsFront(app, backend, certificate, address.TrimEnd('/'), pem);
    }

    public async ValueTask DisposeAsync()
    {
        await LoopbackApp.StopAsync(_app);
        _backend.Dispose();
        _certificate.Dispose();
    }

    private static async Task ForwardAsync(HttpContext ctx, HttpClient backend)
    {
        using var request = new HttpRequestMessage(new HttpMethod(ctx.Request.Method), ctx.Request.Path.ToUriComponent().TrimStart('/') + ctx.Request.QueryString);
        foreach (var (name, values) in ctx.Request.Headers)
        {
            if (!HopByHop.Contains(name))
            {
                request.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        using var response = await backend.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ctx.RequestAborted);
        ctx.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopByHop.Contains(name))
            {
                ctx.Response.Headers[name] = values.ToArray();
            }
        }

        await using var body = await response.Content.ReadAsStreamAsync(ctx.RequestAborted);
        await body.CopyToAsync(ctx.Response.Body, ctx.RequestAborted);
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        // Kestrel on Linux wants a key it can export to its TLS stack; a PKCS#12 round trip gives one.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
