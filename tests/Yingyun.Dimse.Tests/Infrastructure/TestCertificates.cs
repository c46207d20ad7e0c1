using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Yingyun.Dimse.Tests.Infrastructure;

/// <summary>A throw-away certification authority with a server certificate (localhost, 127.0.0.1) and a client
/// certificate, made in memory for one test and written as PEM files for DCMTK.</summary>
internal sealed class TestCertificates : IDisposable
{
    private readonly TempFolder _folder = new();

    public TestCertificates()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Yingyun Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        Authority = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        (Server, ServerKeyPem) = Issue("CN=localhost", server: true, now);
        (Client, ClientKeyPem) = Issue("CN=Yingyun Test Client", server: false, now);

        AuthorityPemPath = Write("ca.pem", Authority.ExportCertificatePem());
        ServerCertificatePemPath = Write("server.pem", Server.ExportCertificatePem());
        ServerKeyPemPath = Write("server.key", ServerKeyPem);
        ClientCertificatePemPath = Write("client.pem", Client.ExportCertificatePem());
        ClientKeyPemPath = Write("client.key", ClientKeyPem);
    }

    public X509Certificate2 Authority { get; }
    public X509Certificate2 Server { get; }
    public X509Certificate2 Client { get; }
    private string ServerKeyPem { get; }
    private string ClientKeyPem { get; }
    public string AuthorityPemPath { get; }
    public string ServerCertificatePemPath { get; }
    public string ServerKeyPemPath { get; }
    public string ClientCertificatePemPath { get; }
    public string ClientKeyPemPath { get; }

    private (X509Certificate2 Certificate, string KeyPem) Issue(string subject, bool server, DateTimeOffset now)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var issued = request.Create(Authority, now.AddDays(-1), now.AddDays(30), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        // A PKCS#12 round trip gives a key SslStream can use on every platform.
        var certificate = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        return (certificate, key.ExportPkcs8PrivateKeyPem());
    }

    private string Write(string name, string pem)
    {
        var path = Path.Combine(_folder.Path, name);
        File.WriteAllText(path, pem);
        return path;
    }

    public DicomTlsOptions ServerOptions(bool requireClientCertificate = true)
    {
        var tls = new DicomTlsOptions { Certificate = Server, RequireClientCertificate = requireClientCertificate };
        tls.TrustedCertificateAuthorities.Add(Authority);
        return tls;
    }

    public DicomTlsOptions ClientOptions(bool withCertificate = true)
    {
        var tls = new DicomTlsOptions { Certificate = withCertificate ? Client : null, TargetHost = "localhost" };
        tls.TrustedCertificateAuthorities.Add(Authority);
        return tls;
    }

    public void Dispose() => _folder.Dispose();
}
