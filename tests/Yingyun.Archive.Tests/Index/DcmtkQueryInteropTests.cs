using System.Globalization;
using System.Net;
using Yingyun.Archive.Index;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tenants;
using Yingyun.Dicom;
using Yingyun.Dimse;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Archive.Tests.Index;

/// <summary>DCMTK's findscu and movescu against a DicomServer whose Query/Retrieve SCP is the index
/// (<see cref="IndexQueryHandler"/>) filled from real files: pydicom's corpus and its character-set files (UTF-8,
/// GB18030, Latin-1 names).</summary>
public sealed class DcmtkQueryInteropTests : IAsyncLifetime
{
    private const string CtStudy = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322";
    private TestIndex _index = null!;
    private DicomServer _server = null!;
    private readonly Dictionary<string, InstanceEvent> _loaded = [];

    private int Port => _server.LocalEndPoint.Port;

    public async Task InitializeAsync()
    {
        _index = await TestIndex.CreateAsync();
        var tenants = new TenantDirectory(_index.Store);
        await tenants.InitializeAsync([
            new TenantConfig { Id = "hospital-a", AeTitles = ["FINDSCU", "MOVESCU"] },
            new TenantConfig { Id = "hospital-b", AeTitles = ["OTHERSCU"] },
        ]);
        long version = 1;
        var events = new List<InstanceEvent>();
        foreach (var file in new[] { Corpus.File("CT_small.dcm"), Corpus.File("MR_small.dcm"), Corpus.File("JPEG2000.dcm"),
                     TestEvents.CharsetFile("chrX1.dcm"), TestEvents.CharsetFile("chrX2.dcm"), TestEvents.CharsetFile("chrFren.dcm"), TestEvents.CharsetFile("chrGerm.dcm") })
        {
            var e = await TestEvents.FromFileAsync(file, "hospital-a", version++, _index.BlobRoot);
            _loaded[Path.GetFileName(file)] = e;
            events.Add(e);
        }
        events.Add(await TestEvents.FromFileAsync(Corpus.File("CT_small.dcm"), "hospital-b", version++, _index.BlobRoot));
        await _index.Store.ApplyInstancesAsync(events);

        var handler = new IndexQueryHandler(_index.Store, tenants, _index.BlobRoot);
        var options = new DicomServerOptions { Address = IPAddress.Loopback, Port = 0, AeTitle = "YINGYUN" };
        options.Policy.Authorizer = new TenantAssociationAuthorizer(tenants);
        options.Services.QueryHandler = handler;
        options.Services.MoveDestinationResolver = handler;
        _server = new DicomServer(options);
        _server.Start();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _index.DisposeAsync();
    }

    private async Task<List<DicomDataset>> FindscuAsync(string callingAe, string model, params string[] keys)
    {
        using var output = new TempFolder();
        var arguments = new List<string> { model, "-aet", callingAe, "-aec", "YINGYUN", "-X", "-od", output.Path };
        foreach (var key in keys) arguments.AddRange(["-k", key]);
        arguments.AddRange(["127.0.0.1", Port.ToString(CultureInfo.InvariantCulture)]);
        var result = await Dcmtk.RunAsync("findscu", [.. arguments]);
        result.ExitCode.Should().Be(0, result.ToString());
        var answers = new List<DicomDataset>();
        foreach (var file in Directory.GetFiles(output.Path).Order(StringComparer.Ordinal)) answers.Add((await DicomReader.OpenAsync(file)).Dataset);
        return answers;
    }

    [Fact]
    public async Task Findscu_matches_chinese_and_latin_names_case_insensitively()
    {
        var chinese = await FindscuAsync("FINDSCU", "-S", "SpecificCharacterSet=ISO_IR 192", "QueryRetrieveLevel=STUDY", "PatientName=王*", "PatientID", "StudyInstanceUID");
        chinese.Select(a => a.GetString(DicomTags.PatientID)).Should().BeEquivalentTo("X1EXAMPLE", "X2EXAMPLE");
        chinese.Select(a => a.GetString(DicomTags.PatientName)).Should().BeEquivalentTo(["Wang^XiaoDong=王^小東=", "Wang^XiaoDong=王^小东="],
            "chrX2 (GB18030) was indexed decoded, and answers are UTF-8");
        chinese.Should().AllSatisfy(a => a.GetString(DicomTag.SpecificCharacterSetTag).Should().Be("ISO_IR 192"));

        var french = await FindscuAsync("FINDSCU", "-S", "SpecificCharacterSet=ISO_IR 192", "QueryRetrieveLevel=STUDY", "PatientName=buc^jérôme", "PatientID");
        french.Should().ContainSingle().Which.GetString(DicomTags.PatientID).Should().Be("SCSFREN");
        var german = await FindscuAsync("FINDSCU", "-P", "SpecificCharacterSet=ISO_IR 192", "QueryRetrieveLevel=PATIENT", "PatientName=ÄNEAS*", "PatientID");
        german.Should().ContainSingle().Which.GetString(DicomTags.PatientName).Should().Be("Äneas^Rüdiger");
    }

