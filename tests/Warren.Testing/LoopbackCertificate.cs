using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Warren.Testing;

/// <summary>A throwaway self-signed server certificate for https on 127.0.0.1 (a day either side of now), and its PEM
/// in a file for the go command's SSL_CERT_FILE.</summary>
public static class LoopbackCertificate
{
    /// <summary>Creates the certificate (with its private key) and writes its PEM to pemPath.</summary>
    public static X509Certificate2 Create(string pemPath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(pemPath, created.ExportCertificatePem());
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }
}
