using System.Globalization;
using Yingyun.Dicom;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Dimse.Tests.Interop;

/// <summary>Yingyun against DCMTK's tools (Debian package dcmtk), all on 127.0.0.1.</summary>
public sealed class DcmtkInteropTests : IDisposable
{
    private readonly List<TempFolder> _referenceFolders = [];

    public void Dispose()
    {
        foreach (var folder in _referenceFolders) folder.Dispose();
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Checks each original arrived once, in its own transfer syntax, and its data set bytes equal what
    /// the same storescu command delivers to DCMTK's storescp in bit-preserving mode (+B). storescu does not send a
    /// file's bytes as they are: it drops Data Set Trailing Padding (FFFC,FFFC) and rewrites undefined-length
    /// sequences with explicit lengths; storescp +B records exactly what went over the wire, so it is the oracle for
    /// "stored byte for byte as sent".</summary>
    private async Task AssertStoredAsStorescpStoresAsync(TestServer server, IReadOnlyList<string> originals, string[] storescuOptions, params string[] storescpOptions)
    {
        var expected = await StorescpReferenceAsync(originals, storescuOptions, storescpOptions);
        var toYingyun = await Dcmtk.RunAsync("storescu", [.. storescuOptions, "-aec", "YINGYUN", "127.0.0.1", Port(server.Port), .. originals]);
        toYingyun.ExitCode.Should().Be(0, toYingyun.ToString());
        await AssertStoredAsync(server, originals, expected);
    }

    /// <summary>Runs storescu against storescp +B; returns the files storescp wrote, by SOP Instance UID.</summary>
    private async Task<Dictionary<string, string>> StorescpReferenceAsync(IReadOnlyList<string> targets, string[] storescuOptions, string[] storescpOptions)
    {
        var reference = new TempFolder();
        _referenceFolders.Add(reference);
        int port = Dcmtk.FreePort();
        using (var storescp = Dcmtk.Start("storescp", ["-aet", "STORESCP", .. storescpOptions, "+B", "-od", reference.Path, Port(port)]))
        {
            try
            {
                await Dcmtk.WaitUntilListeningAsync(port, storescp);
                var toDcmtk = await Dcmtk.RunAsync("storescu", [.. storescuOptions, "-aec", "STORESCP", "127.0.0.1", Port(port), .. targets]);
                toDcmtk.ExitCode.Should().Be(0, toDcmtk.ToString());
            }
            finally
            {
                storescp.Kill(entireProcessTree: true);
                await storescp.WaitForExitAsync();
            }
        }
        var expected = new Dictionary<string, string>();
        foreach (var path in Directory.GetFiles(reference.Path))
            expected[(await Part10Header.ReadAsync(path)).SopInstanceUid] = path;
        return expected;
    }

    private static async Task AssertStoredAsync(TestServer server, IEnumerable<string> originals, Dictionary<string, string> expected)
    {
        foreach (var original in originals)
        {
            var header = await Part10Header.ReadAsync(original);
            string name = Path.GetFileName(original);
            var received = server.Store.PathFor(header.SopInstanceUid);
            File.Exists(received).Should().BeTrue($"{name} should have been stored");
            var receivedHeader = await Part10Header.ReadAsync(received);
            receivedHeader.TransferSyntax.Should().Be(header.TransferSyntax, $"{name} was negotiated in its own syntax");
            receivedHeader.SopClassUid.Should().Be(header.SopClassUid);
            expected.Should().ContainKey(header.SopInstanceUid);
            (await Part10Header.ReadAsync(expected[header.SopInstanceUid])).TransferSyntax.Should().Be(header.TransferSyntax);
            Corpus.DataSetBytes(received).Should().Equal(Corpus.DataSetBytes(expected[header.SopInstanceUid]), $"the data set of {name} must be stored byte for byte as sent");
        }
    }

    [Fact]
    public async Task Echoscu_against_yingyun()
    {
        await using var server = new TestServer();
        var result = await Dcmtk.RunAsync("echoscu", "-aet", "ECHOSCU", "-aec", "YINGYUN", "127.0.0.1", Port(server.Port));
        result.ExitCode.Should().Be(0, result.ToString());
    }

    [Fact]
    public async Task Storescu_sends_several_files_in_one_association()
    {
        await using var server = new TestServer();
        string[] files =
        [
            Corpus.File("CT_small.dcm"), Corpus.File("MR_small.dcm"), Corpus.File("liver_1frame.dcm"),
            Corpus.File("waveform_ecg.dcm"), Corpus.File("reportsi.dcm"), Corpus.File("SC_rgb_small_odd.dcm"),
        ];
        // -R: propose only the SOP classes of the files.
        await AssertStoredAsStorescpStoresAsync(server, files, ["-R", "-aet", "STORESCU"], "+xa");
    }

    /// <summary>storescu proposes a compressed syntax only when told which (-x…); the policy takes it as proposed.</summary>
    [Theory]
    [InlineData("MR_small_implicit.dcm", "-xi")]
    [InlineData("rtplan.dcm", "-xi")]
    [InlineData("rtdose.dcm", "-xi")]
    [InlineData("JPEG2000.dcm", "-xw")]
    [InlineData("MR_small_RLE.dcm", "-xr")]
    [InlineData("SC_rgb_jpeg_dcmtk.dcm", "-xy")]
    [InlineData("JPEG-lossy.dcm", "-xx")]
    [InlineData("MR_small_jpeg_ls_lossless.dcm", "-xt")]
    [InlineData("SC_rgb_jpeg_gdcm.dcm", "-xs")]
    public async Task Storescu_sends_each_transfer_syntax_as_is(string name, string proposal)
    {
        await using var server = new TestServer();
        await AssertStoredAsStorescpStoresAsync(server, [Corpus.File(name)], ["-R", proposal], "+xa");
    }

    [Fact]
    public async Task Storescu_big_endian_with_a_preference_list_that_takes_it()
    {
        await using var server = new TestServer(o =>
        {
            // The preference list is configuration: here big endian first, so a big endian file arrives unconverted.
            o.Policy.TransferSyntaxes.Preferred.Insert(0, DicomUids.ExplicitVRBigEndian);
        });
        await AssertStoredAsStorescpStoresAsync(server, [Corpus.File("MR_small_bigendian.dcm")], ["-R", "-xb"], "+xb");
    }

    [Fact]
    public async Task Storescu_deflated_is_taken_as_proposed()
    {
        await using var server = new TestServer();
        await AssertStoredAsStorescpStoresAsync(server, [Corpus.File("image_dfl.dcm")], ["-R", "-xd"], "+xd");
    }

    [Fact]
    public async Task Storescu_scans_a_folder_over_several_associations_at_once()
    {
        await using var server = new TestServer();
        using var folder = new TempFolder();
        string[] names = ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "reportsi.dcm"];
        foreach (var name in names) File.Copy(Corpus.File(name), Path.Combine(folder.Path, name));
        string[] options = ["-R", "-xw", "+sd", "+r"];
        var expected = await StorescpReferenceAsync([folder.Path], options, ["+xa"]);
        var runs = Enumerable.Range(0, 3).Select(_ =>
            Dcmtk.RunAsync("storescu", [.. options, "-aec", "YINGYUN", "127.0.0.1", Port(server.Port), folder.Path])).ToArray();
        foreach (var result in await Task.WhenAll(runs)) result.ExitCode.Should().Be(0, result.ToString());
        await AssertStoredAsync(server, names.Select(Corpus.File), expected);
    }