    [Fact]
    public async Task Findscu_at_every_level_of_both_models()
    {
        var ct = _loaded["CT_small.dcm"];
        var patients = await FindscuAsync("FINDSCU", "-P", "QueryRetrieveLevel=PATIENT", "PatientID=" + ct.PatientId, "NumberOfPatientRelatedInstances");
        patients.Should().ContainSingle().Which.GetString(DicomTags.NumberOfPatientRelatedInstances).Should().Be("1");

        var studies = await FindscuAsync("FINDSCU", "-P", "QueryRetrieveLevel=STUDY", "PatientID=" + ct.PatientId, "StudyInstanceUID", "ModalitiesInStudy");
        studies.Should().ContainSingle().Which.GetString(DicomTags.StudyInstanceUID).Should().Be(CtStudy);
        studies[0].GetString(DicomTags.ModalitiesInStudy).Should().Be("CT");

        var series = await FindscuAsync("FINDSCU", "-S", "QueryRetrieveLevel=SERIES", "StudyInstanceUID=" + CtStudy, "SeriesInstanceUID", "Modality",
            "NumberOfSeriesRelatedInstances");
        series.Should().ContainSingle().Which.GetString(DicomTags.SeriesInstanceUID).Should().Be(ct.SeriesUid);

        var images = await FindscuAsync("FINDSCU", "-S", "QueryRetrieveLevel=IMAGE", "StudyInstanceUID=" + CtStudy, "SeriesInstanceUID=" + ct.SeriesUid,
            "SOPInstanceUID", "Rows", "Columns");
        var image = images.Should().ContainSingle().Subject;
        image.GetString(DicomTags.SOPInstanceUID).Should().Be(ct.SopUid);
        image.GetValue<ushort>(DicomTags.Rows).Should().Be((ushort)ct.Rows!.Value);

        var dates = await FindscuAsync("FINDSCU", "-S", "QueryRetrieveLevel=STUDY", "StudyDate=20040101-20041231", "StudyInstanceUID");
        dates.Select(a => a.GetString(DicomTags.StudyInstanceUID)).Should().BeEquivalentTo(
            _loaded.Values.Where(e => string.CompareOrdinal(e.StudyDate, "20040101") >= 0 && string.CompareOrdinal(e.StudyDate, "20041231") <= 0).Select(e => e.StudyUid).Distinct());
        dates.Should().NotBeEmpty();
    }

    [Fact]
    public async Task Findscu_sees_only_its_tenant_and_a_bad_query_fails()
    {
        var other = await FindscuAsync("OTHERSCU", "-S", "QueryRetrieveLevel=STUDY", "StudyInstanceUID", "PatientName");
        other.Should().ContainSingle().Which.GetString(DicomTags.StudyInstanceUID).Should().Be(CtStudy);

        var result = await Dcmtk.RunAsync("findscu", "-d", "-S", "-aec", "YINGYUN", "-k", "QueryRetrieveLevel=SERIES", "-k", "SeriesInstanceUID",
            "127.0.0.1", Port.ToString(CultureInfo.InvariantCulture));
        // C000 "unable to process" with the reason as Error Comment (0000,0902) (PS3.4 §C.4.1.1.4).
        result.Output.Should().Contain("Unable to process", result.ToString()).And.Contain("SERIES query needs one StudyInstanceUID (0020,000D)");
    }

    [Fact]
    public async Task Movescu_moves_a_study_to_the_tenant_node()
    {
        using var received = new TempFolder();
        int storePort = Dcmtk.FreePort();
        await _index.Store.UpsertNodeAsync(new NodeConfig { Tenant = "hospital-a", AeTitle = "STORESCP", Host = "127.0.0.1", Port = storePort });
        using var storescp = Dcmtk.Start("storescp", "-aet", "STORESCP", "+xa", "-od", received.Path, storePort.ToString(CultureInfo.InvariantCulture));
        try
        {
            await Dcmtk.WaitUntilListeningAsync(storePort, storescp);
            var ct = _loaded["CT_small.dcm"];
            var move = await Dcmtk.RunAsync("movescu", "-S", "-aec", "YINGYUN", "-aem", "STORESCP", "-k", "QueryRetrieveLevel=STUDY",
                "-k", "StudyInstanceUID=" + CtStudy, "127.0.0.1", Port.ToString(CultureInfo.InvariantCulture));
            move.ExitCode.Should().Be(0, move.ToString());
            var files = Directory.GetFiles(received.Path);
            files.Should().ContainSingle();
            (await Part10Header.ReadAsync(files[0])).SopInstanceUid.Should().Be(ct.SopUid);

            var unknown = await Dcmtk.RunAsync("movescu", "-S", "-aec", "YINGYUN", "-aem", "NOWHERE", "-k", "QueryRetrieveLevel=STUDY",
                "-k", "StudyInstanceUID=" + CtStudy, "127.0.0.1", Port.ToString(CultureInfo.InvariantCulture));
            unknown.Output.Should().Contain("MoveDestinationUnknown", unknown.ToString());
        }
        finally
        {
            storescp.Kill(entireProcessTree: true);
            await storescp.WaitForExitAsync();
        }
    }
}
