using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Yingyun.Dimse;

/// <summary>TLS for DIMSE per the BCP 195 TLS Secure Transport Connection Profile (PS3.15 §B.9, RFC 9325): TLS 1.2 or
/// 1.3 only, and on platforms that let us choose (Linux, macOS) only the AEAD cipher suites with forward secrecy that
/// the profile recommends. Peer certificates are checked against <see cref="TrustedCertificateAuthorities"/> (or the
/// system store when it is empty).</summary>
public sealed class DicomTlsOptions
{
    /// <summary>Server: its certificate with private key (required). Client: the certificate presented when the server
    /// asks for one (optional).</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Server only: refuse clients without a valid certificate (mutual authentication, PS3.15 §B.9).</summary>
    public bool RequireClientCertificate { get; set; }

    /// <summary>Roots that peer certificates must chain to; empty means the operating system's store.</summary>
    public X509Certificate2Collection TrustedCertificateAuthorities { get; } = [];

    /// <summary>Client only: the name the server certificate must carry; default: the host connected to.</summary>
    public string? TargetHost { get; set; }

    public bool CheckCertificateRevocation { get; set; }

    /// <summary>How long the handshake may take; it runs before the ARTIM timer starts.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>PS3.15 §B.9 (BCP 195): TLS 1.2 and later.</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>The cipher suites BCP 195 (RFC 9325 §4.2) recommends, TLS 1.3 ones first; null where the platform does
    /// not support choosing (Windows uses its own policy, configured by the system).</summary>
    public static CipherSuitesPolicy? Bcp195CipherSuites { get; } = CreatePolicy();

    private static CipherSuitesPolicy? CreatePolicy()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return null;
        try
        {
            return new CipherSuitesPolicy(
            [
                TlsCipherSuite.TLS_AES_128_GCM_SHA256,
                TlsCipherSuite.TLS_AES_256_GCM_SHA384,
                TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
                TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                TlsCipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
                TlsCipherSuite.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
            ]);
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }

    internal SslServerAuthenticationOptions ForServer()
    {
        if (Certificate is null) throw new InvalidOperationException("a TLS server needs a certificate with its private key");
        return new SslServerAuthenticationOptions
        {
            ServerCertificate = Certificate,
            ClientCertificateRequired = RequireClientCertificate,
            EnabledSslProtocols = Protocols,
            CipherSuitesPolicy = Bcp195CipherSuites,
            CertificateRevocationCheckMode = CheckCertificateRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                certificate is null ? !RequireClientCertificate : Validate(certificate, errors, checkName: false),
        };
    }

    internal SslClientAuthenticationOptions ForClient(string host) => new()
    {
        TargetHost = TargetHost ?? host,
        ClientCertificates = Certificate is null ? null : [Certificate],
        EnabledSslProtocols = Protocols,
        CipherSuitesPolicy = Bcp195CipherSuites,
        CertificateRevocationCheckMode = CheckCertificateRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, _, errors) => certificate is not null && Validate(certificate, errors, checkName: true),
    };

    /// <summary>With our own roots the chain is rebuilt against them alone; otherwise the platform's verdict stands.</summary>
    private bool Validate(X509Certificate certificate, SslPolicyErrors errors, bool checkName)
    {
        if (checkName && errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) return false;
        if (TrustedCertificateAuthorities.Count == 0) return errors == SslPolicyErrors.None;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(TrustedCertificateAuthorities);
        chain.ChainPolicy.RevocationMode = CheckCertificateRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
