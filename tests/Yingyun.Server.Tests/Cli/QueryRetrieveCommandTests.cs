using Yingyun.Dicom;
using Yingyun.Dimse;
using Yingyun.Dimse.Tests.Infrastructure;
using Yingyun.Server.Cli;

namespace Yingyun.Server.Tests.Cli;

/// <summary>`yingyun find` and `yingyun move` against a Yingyun SCP whose query handler is a small corpus archive.</summary>
[Collection("console")]
public class QueryRetrieveCommandTests
{
    private static readonly string[] ArchiveFiles = ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "JPEG-lossy.dcm", "rtplan.dcm"];
    private const string NmStudy = "1.3.6.1.4.1.5962.1.2.8.20040826185059.5457";

    private static async Task<(int Exit, string Out)> RunAsync(params string[] args)
    {
        var previous = Console.Out;
        using var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            int exit = await YingyunCli.RunAsync(args);
            return (exit, captured.ToString());
        }
        finally
        {
            Console.SetOut(previous);
        }
    }

    [Fact]
    public async Task Find_prints_matches_as_text_and_as_DICOM_JSON()
    {
        var archive = await CorpusArchive.LoadAsync(ArchiveFiles);
        await using var server = new TestServer(o => o.Services.QueryHandler = archive);
        string port = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (exit, text) = await RunAsync("find", "--port", port, "--aec", server.Options.AeTitle, "-k", "PatientName=CompressedSamples*", "-k", "PatientID");
        exit.Should().Be(0);
        text.Should().Contain("1CT1").And.Contain("4MR1").And.Contain("8NM1").And.NotContain("id00001");

        var (jsonExit, json) = await RunAsync("find", "--port", port, "--aec", server.Options.AeTitle, "--json", "-k", "StudyInstanceUID=" + NmStudy, "-k", "PatientID");
        jsonExit.Should().Be(0);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        doc.RootElement.GetArrayLength().Should().Be(1);
        doc.RootElement[0].GetProperty("00100020").GetProperty("Value")[0].GetString().Should().Be("8NM1");

        (await RunAsync("find", "--port", port, "-k", "NoSuchKeyword=1")).Exit.Should().Be(1);
    }

    [Fact]
    public async Task Move_sends_a_study_to_the_destination_and_fails_for_an_unknown_one()
    {
        var archive = await CorpusArchive.LoadAsync(ArchiveFiles);
        await using var server = new TestServer(o =>
        {
            o.Services.QueryHandler = archive;
            o.Services.MoveDestinationResolver = archive;
        });
        await using var destination = new TestServer(o => o.AeTitle = "DEST");
        archive.Nodes["DEST"] = new DicomNode("DEST", "127.0.0.1", destination.Port);
        string port = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (exit, text) = await RunAsync("move", "--port", port, "--aec", server.Options.AeTitle, "--dest", "DEST", "-k", "StudyInstanceUID=" + NmStudy);
        exit.Should().Be(0, text);
        text.Should().Contain("2 completed");
        foreach (var name in new[] { "JPEG2000.dcm", "JPEG-lossy.dcm" })
        {
            var header = await Part10Header.ReadAsync(Corpus.File(name));
            File.Exists(destination.Store.PathFor(header.SopInstanceUid)).Should().BeTrue(name);
        }

        (await RunAsync("move", "--port", port, "--aec", server.Options.AeTitle, "--dest", "NOWHERE", "-k", "StudyInstanceUID=" + NmStudy)).Exit.Should().Be(1);
    }
}
