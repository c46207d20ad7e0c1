using Yingyun.Dicom;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Dimse.Tests.Services;

/// <summary>C-FIND, C-MOVE, C-GET and C-CANCEL, Yingyun SCU against Yingyun SCP.</summary>
public class QueryRetrieveTests
{
    internal static readonly string[] ArchiveFiles = ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "JPEG-lossy.dcm", "rtplan.dcm", "SC_rgb_jpeg_dcmtk.dcm"];

    internal const string Nm = "1.3.6.1.4.1.5962.1.2.8.20040826185059.5457";

    private static DicomDataset StudyQuery(string? patientName = null, string? studyUid = null)
    {
        var q = new DicomDataset();
        q.AddOrUpdate(QueryRetrieve.QueryRetrieveLevel, "STUDY");
        q.AddOrUpdate(DicomTags.PatientName, patientName ?? "");
        q.AddOrUpdate(DicomTags.PatientID, "");
        q.AddOrUpdate(DicomTags.StudyDate, "");
        q.AddOrUpdate(DicomTags.StudyInstanceUID, studyUid ?? "");
        return q;
    }

    private static async Task<(TestServer Server, CorpusArchive Archive)> StartAsync()
    {
        var archive = await CorpusArchive.LoadAsync(ArchiveFiles);
        var server = new TestServer(o =>
        {
            o.Services.QueryHandler = archive;
            o.Services.MoveDestinationResolver = archive;
        });
        return (server, archive);
    }

    [Fact]
    public async Task Find_studies_with_a_wildcard()
    {
        var (server, _) = await StartAsync();
        await using var _s = server;
        await using var association = await DicomClient.ConnectAsync(server.Client(), [DicomUids.StudyRootQueryRetrieveInformationModelFind]);
        var (status, matches) = await association.FindAllAsync(DicomUids.StudyRootQueryRetrieveInformationModelFind, StudyQuery("CompressedSamples*"));
        status.Should().Be(DimseStatus.Success);
        matches.Select(m => m.GetString(DicomTags.PatientID)).Should().BeEquivalentTo("1CT1", "4MR1", "8NM1");
        matches.Should().OnlyContain(m => m.GetString(QueryRetrieve.QueryRetrieveLevel) == "STUDY");
        matches.Single(m => m.GetString(DicomTags.PatientID) == "8NM1").GetString(DicomTags.StudyInstanceUID).Should().Be(Nm);

        var (_, byDate) = await association.FindAllAsync(DicomUids.StudyRootQueryRetrieveInformationModelFind, WithDate(StudyQuery(), "20030101-20041231"));
        byDate.Should().HaveCount(4);
        await association.ReleaseAsync();
    }

    private static DicomDataset WithDate(DicomDataset q, string range)
    {
        q.AddOrUpdate(DicomTags.StudyDate, range);
        return q;
    }

    [Fact]
    public async Task Find_patients_in_the_patient_root_model_and_refuse_a_bad_level()
    {
        var (server, _) = await StartAsync();
        await using var _s = server;
        await using var association = await DicomClient.ConnectAsync(server.Client(),
            [DicomUids.PatientRootQueryRetrieveInformationModelFind, DicomUids.StudyRootQueryRetrieveInformationModelFind]);
        var q = new DicomDataset();
        q.AddOrUpdate(QueryRetrieve.QueryRetrieveLevel, "PATIENT");
        q.AddOrUpdate(DicomTags.PatientID, "id*");
        q.AddOrUpdate(DicomTags.PatientName, "");
        var (status, matches) = await association.FindAllAsync(DicomUids.PatientRootQueryRetrieveInformationModelFind, q);
        status.Should().Be(DimseStatus.Success);
        matches.Should().ContainSingle().Which.GetString(DicomTags.PatientName).Should().Be("Last^First^mid^pre");

        // Study Root has no PATIENT level (PS3.4 §C.6.2): A900.
        (await association.FindAllAsync(DicomUids.StudyRootQueryRetrieveInformationModelFind, q)).Status.Should().Be(DimseStatus.DataSetDoesNotMatchSopClass);
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Find_is_cancelled_by_c_cancel()
    {
        var (server, archive) = await StartAsync();
        await using var _s = server;
        // The SCP stops after the first match until cancelled: only a C-CANCEL can end this query.
        archive.BeforeMatch = (n, ct) => n == 0 ? Task.CompletedTask : Task.Delay(Timeout.Infinite, ct);
        await using var association = await DicomClient.ConnectAsync(server.Client(), [DicomUids.StudyRootQueryRetrieveInformationModelFind]);
        using var cancel = new CancellationTokenSource();
        var seen = new List<DicomDataset>();
        var status = await association.FindAsync(DicomUids.StudyRootQueryRetrieveInformationModelFind, StudyQuery(), async m =>
        {
            seen.Add(m);
            await cancel.CancelAsync();
        }, cancellationToken: cancel.Token);
        status.Should().Be(DimseStatus.Cancel);
        seen.Should().ContainSingle();
        // The association is still in step.
        (await association.FindAllAsync(DicomUids.StudyRootQueryRetrieveInformationModelFind, StudyQuery(studyUid: Nm))).Matches.Should().ContainSingle();
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Move_a_study_to_another_ae()
    {
        var (server, archive) = await StartAsync();
        await using var _s = server;
        await using var destination = new TestServer(o => o.AeTitle = "DEST");
        archive.Nodes["DEST"] = new DicomNode("DEST", "127.0.0.1", destination.Port);
        await using var association = await DicomClient.ConnectAsync(server.Client(), [DicomUids.StudyRootQueryRetrieveInformationModelMove]);
        var progress = new List<DimseCommand>();
        var result = await association.MoveAsync(DicomUids.StudyRootQueryRetrieveInformationModelMove, "DEST", StudyQuery(studyUid: Nm), progress.Add);
        result.Status.Should().Be(DimseStatus.Success, result.ErrorComment);
        result.Completed.Should().Be(2);
        result.Failed.Should().Be(0);
        progress.Should().ContainSingle().Which.NumberOfRemainingSuboperations.Should().Be(1);
        foreach (var name in new[] { "JPEG2000.dcm", "JPEG-lossy.dcm" })
        {
            var header = await Part10Header.ReadAsync(Corpus.File(name));
            Corpus.DataSetBytes(destination.Store.PathFor(header.SopInstanceUid)).Should().Equal(Corpus.DataSetBytes(Corpus.File(name)));
        }

        var unknown = await association.MoveAsync(DicomUids.StudyRootQueryRetrieveInformationModelMove, "NOWHERE", StudyQuery(studyUid: Nm));
        unknown.Status.Should().Be(DimseStatus.MoveDestinationUnknown);
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Move_to_a_destination_that_refuses_reports_the_failures()
    {
        var (server, archive) = await StartAsync();
        await using var _s = server;
        await using var destination = new TestServer(o =>
        {
            o.AeTitle = "DEST";
            o.Policy.AbstractSyntaxes.Remove(DicomUids.SecondaryCaptureImageStorage);
        });
        archive.Nodes["DEST"] = new DicomNode("DEST", "127.0.0.1", destination.Port);
        await using var association = await DicomClient.ConnectAsync(server.Client(), [DicomUids.StudyRootQueryRetrieveInformationModelMove]);
        var result = await association.MoveAsync(DicomUids.StudyRootQueryRetrieveInformationModelMove, "DEST", StudyQuery(studyUid: Nm));
        // Every sub-operation failed: A702, with both instances in the Failed SOP Instance UID List.
        result.Status.Should().Be(DimseStatus.OutOfResourcesUnableToPerformSubOperations);
        result.Failed.Should().Be(2);
        result.Completed.Should().Be(0);
        result.FailedSopInstanceUids.Should().BeEquivalentTo(
            (await Part10Header.ReadAsync(Corpus.File("JPEG2000.dcm"))).SopInstanceUid,
            (await Part10Header.ReadAsync(Corpus.File("JPEG-lossy.dcm"))).SopInstanceUid);
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Get_a_study_back_on_the_same_association()
    {
        var (server, _) = await StartAsync();
        await using var _s = server;
        using var received = new TempFolder();
        var store = new FolderStoreHandler(received.Path);
        var builder = new AssociationRequestBuilder("GETSCU", "YINGYUN");
        builder.AddPresentationContext(DicomUids.StudyRootQueryRetrieveInformationModelGet);
        foreach (var name in new[] { "JPEG2000.dcm", "JPEG-lossy.dcm" })
        {
            var header = await Part10Header.ReadAsync(Corpus.File(name));
            builder.AddPresentationContext(header.SopClassUid, header.TransferSyntax.Uid);
            builder.AddRoleSelection(header.SopClassUid, scuRole: false, scpRole: true);
        }
        var options = server.Client("GETSCU");
        options.Services = new DimseServices { StoreHandler = store };
        await using var association = await DicomClient.ConnectAsync(options, builder.Build());
        var result = await association.GetAsync(DicomUids.StudyRootQueryRetrieveInformationModelGet, StudyQuery(studyUid: Nm));
        result.Status.Should().Be(DimseStatus.Success, result.ErrorComment);
        result.Completed.Should().Be(2);
        foreach (var name in new[] { "JPEG2000.dcm", "JPEG-lossy.dcm" })
        {
            var header = await Part10Header.ReadAsync(Corpus.File(name));
            Corpus.DataSetBytes(store.PathFor(header.SopInstanceUid)).Should().Equal(Corpus.DataSetBytes(Corpus.File(name)));
        }
        await association.ReleaseAsync();
    }
}