    [Fact]
    public async Task Storescu_with_no_acceptable_context_fails_and_the_server_keeps_serving()
    {
        await using var server = new TestServer(o =>
        {
            o.Policy.AbstractSyntaxes.Clear();
            o.Policy.AbstractSyntaxes.Add(DicomUids.Verification);
        });
        var result = await Dcmtk.RunAsync("storescu", "-R", "-aec", "YINGYUN", "127.0.0.1", Port(server.Port), Corpus.File("CT_small.dcm"));
        result.ExitCode.Should().NotBe(0, result.ToString());
        result.Output.Should().ContainEquivalentOf("No Acceptable Presentation Contexts", result.ToString());
        var echo = await Dcmtk.RunAsync("echoscu", "-aec", "YINGYUN", "127.0.0.1", Port(server.Port));
        echo.ExitCode.Should().Be(0, echo.ToString());
    }

    [Fact]
    public async Task Echoscu_from_an_unknown_ae_is_rejected_and_a_known_one_is_served()
    {
        await using var server = new TestServer(o => o.Policy.Authorizer = new CallingAeAllowList(["CT01"]));
        var rejected = await Dcmtk.RunAsync("echoscu", "-aet", "STRANGER", "-aec", "YINGYUN", "127.0.0.1", Port(server.Port));
        rejected.ExitCode.Should().NotBe(0);
        rejected.Output.Should().ContainEquivalentOf("Calling AE Title Not Recognized", rejected.ToString());
        var wrongCalled = await Dcmtk.RunAsync("echoscu", "-aet", "CT01", "-aec", "SOMEONE", "127.0.0.1", Port(server.Port));
        wrongCalled.ExitCode.Should().NotBe(0);
        wrongCalled.Output.Should().ContainEquivalentOf("Called AE Title Not Recognized", wrongCalled.ToString());
        var accepted = await Dcmtk.RunAsync("echoscu", "-aet", "CT01", "-aec", "YINGYUN", "127.0.0.1", Port(server.Port));
        accepted.ExitCode.Should().Be(0, accepted.ToString());
    }

