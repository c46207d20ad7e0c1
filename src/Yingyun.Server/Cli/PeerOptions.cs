using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Yingyun.Dimse;

namespace Yingyun.Server.Cli;

/// <summary>The options every DIMSE client command shares, named as DCMTK names them where it can.</summary>
internal sealed class PeerOptions
{
    public Option<string> Host { get; } = new("--host") { Description = "the peer's host name or address", DefaultValueFactory = _ => "127.0.0.1" };
    public Option<int> Port { get; } = new("--port") { Description = "the peer's DIMSE port", DefaultValueFactory = _ => 11112 };
    public Option<string> CallingAeTitle { get; } = new("--aet") { Description = "our (calling) AE title", DefaultValueFactory = _ => "YINGYUN" };
    public Option<string> CalledAeTitle { get; } = new("--aec") { Description = "the peer's (called) AE title", DefaultValueFactory = _ => "ANY-SCP" };
    public Option<bool> Tls { get; } = new("--tls") { Description = "use TLS (PS3.15 BCP 195 profile)" };
    public Option<FileInfo?> TlsCa { get; } = new("--tls-ca") { Description = "a PEM file of CA certificates to trust for the peer's certificate (with --tls)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Host);
        command.Options.Add(Port);
        command.Options.Add(CallingAeTitle);
        command.Options.Add(CalledAeTitle);
        command.Options.Add(Tls);
        command.Options.Add(TlsCa);
    }

    public DicomClientOptions ToClientOptions(ParseResult parse)
    {
        var options = new DicomClientOptions
        {
            Host = parse.GetValue(Host)!,
            Port = parse.GetValue(Port),
            CallingAeTitle = parse.GetValue(CallingAeTitle)!,
            CalledAeTitle = parse.GetValue(CalledAeTitle)!,
        };
        if (parse.GetValue(Tls))
        {
            options.Tls = new DicomTlsOptions { TargetHost = options.Host };
            if (parse.GetValue(TlsCa) is { } ca)
                options.Tls.TrustedCertificateAuthorities.ImportFromPemFile(ca.FullName);
        }
        return options;
    }

    public string Describe(ParseResult parse) =>
        $"{parse.GetValue(CalledAeTitle)}@{parse.GetValue(Host)}:{parse.GetValue(Port)}";
}
