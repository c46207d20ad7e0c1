using System.Globalization;
using Yingyun.Dicom;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Dimse.Tests.Interop;

/// <summary>DIMSE over TLS (PS3.15 §B.9, BCP 195) with a test CA: Yingyun both ends, and DCMTK as peer.</summary>
public class TlsTests
{
    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Yingyun_scu_and_scp_with_mutual_authentication()
    {
        using var certs = new TestCertificates();
        await using var server = new TestServer(o => o.Tls = certs.ServerOptions());
        var path = Corpus.File("CT_small.dcm");
        var header = await Part10Header.ReadAsync(path);
        var options = server.Client();
        options.Tls = certs.ClientOptions();
        var builder = new AssociationRequestBuilder("TESTSCU", "YINGYUN");
        builder.AddPresentationContext(DicomUids.Verification);
        builder.AddStorageContexts([header]);
        await using var association = await DicomClient.ConnectAsync(options, builder.Build());
        (await association.EchoAsync()).Should().Be(DimseStatus.Success);
        (await association.StoreFileAsync(path)).IsSuccess.Should().BeTrue();
        await association.ReleaseAsync();
        Corpus.DataSetBytes(server.Store.PathFor(header.SopInstanceUid)).Should().Equal(Corpus.DataSetBytes(path));
    }

    [Fact]
    public async Task Client_without_certificate_or_plain_tcp_is_refused_and_the_server_goes_on()
    {
        using var certs = new TestCertificates();
        await using var server = new TestServer(o => o.Tls = certs.ServerOptions());
        var anonymous = server.Client();
        anonymous.Tls = certs.ClientOptions(withCertificate: false);
        var act = () => DicomClient.ConnectAsync(anonymous, [DicomUids.Verification]);
        await act.Should().ThrowAsync<Exception>();

        var plain = await Dcmtk.RunAsync("echoscu", "-aec", "YINGYUN", "127.0.0.1", Port(server.Port));
        plain.ExitCode.Should().NotBe(0);

        var options = server.Client();
        options.Tls = certs.ClientOptions();
        await using var association = await DicomClient.ConnectAsync(options, [DicomUids.Verification]);
        (await association.EchoAsync()).Should().Be(DimseStatus.Success);
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Storescu_over_tls_to_yingyun()
    {
        using var certs = new TestCertificates();
        await using var server = new TestServer(o => o.Tls = certs.ServerOptions());
        string[] files = [Corpus.File("CT_small.dcm"), Corpus.File("reportsi.dcm")];
        var result = await Dcmtk.RunAsync("storescu", ["-R", "+tls", certs.ClientKeyPemPath, certs.ClientCertificatePemPath, "-pw",
            "+cf", certs.AuthorityPemPath, "-aec", "YINGYUN", "127.0.0.1", Port(server.Port), .. files]);
        result.ExitCode.Should().Be(0, result.ToString());
        foreach (var file in files)
        {
            var header = await Part10Header.ReadAsync(file);
            File.Exists(server.Store.PathFor(header.SopInstanceUid)).Should().BeTrue(Path.GetFileName(file));
        }
        var echo = await Dcmtk.RunAsync("echoscu", "+tls", certs.ClientKeyPemPath, certs.ClientCertificatePemPath, "-pw",
            "+cf", certs.AuthorityPemPath, "-aec", "YINGYUN", "127.0.0.1", Port(server.Port));
        echo.ExitCode.Should().Be(0, echo.ToString());
    }

    [Fact]
    public async Task Yingyun_scu_over_tls_to_storescp()
    {
        using var certs = new TestCertificates();
        using var output = new TempFolder();
        int port = Dcmtk.FreePort();
        using var storescp = Dcmtk.Start("storescp", "-aet", "STORESCP", "+xa", "+B", "+tls", certs.ServerKeyPemPath, certs.ServerCertificatePemPath, "-pw",
            "+cf", certs.AuthorityPemPath, "-od", output.Path, Port(port));
        try
        {
            await Dcmtk.WaitUntilListeningAsync(port, storescp);
            var path = Corpus.File("JPEG2000.dcm");
            var header = await Part10Header.ReadAsync(path);
            var builder = new AssociationRequestBuilder("YINGYUN", "STORESCP");
            builder.AddPresentationContext(DicomUids.Verification);
            builder.AddStorageContexts([header]);
            var options = new DicomClientOptions { Host = "127.0.0.1", Port = port, Tls = certs.ClientOptions() };
            await using var association = await DicomClient.ConnectAsync(options, builder.Build());
            (await association.EchoAsync()).Should().Be(DimseStatus.Success);
            (await association.StoreFileAsync(path)).Status.Should().Be(DimseStatus.Success);
            await association.ReleaseAsync();
            var stored = Directory.GetFiles(output.Path).Should().ContainSingle().Subject;
            Corpus.DataSetBytes(stored).Should().Equal(Corpus.DataSetBytes(path));
        }
        finally
        {
            storescp.Kill(entireProcessTree: true);
            await storescp.WaitForExitAsync();
        }
    }
}