    [Fact]
    public async Task Yingyun_scu_echoes_and_stores_to_storescp()
    {
        using var output = new TempFolder();
        int port = Dcmtk.FreePort();
        using var storescp = Dcmtk.Start("storescp", "-aet", "STORESCP", "+xa", "+B", "-od", output.Path, Port(port));
        try
        {
            await Dcmtk.WaitUntilListeningAsync(port, storescp);
            // Distinct SOP Instance UIDs (pydicom's MR_small* share one); rtplan.dcm's meta and data set disagree on it.
            string[] files = [Corpus.File("CT_small.dcm"), Corpus.File("MR_small_implicit.dcm"), Corpus.File("JPEG2000.dcm"), Corpus.File("rtplan.dcm"), Corpus.File("SC_rgb_jpeg_dcmtk.dcm")];
            var headers = new List<Part10Header>();
            foreach (var f in files) headers.Add(await Part10Header.ReadAsync(f));
            var builder = new AssociationRequestBuilder("YINGYUN", "STORESCP");
            builder.AddPresentationContext(DicomUids.Verification);
            builder.AddStorageContexts(headers);
            await using var association = await DicomClient.ConnectAsync(new DicomClientOptions { Host = "127.0.0.1", Port = port }, builder.Build());
            (await association.EchoAsync()).Should().Be(DimseStatus.Success);
            foreach (var f in files)
            {
                var result = await association.StoreFileAsync(f);
                result.Status.Should().Be(DimseStatus.Success, result.ToString());
            }
            await association.ReleaseAsync();

            var received = new Dictionary<string, string>();
            foreach (var path in Directory.GetFiles(output.Path))
                received[(await Part10Header.ReadAsync(path)).SopInstanceUid] = path;
            foreach (var (file, header) in files.Zip(headers))
            {
                received.Should().ContainKey(header.SopInstanceUid);
                Corpus.DataSetBytes(received[header.SopInstanceUid]).Should().Equal(Corpus.DataSetBytes(file), $"{Path.GetFileName(file)} as storescp wrote it");
            }
        }
        finally
        {
            storescp.Kill(entireProcessTree: true);
            await storescp.WaitForExitAsync();
        }
    }

    // ---------------------------------------------------------------- Query/Retrieve

    private static async Task<TestServer> QueryRetrieveServerAsync(Action<CorpusArchive>? configure = null)
    {
        var archive = await CorpusArchive.LoadAsync(Services.QueryRetrieveTests.ArchiveFiles);
        configure?.Invoke(archive);
        return new TestServer(o =>
        {
            o.Services.QueryHandler = archive;
            o.Services.MoveDestinationResolver = archive;
        });
    }

    [Fact]
    public async Task Findscu_at_patient_study_and_image_levels()
    {
        await using var server = await QueryRetrieveServerAsync();
        using var output = new TempFolder();
        var study = await Dcmtk.RunAsync("findscu", "-S", "-aec", "YINGYUN", "-X", "-od", output.Path,
            "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientName=Compressed*", "-k", "PatientID", "-k", "StudyInstanceUID", "-k", "StudyDate=20040101-",
            "127.0.0.1", Port(server.Port));
        study.ExitCode.Should().Be(0, study.ToString());
        var answers = new List<DicomDataset>();
        foreach (var file in Directory.GetFiles(output.Path).Order()) answers.Add((await DicomReader.OpenAsync(file)).Dataset);
        answers.Select(a => a.GetString(DicomTags.PatientID)).Should().BeEquivalentTo("1CT1", "4MR1", "8NM1");

        var patient = await Dcmtk.RunAsync("findscu", "-P", "-aec", "YINGYUN", "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID=id*", "-k", "PatientName",
            "127.0.0.1", Port(server.Port));
        patient.ExitCode.Should().Be(0, patient.ToString());
        patient.Output.Should().Contain("Last^First^mid^pre");

        var image = await Dcmtk.RunAsync("findscu", "-S", "-aec", "YINGYUN", "-k", "QueryRetrieveLevel=IMAGE", "-k", $"StudyInstanceUID={Services.QueryRetrieveTests.Nm}",
            "-k", "SeriesInstanceUID", "-k", "SOPInstanceUID", "127.0.0.1", Port(server.Port));
        image.ExitCode.Should().Be(0, image.ToString());
        image.Output.Should().Contain("1.3.6.1.4.1.5962.1.1.8.1.3.20040826185059.5457").And.Contain("1.3.6.1.4.1.5962.1.1.8.1.5.20040826185059.5457");
    }

