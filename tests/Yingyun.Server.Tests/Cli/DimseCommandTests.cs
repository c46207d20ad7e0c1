using Yingyun.Dimse.Tests.Infrastructure;
using Yingyun.Server.Cli;

namespace Yingyun.Server.Tests.Cli;

/// <summary>`yingyun echo` and `yingyun send` against DCMTK's storescp on 127.0.0.1.</summary>
[Collection("console")] // the commands write to Console: keep these tests from running in parallel
public class DimseCommandTests
{
    [Fact]
    public async Task Echo_succeeds_against_storescp_and_fails_clearly_on_a_closed_port()
    {
        int port = Dcmtk.FreePort();
        using var scp = Dcmtk.Start("storescp", "-od", Path.GetTempPath(), port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            await Dcmtk.WaitUntilListeningAsync(port, scp);
            (await YingyunCli.RunAsync(["echo", "--port", $"{port}", "--aec", "STORESCP"])).Should().Be(0);
        }
        finally
        {
            scp.Kill();
        }
        (await YingyunCli.RunAsync(["echo", "--port", $"{Dcmtk.FreePort()}"])).Should().Be(1);
    }

    [Fact]
    public async Task Send_stores_every_file_over_several_associations_and_reports_failures()
    {
        using var received = new TempFolder();
        using var source = new TempFolder();
        string[] names = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm", "MR_small_bigendian.dcm", "image_dfl.dcm"];
        foreach (var n in names) File.Copy(Corpus.File(n), Path.Combine(source.Path, n));
        int port = Dcmtk.FreePort();
        using var scp = Dcmtk.Start("storescp", "+xa", "-od", received.Path, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            await Dcmtk.WaitUntilListeningAsync(port, scp);
            (await YingyunCli.RunAsync(["send", source.Path, "--port", $"{port}", "--associations", "3"])).Should().Be(0);
            // storescp names files by SOP Instance UID (two of these corpus files share one).
            var instances = new HashSet<string>(StringComparer.Ordinal);
            foreach (var n in names)
                instances.Add((await Yingyun.Dicom.DicomReader.OpenAsync(Path.Combine(source.Path, n))).Dataset.GetString(Yingyun.Dicom.DicomTags.SOPInstanceUID)!);
            Directory.GetFiles(received.Path).Should().HaveCount(instances.Count);

            // A file that is not DICOM is reported and makes the exit status 1; the others are still sent.
            await File.WriteAllTextAsync(Path.Combine(source.Path, "notes.txt"), "not DICOM");
            (await YingyunCli.RunAsync(["send", source.Path, "--port", $"{port}"])).Should().Be(1);
        }
        finally
        {
            scp.Kill();
        }
    }
}
