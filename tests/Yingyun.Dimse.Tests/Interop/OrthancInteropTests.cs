using System.Diagnostics;
using System.Text.Json.Nodes;
using Yingyun.Dicom;
using Yingyun.Dimse.Tests.Infrastructure;
using Yingyun.Dimse.Tests.Services;

namespace Yingyun.Dimse.Tests.Interop;

/// <summary>Yingyun against Orthanc (Debian package orthanc), each test with an Orthanc of its own on 127.0.0.1:
/// Orthanc driving Yingyun's SCP through its REST API (store, echo, find, move, storage commitment), and Yingyun's SCU
/// against Orthanc's SCP (store, find, move, get, storage commitment).</summary>
public sealed class OrthancInteropTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private const string Nm = QueryRetrieveTests.Nm;

    private readonly List<IAsyncDisposable> _cleanup = [];
    private readonly TempFolder _downloads = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (int i = _cleanup.Count - 1; i >= 0; i--) await _cleanup[i].DisposeAsync();
        _downloads.Dispose();
    }

    private T Own<T>(T disposable) where T : IAsyncDisposable
    {
        _cleanup.Add(disposable);
        return disposable;
    }

    /// <summary>Yingyun's SCP (store to a folder, query/retrieve over the corpus archive, commitment from the folder),
    /// then an Orthanc that knows it as modality "yingyun"; Yingyun knows Orthanc back as "ORTHANC".</summary>
    private async Task<(TestServer Yingyun, CorpusArchive Archive, OrthancProcess Orthanc)> StartPairAsync(
        StorageCommitmentReportDelivery delivery = StorageCommitmentReportDelivery.SameAssociationIfOpen)
    {
        var archive = await CorpusArchive.LoadAsync(QueryRetrieveTests.ArchiveFiles);
        var yingyun = Own(new TestServer(o =>
        {
            o.Services.QueryHandler = archive;
            o.Services.MoveDestinationResolver = archive;
            o.Services.StorageCommitmentRequestorResolver = archive;
            o.Services.StorageCommitmentReportDelivery = delivery;
        }));
        yingyun.Options.Services.StorageCommitmentHandler = new FolderStorageCommitmentHandler(yingyun.Store.Folder);
        var options = new OrthancOptions();
        options.Modalities["yingyun"] = new DicomNode("YINGYUN", "127.0.0.1", yingyun.Port);
        var orthanc = Own(await OrthancProcess.StartAsync(options));
        archive.Nodes["ORTHANC"] = orthanc.Node;
        return (yingyun, archive, orthanc);
    }

    private static async Task<Dictionary<string, string>> UploadAsync(OrthancProcess orthanc, params string[] names)
    {
        var ids = new Dictionary<string, string>();
        foreach (var name in names) ids[name] = await orthanc.UploadAsync(Corpus.File(name));
        return ids;
    }

    private static async Task<Part10Header> HeaderAsync(string name) => await Part10Header.ReadAsync(Corpus.File(name));

    /// <summary>Downloads Orthanc's copy of <paramref name="sopInstanceUid"/> and compares its data set with the
    /// corpus file <paramref name="name"/>.</summary>
    private async Task AssertOrthancHoldsAsync(OrthancProcess orthanc, string name, string sopInstanceUid)
    {
        var id = await orthanc.FindInstanceAsync(sopInstanceUid);
        id.Should().NotBeNull($"Orthanc should hold {name}\n{orthanc.Log}");
        string copy = Path.Combine(_downloads.Path, sopInstanceUid + ".dcm");
        await orthanc.DownloadAsync(id!, copy);
        await DataSetComparer.AssertSameDataSetAsync(Corpus.File(name), copy);
    }

    /// <summary>GET /storage-commitment/{uid} until the report is no longer pending: Orthanc records the
    /// N-EVENT-REPORT when it arrives, and its REST API is the only way to see it.</summary>
    private static async Task<JsonNode> AwaitCommitmentReportAsync(OrthancProcess orthanc, string transactionUid)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var report = await orthanc.GetJsonAsync($"storage-commitment/{transactionUid}");
            if (report["Status"]!.GetValue<string>() != "Pending") return report;
            if (clock.Elapsed > Patience) throw new TimeoutException($"storage commitment {transactionUid} still pending\n{orthanc.Log}");
            await Task.Delay(50);
        }
    }

    private static JsonObject DicomInstance(SopReference reference) =>
        new() { ["SOPClassUID"] = reference.SopClassUid, ["SOPInstanceUID"] = reference.SopInstanceUid };

    // ================================================================ Orthanc as SCU, Yingyun as SCP

    [Fact]
    public async Task Orthanc_echoes_and_pushes_corpus_files_to_yingyun_which_stores_them_unchanged()
    {
        var (yingyun, _, orthanc) = await StartPairAsync();
        (await orthanc.PostJsonAsync("modalities/yingyun/echo", new JsonObject())).Should().NotBeNull();

        var names = QueryRetrieveTests.ArchiveFiles;
        var ids = await UploadAsync(orthanc, names);
        var job = await orthanc.PostJsonAsync("modalities/yingyun/store", new JsonObject
        {
            ["Resources"] = new JsonArray([.. ids.Values.Select(id => (JsonNode)id)]),
            ["Synchronous"] = true,
        });
        job["FailedInstancesCount"]!.GetValue<int>().Should().Be(0, job.ToJsonString());
        job["InstancesCount"]!.GetValue<int>().Should().Be(names.Length);

        foreach (var name in names)
        {
            var header = await HeaderAsync(name);
            string stored = yingyun.Store.PathFor(header.SopInstanceUid);
            File.Exists(stored).Should().BeTrue($"{name} should have reached Yingyun");
            (await Part10Header.ReadAsync(stored)).TransferSyntax.Should().Be(header.TransferSyntax, $"{name} is sent in its own syntax");
            await DataSetComparer.AssertSameDataSetAsync(Corpus.File(name), stored);
        }
    }

    [Fact]
    public async Task Orthanc_queries_yingyun_at_study_and_series_level_with_wildcards()
    {
        var (_, _, orthanc) = await StartPairAsync();
        var studies = await QueryAsync(orthanc, "Study", new JsonObject { ["PatientName"] = "CompressedSamples*", ["PatientID"] = "", ["StudyInstanceUID"] = "" });
        studies.Select(a => a["PatientID"]).Should().BeEquivalentTo("1CT1", "4MR1", "8NM1");
        studies.Single(a => a["PatientID"] == "8NM1")["StudyInstanceUID"].Should().Be(Nm);

        var series = await QueryAsync(orthanc, "Series", new JsonObject { ["StudyInstanceUID"] = Nm, ["SeriesInstanceUID"] = "", ["Modality"] = "" });
        var expected = new HashSet<string>();
        foreach (var name in new[] { "JPEG2000.dcm", "JPEG-lossy.dcm" })
            expected.Add((await DicomReader.OpenAsync(Corpus.File(name), new DicomReaderOptions { StopBeforeTag = DicomTag.PixelDataTag })).Dataset.GetString(DicomTags.SeriesInstanceUID)!);
        series.Select(a => a["SeriesInstanceUID"]).Should().BeEquivalentTo(expected);
    }

    /// <summary>POST /modalities/yingyun/query, then the answers, simplified to keyword → value.</summary>
    private static async Task<List<Dictionary<string, string>>> QueryAsync(OrthancProcess orthanc, string level, JsonObject query)
    {
        var created = await orthanc.PostJsonAsync("modalities/yingyun/query", new JsonObject { ["Level"] = level, ["Query"] = query });
        string id = created["ID"]!.GetValue<string>();
        var answers = await orthanc.GetJsonAsync($"queries/{id}/answers?expand&simplify");
        return [.. answers.AsArray().Select(a => a!.AsObject().ToDictionary(p => p.Key, p => p.Value?.ToString() ?? ""))];
    }

    [Fact]
    public async Task Orthanc_moves_a_study_from_yingyun_to_itself()
    {
        var (_, _, orthanc) = await StartPairAsync();
        var created = await orthanc.PostJsonAsync("modalities/yingyun/query", new JsonObject
        {
            ["Level"] = "Study",
            ["Query"] = new JsonObject { ["StudyInstanceUID"] = Nm },
        });
        // C-MOVE of the query's answers to Orthanc itself (its AE title is the default target).
        await orthanc.PostJsonAsync($"queries/{created["ID"]!.GetValue<string>()}/retrieve", new JsonObject { ["TargetAet"] = "ORTHANC", ["Synchronous"] = true });
        foreach (var name in new[] { "JPEG2000.dcm", "JPEG-lossy.dcm" })
            await AssertOrthancHoldsAsync(orthanc, name, (await HeaderAsync(name)).SopInstanceUid);
        (await orthanc.FindInstanceAsync((await HeaderAsync("CT_small.dcm")).SopInstanceUid)).Should().BeNull("only the study asked for moves");
    }

    [Theory]
    [InlineData(StorageCommitmentReportDelivery.SameAssociationIfOpen)]
    [InlineData(StorageCommitmentReportDelivery.NewAssociation)]
    public async Task Orthanc_requests_storage_commitment_from_yingyun(StorageCommitmentReportDelivery delivery)
    {
        var (yingyun, _, orthanc) = await StartPairAsync(delivery);
        // CT_small is stored on Yingyun; MR_small is not; CT_small asked for as MR is a class/instance conflict.
        await using (var association = await DicomClient.ConnectAsync(yingyun.Client(),
            new AssociationRequestBuilder("TESTSCU", "YINGYUN").AddStorageContexts([await HeaderAsync("CT_small.dcm")]).Build()))
        {
            (await association.StoreFileAsync(Corpus.File("CT_small.dcm"))).IsSuccess.Should().BeTrue();
            await association.ReleaseAsync();
        }
        var ct = await HeaderAsync("CT_small.dcm");
        var mr = await HeaderAsync("MR_small.dcm");
        var created = await orthanc.PostJsonAsync("modalities/yingyun/storage-commitment", new JsonObject
        {
            ["DicomInstances"] = new JsonArray(
                DicomInstance(new(ct.SopClassUid, ct.SopInstanceUid)),
                DicomInstance(new(mr.SopClassUid, mr.SopInstanceUid)),
                DicomInstance(new(DicomUids.MRImageStorage, ct.SopInstanceUid))),
        });
        var report = await AwaitCommitmentReportAsync(orthanc, created["ID"]!.GetValue<string>());
        report["Status"]!.GetValue<string>().Should().Be("Failure", report.ToJsonString());
        report["RemoteAET"]!.GetValue<string>().Should().Be("YINGYUN");
        report["Success"]!.AsArray().Select(s => s!["SOPInstanceUID"]!.GetValue<string>()).Should().Equal(ct.SopInstanceUid);
        var failures = report["Failures"]!.AsArray().Select(f => new FailedSopReference(f!["SOPClassUID"]!.GetValue<string>(),
            f["SOPInstanceUID"]!.GetValue<string>(), (StorageCommitmentFailureReason)f["FailureReason"]!.GetValue<int>()));
        failures.Should().BeEquivalentTo(
        [
            new FailedSopReference(mr.SopClassUid, mr.SopInstanceUid, StorageCommitmentFailureReason.NoSuchObjectInstance),
            new FailedSopReference(DicomUids.MRImageStorage, ct.SopInstanceUid, StorageCommitmentFailureReason.ClassInstanceConflict),
        ]);
    }

    [Fact]
    public async Task Orthanc_stores_to_yingyun_with_storage_commitment_answered_from_the_folder()
    {
        var (yingyun, _, orthanc) = await StartPairAsync();
        var names = new[] { "CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm" };
        var ids = await UploadAsync(orthanc, names);
        var job = await orthanc.PostJsonAsync("modalities/yingyun/store", new JsonObject
        {
            ["Resources"] = new JsonArray([.. ids.Values.Select(id => (JsonNode)id)]),
            ["StorageCommitment"] = true,
            ["Synchronous"] = true,
        });
        job["FailedInstancesCount"]!.GetValue<int>().Should().Be(0, job.ToJsonString());
        var report = await AwaitCommitmentReportAsync(orthanc, job["StorageCommitmentTransactionUID"]!.GetValue<string>());
        report["Status"]!.GetValue<string>().Should().Be("Success", report.ToJsonString());
        report["Failures"]!.AsArray().Should().BeEmpty();
        var committed = report["Success"]!.AsArray().Select(s => s!["SOPInstanceUID"]!.GetValue<string>()).ToList();
        var expected = new List<string>();
        foreach (var name in names) expected.Add((await HeaderAsync(name)).SopInstanceUid);
        committed.Should().BeEquivalentTo(expected);
        foreach (var uid in expected) File.Exists(yingyun.Store.PathFor(uid)).Should().BeTrue();
    }

    // ================================================================ Yingyun as SCU, Orthanc as SCP

    private static DicomClientOptions ToOrthanc(OrthancProcess orthanc, string callingAe = "YINGYUN") =>
        new() { Host = "127.0.0.1", Port = orthanc.DicomPort, CallingAeTitle = callingAe, CalledAeTitle = orthanc.AeTitle };

    [Fact]
    public async Task Yingyun_sends_corpus_files_to_orthanc()
    {
        var orthanc = Own(await OrthancProcess.StartAsync());
        var names = QueryRetrieveTests.ArchiveFiles;
        var headers = new List<Part10Header>();
        foreach (var name in names) headers.Add(await HeaderAsync(name));
        var builder = new AssociationRequestBuilder("YINGYUN", orthanc.AeTitle).AddStorageContexts(headers);
        await using (var association = await DicomClient.ConnectAsync(ToOrthanc(orthanc), builder.Build()))
        {
            foreach (var name in names)
            {
                var result = await association.StoreFileAsync(Corpus.File(name));
                result.IsSuccess.Should().BeTrue($"{result}\n{orthanc.Log}");
            }
            await association.ReleaseAsync();
        }
        for (int i = 0; i < names.Length; i++) await AssertOrthancHoldsAsync(orthanc, names[i], headers[i].SopInstanceUid);
    }

    [Fact]
    public async Task Yingyun_finds_on_orthanc_at_study_series_and_instance_level()
    {
        var orthanc = Own(await OrthancProcess.StartAsync());
        await UploadAsync(orthanc, QueryRetrieveTests.ArchiveFiles);
        await using var association = await DicomClient.ConnectAsync(ToOrthanc(orthanc),
            [DicomUids.StudyRootQueryRetrieveInformationModelFind, DicomUids.PatientRootQueryRetrieveInformationModelFind]);

        var study = new DicomDataset();
        study.AddOrUpdate(QueryRetrieve.QueryRetrieveLevel, "STUDY");
        study.AddOrUpdate(DicomTags.PatientName, "CompressedSamples*");
        study.AddOrUpdate(DicomTags.PatientID, "");
        study.AddOrUpdate(DicomTags.StudyInstanceUID, "");
        var (status, studies) = await association.FindAllAsync(DicomUids.StudyRootQueryRetrieveInformationModelFind, study);
        status.Should().Be(DimseStatus.Success);
        studies.Select(m => m.GetString(DicomTags.PatientID)).Should().BeEquivalentTo("1CT1", "4MR1", "8NM1");

        var nmFiles = new[] { "JPEG2000.dcm", "JPEG-lossy.dcm" };
        var nmHeaders = new List<DicomDataset>();
        foreach (var name in nmFiles)
            nmHeaders.Add((await DicomReader.OpenAsync(Corpus.File(name), new DicomReaderOptions { StopBeforeTag = DicomTag.PixelDataTag })).Dataset);

        var series = new DicomDataset();
        series.AddOrUpdate(QueryRetrieve.QueryRetrieveLevel, "SERIES");
        series.AddOrUpdate(DicomTags.StudyInstanceUID, Nm);
        series.AddOrUpdate(DicomTags.SeriesInstanceUID, "");
        series.AddOrUpdate(DicomTags.Modality, "N?");
        (status, var seriesMatches) = await association.FindAllAsync(DicomUids.StudyRootQueryRetrieveInformationModelFind, series);
        status.Should().Be(DimseStatus.Success);
        seriesMatches.Select(m => m.GetString(DicomTags.SeriesInstanceUID)).Should().BeEquivalentTo(nmHeaders.Select(h => h.GetString(DicomTags.SeriesInstanceUID)).Distinct());

        var image = new DicomDataset();
        image.AddOrUpdate(QueryRetrieve.QueryRetrieveLevel, "IMAGE");
        image.AddOrUpdate(DicomTags.StudyInstanceUID, Nm);
        image.AddOrUpdate(DicomTags.SeriesInstanceUID, "");
        image.AddOrUpdate(DicomTags.SOPInstanceUID, "");
        image.AddOrUpdate(DicomTags.SOPClassUID, "");
        (status, var images) = await association.FindAllAsync(DicomUids.StudyRootQueryRetrieveInformationModelFind, image);
        status.Should().Be(DimseStatus.Success);
        images.Select(m => m.GetString(DicomTags.SOPInstanceUID)).Should().BeEquivalentTo(nmHeaders.Select(h => h.GetString(DicomTags.SOPInstanceUID)));

        var patient = new DicomDataset();
        patient.AddOrUpdate(QueryRetrieve.QueryRetrieveLevel, "PATIENT");
        patient.AddOrUpdate(DicomTags.PatientID, "id*");
        patient.AddOrUpdate(DicomTags.PatientName, "");
        (status, var patients) = await association.FindAllAsync(DicomUids.PatientRootQueryRetrieveInformationModelFind, patient);
        status.Should().Be(DimseStatus.Success);
        patients.Should().ContainSingle().Which.GetString(DicomTags.PatientName).Should().Be("Last^First^mid^pre");
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Yingyun_moves_a_study_from_orthanc_to_its_own_scp()
    {
        var destination = Own(new TestServer());
        var options = new OrthancOptions();
        options.Modalities["yingyun"] = new DicomNode("YINGYUN", "127.0.0.1", destination.Port);
        var orthanc = Own(await OrthancProcess.StartAsync(options));
        await UploadAsync(orthanc, QueryRetrieveTests.ArchiveFiles);
        await using var association = await DicomClient.ConnectAsync(ToOrthanc(orthanc, "MOVESCU"), [DicomUids.StudyRootQueryRetrieveInformationModelMove]);
        var query = new DicomDataset();
        query.AddOrUpdate(QueryRetrieve.QueryRetrieveLevel, "STUDY");
        query.AddOrUpdate(DicomTags.StudyInstanceUID, Nm);
        var result = await association.MoveAsync(DicomUids.StudyRootQueryRetrieveInformationModelMove, "YINGYUN", query);
        result.Status.Should().Be(DimseStatus.Success, $"{result.ErrorComment}\n{orthanc.Log}");
        result.Completed.Should().Be(2);
        result.Failed.Should().Be(0);
        foreach (var name in new[] { "JPEG2000.dcm", "JPEG-lossy.dcm" })
            await DataSetComparer.AssertSameDataSetAsync(Corpus.File(name), destination.Store.PathFor((await HeaderAsync(name)).SopInstanceUid));
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Yingyun_gets_a_study_from_orthanc_on_its_association()
    {
        var orthanc = Own(await OrthancProcess.StartAsync());
        await UploadAsync(orthanc, QueryRetrieveTests.ArchiveFiles);
        using var received = new TempFolder();
        var store = new FolderStoreHandler(received.Path);
        var builder = new AssociationRequestBuilder("GETSCU", orthanc.AeTitle);
        builder.AddPresentationContext(DicomUids.StudyRootQueryRetrieveInformationModelGet);
        var names = new[] { "JPEG2000.dcm", "JPEG-lossy.dcm" };
        foreach (var name in names)
        {
            var header = await HeaderAsync(name);
            builder.AddPresentationContext(header.SopClassUid, header.TransferSyntax.Uid);
            builder.AddRoleSelection(header.SopClassUid, scuRole: false, scpRole: true);
        }
        var options = ToOrthanc(orthanc, "GETSCU");
        options.Services = new DimseServices { StoreHandler = store };
        await using var association = await DicomClient.ConnectAsync(options, builder.Build());
        var query = new DicomDataset();
        query.AddOrUpdate(QueryRetrieve.QueryRetrieveLevel, "STUDY");
        query.AddOrUpdate(DicomTags.StudyInstanceUID, Nm);
        var result = await association.GetAsync(DicomUids.StudyRootQueryRetrieveInformationModelGet, query);
        result.Status.Should().Be(DimseStatus.Success, $"{result.ErrorComment}\n{orthanc.Log}");
        result.Completed.Should().Be(2);
        foreach (var name in names)
            await DataSetComparer.AssertSameDataSetAsync(Corpus.File(name), store.PathFor((await HeaderAsync(name)).SopInstanceUid));
        await association.ReleaseAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Yingyun_requests_storage_commitment_from_orthanc_and_takes_the_report_on_its_listener(bool releaseAfterRequest)
    {
        var reports = new StorageCommitmentReports();
        // Our listener, where Orthanc opens an association (proposing the SCP role) for its N-EVENT-REPORT.
        var listener = Own(new TestServer(o => o.Services.StorageCommitmentReportHandler = reports));
        var options = new OrthancOptions();
        options.Modalities["yingyun"] = new DicomNode("YINGYUN", "127.0.0.1", listener.Port);
        var orthanc = Own(await OrthancProcess.StartAsync(options));
        await UploadAsync(orthanc, "CT_small.dcm", "MR_small.dcm");
        var ct = await HeaderAsync("CT_small.dcm");
        var mr = await HeaderAsync("MR_small.dcm");
        var missing = await HeaderAsync("JPEG2000.dcm");
        SopReference[] references =
        [
            new(ct.SopClassUid, ct.SopInstanceUid),
            new(mr.SopClassUid, mr.SopInstanceUid),
            new(missing.SopClassUid, missing.SopInstanceUid),
        ];

        await using var association = await DicomClient.ConnectAsync(ToOrthanc(orthanc), [DicomUids.StorageCommitmentPushModel]);
        using var timeout = new CancellationTokenSource(Patience);
        // Kept open or not, the request's association does not see the report: Orthanc always opens a new one.
        var report = await association.CommitAsync(reports, references, releaseAfterRequest, timeout.Token);
        report.AssociationId.Should().NotBe(association.Id, "Orthanc reports on a new association");
        if (!releaseAfterRequest) await association.ReleaseAsync();
        report.CallingAeTitle.Should().Be(orthanc.AeTitle);
        report.Result.EventTypeId.Should().Be(StorageCommitment.EventTypeFailuresExist);
        report.Result.Committed.Should().BeEquivalentTo(references[..2]);
        report.Result.Failed.Should().ContainSingle().Which.Should().Be(
            new FailedSopReference(missing.SopClassUid, missing.SopInstanceUid, StorageCommitmentFailureReason.NoSuchObjectInstance));
    }
}