    [Fact]
    public async Task Movescu_moves_a_study_to_storescp()
    {
        using var output = new TempFolder();
        int port = Dcmtk.FreePort();
        await using var server = await QueryRetrieveServerAsync(a => a.Nodes["STORESCP"] = new DicomNode("STORESCP", "127.0.0.1", port));
        using var storescp = Dcmtk.Start("storescp", "-aet", "STORESCP", "+xa", "+B", "-od", output.Path, Port(port));
        try
        {
            await Dcmtk.WaitUntilListeningAsync(port, storescp);
            var move = await Dcmtk.RunAsync("movescu", "-S", "-aet", "MOVESCU", "-aec", "YINGYUN", "-aem", "STORESCP",
                "-k", "QueryRetrieveLevel=STUDY", "-k", $"StudyInstanceUID={Services.QueryRetrieveTests.Nm}", "127.0.0.1", Port(server.Port));
            move.ExitCode.Should().Be(0, move.ToString());
            var unknown = await Dcmtk.RunAsync("movescu", "-S", "-aec", "YINGYUN", "-aem", "NOWHERE",
                "-k", "QueryRetrieveLevel=STUDY", "-k", $"StudyInstanceUID={Services.QueryRetrieveTests.Nm}", "127.0.0.1", Port(server.Port));
            unknown.Output.Should().Contain("MoveDestinationUnknown", unknown.ToString());
        }
        finally
        {
            storescp.Kill(entireProcessTree: true);
            await storescp.WaitForExitAsync();
        }
        var received = new Dictionary<string, string>();
        foreach (var path in Directory.GetFiles(output.Path)) received[(await Part10Header.ReadAsync(path)).SopInstanceUid] = path;
        foreach (var name in new[] { "JPEG2000.dcm", "JPEG-lossy.dcm" })
        {
            var header = await Part10Header.ReadAsync(Corpus.File(name));
            received.Should().ContainKey(header.SopInstanceUid);
            Corpus.DataSetBytes(received[header.SopInstanceUid]).Should().Equal(Corpus.DataSetBytes(Corpus.File(name)), name);
        }
    }

    [Fact]
    public async Task Getscu_gets_a_study_and_a_single_compressed_image()
    {
        await using var server = await QueryRetrieveServerAsync();
        using var output = new TempFolder();
        var ct = await Part10Header.ReadAsync(Corpus.File("CT_small.dcm"));
        var ctStudy = (await DicomReader.OpenAsync(Corpus.File("CT_small.dcm"))).Dataset.GetString(DicomTags.StudyInstanceUID)!;
        var get = await Dcmtk.RunAsync("getscu", "-S", "-aec", "YINGYUN", "+B", "-od", output.Path,
            "-k", "QueryRetrieveLevel=STUDY", "-k", $"StudyInstanceUID={ctStudy}", "127.0.0.1", Port(server.Port));
        get.ExitCode.Should().Be(0, get.ToString());

        var j2kFile = (await DicomReader.OpenAsync(Corpus.File("JPEG2000.dcm"))).Dataset;
        var j2k = await Dcmtk.RunAsync("getscu", "-S", "+xw", "-aec", "YINGYUN", "+B", "-od", output.Path,
            "-k", "QueryRetrieveLevel=IMAGE", "-k", $"StudyInstanceUID={j2kFile.GetString(DicomTags.StudyInstanceUID)}",
            "-k", $"SeriesInstanceUID={j2kFile.GetString(DicomTags.SeriesInstanceUID)}", "-k", $"SOPInstanceUID={j2kFile.GetString(DicomTags.SOPInstanceUID)}",
            "127.0.0.1", Port(server.Port));
        j2k.ExitCode.Should().Be(0, j2k.ToString());

        var received = new Dictionary<string, string>();
        foreach (var path in Directory.GetFiles(output.Path)) received[(await Part10Header.ReadAsync(path)).SopInstanceUid] = path;
        received.Should().HaveCount(2);
        Corpus.DataSetBytes(received[ct.SopInstanceUid]).Should().Equal(Corpus.DataSetBytes(Corpus.File("CT_small.dcm")));
        var j2kUid = j2kFile.GetString(DicomTags.SOPInstanceUID)!;
        (await Part10Header.ReadAsync(received[j2kUid])).TransferSyntax.Should().Be(DicomTransferSyntax.JPEG2000);
        Corpus.DataSetBytes(received[j2kUid]).Should().Equal(Corpus.DataSetBytes(Corpus.File("JPEG2000.dcm")));
    }
}
