using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Yingyun.Archive.Configuration;
using Yingyun.Archive.EventLog;
using Yingyun.Archive.Index;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tenants;
using Yingyun.Archive.Tests.EventLog;
using Yingyun.Dicom;
using Yingyun.Dimse;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Archive.Tests.Ingest;

/// <summary>Ingest on real files from pydicom's corpus, with the SQLite registry: where the file goes, which events are appended, which status
/// the sender gets, for every re-send case of ARCHITECTURE.md §5, and what recovery does with leftovers.</summary>
public sealed class IngestServiceTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private SqliteIndexStore _index = null!;
    private EmbeddedEventLog _log = null!;
    private TenantDirectory _tenants = null!;
    private IngestService _ingest = null!;

    public async Task InitializeAsync()
    {
        _index = new SqliteIndexStore(Path.Combine(_data.Path, "index.db"));
        await _index.InitializeAsync();
        _log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = Path.Combine(_data.Path, "eventlog") });
        _tenants = new TenantDirectory(_index);
        await _tenants.InitializeAsync([
            new TenantConfig { Id = "hospital-a", AeTitles = ["CT01"], ResendPolicy = "replace" },
            new TenantConfig { Id = "hospital-k", AeTitles = ["KEEP"], ResendPolicy = "keepFirst" },
            new TenantConfig { Id = "hospital-r", AeTitles = ["STRICT"], ResendPolicy = "reject" },
        ]);
        _ingest = NewIngest();
    }

    private IngestService NewIngest() =>
        new(new YingyunOptions { DataDirectory = _data.Path, NodeId = "node-1" }, _log, _index, _tenants, NullLogger<IngestService>.Instance);

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        await _index.DisposeAsync();
        _data.Dispose();
    }

    private static IngestSource Source(string tenant = "hospital-a", string ae = "CT01") => new(tenant, ae, "127.0.0.1");

    private static (string SopClass, string Sop, DicomTransferSyntax Syntax, byte[] DataSet) Instance(string corpusFile)
    {
        var path = Corpus.File(corpusFile);
        var header = Part10Header.Parse(File.ReadAllBytes(path), path);
        return (header.SopClassUid, header.SopInstanceUid, header.TransferSyntax, Corpus.DataSetBytes(path));
    }

    private static async Task<byte[]> ChangedAsync(byte[] dataSet, DicomTransferSyntax syntax, Action<DicomDataset> change)
    {
        var dataset = await DicomReader.ReadDatasetAsync(new MemoryStream(dataSet), syntax);
        change(dataset);
        var output = new MemoryStream();
        await DicomWriter.WriteDatasetAsync(output, dataset, syntax);
        return output.ToArray();
    }

    private Task<IngestResult> IngestAsync(IngestSource source, (string SopClass, string Sop, DicomTransferSyntax Syntax, byte[] DataSet) i, byte[]? dataSet = null) =>
        _ingest.IngestDataSetAsync(source, i.SopClass, i.Sop, i.Syntax, new MemoryStream(dataSet ?? i.DataSet), CancellationToken.None);

    private async Task<List<EventRecord>> EventsAsync(string topic) => await _log.ReadAllAsync("check-" + Guid.NewGuid().ToString("N"), topic);

    private string Blob(string relative) => _ingest.Blobs.FullPath(relative);

    [Fact]
    public async Task A_new_instance_is_filed_in_the_seed_layout_with_its_events_and_a_registry_row()
    {
        var ct = Instance("CT_small.dcm");
        var result = await IngestAsync(Source(), ct);

        result.Outcome.Should().Be(ReceiptOutcome.Stored);
        result.Status.Should().Be(DimseStatus.Success);
        var study = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322";
        var series = "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322";
        result.FilePath.Should().Be($"hospital-a/{study}/{series}/{ct.Sop}.dcm");
        Corpus.DataSetBytes(Blob(result.FilePath!)).Should().Equal(ct.DataSet, "the data set is stored byte for byte");
        Directory.EnumerateFiles(_ingest.Blobs.Incoming).Should().BeEmpty();

        foreach (var topic in new[] { Topics.StorageQueue, Topics.LogQueue, Topics.DicomImageQueue, Topics.DicomStateQueue, Topics.TranscodeQueue })
            (await EventsAsync(topic)).Should().ContainSingle($"one {topic} record per stored receipt");
        var meta = ArchiveEventJson.Deserialize<ObjectMetaEvent>((await EventsAsync(Topics.LogQueue))[0].Value.Span);
        meta.TraceId.Should().Be(result.TraceId);
        meta.WorkerNodeId.Should().Be("node-1");
        meta.TenantId.Should().Be("hospital-a");
        meta.PatientId.Should().Be("1CT1");
        meta.StudyUid.Should().Be(study);
        meta.SeriesUid.Should().Be(series);
        meta.SopUid.Should().Be(ct.Sop);
        meta.TransferSyntaxUid.Should().Be(DicomUids.ExplicitVRLittleEndian);
        meta.FileSize.Should().Be(new FileInfo(Blob(result.FilePath!)).Length);
        meta.NumberOfFrames.Should().Be(1);
        meta.StudyDate.Should().Be("2004-01-19");
        meta.SourceAe.Should().Be("CT01");
        meta.SourceIp.Should().Be("127.0.0.1");
        meta.Outcome.Should().Be(ReceiptOutcome.Stored);
        meta.StudyUidHash.Should().Be(InstanceHeader.UidHash(study));

        var image = ArchiveEventJson.Deserialize<InstanceEvent>((await EventsAsync(Topics.DicomImageQueue))[0].Value.Span);
        image.PatientName.Should().Be("CompressedSamples^CT1");
        image.Modality.Should().Be("CT");
        image.Rows.Should().Be(128);
        image.Columns.Should().Be(128);
        image.FilePath.Should().Be(result.FilePath);

        (await _index.GetRegistryEntryAsync("hospital-a", ct.Sop))!.TraceId.Should().Be(result.TraceId);
    }

    [Fact]
    public async Task An_identical_resend_is_a_duplicate_that_changes_nothing_but_the_upload_log()
    {
        var ct = Instance("CT_small.dcm");
        var first = await IngestAsync(Source(), ct);
        var before = File.GetLastWriteTimeUtc(Blob(first.FilePath!));
        var again = await IngestAsync(Source(), ct);

        again.Outcome.Should().Be(ReceiptOutcome.Duplicate);
        again.Status.Should().Be(DimseStatus.Success);
        File.GetLastWriteTimeUtc(Blob(first.FilePath!)).Should().Be(before);
        (await EventsAsync(Topics.LogQueue)).Should().HaveCount(2, "the upload log records every receipt");
        (await EventsAsync(Topics.DicomImageQueue)).Should().ContainSingle("the index does not change");
        ArchiveEventJson.Deserialize<ObjectMetaEvent>((await EventsAsync(Topics.LogQueue))[1].Value.Span).Outcome.Should().Be(ReceiptOutcome.Duplicate);
        (await _index.GetRegistryEntryAsync("hospital-a", ct.Sop))!.TraceId.Should().Be(first.TraceId);
        Directory.EnumerateFiles(_ingest.Blobs.Incoming).Should().BeEmpty();
    }

    [Fact]
    public async Task Changed_content_replaces_and_keeps_the_prior_version()
    {
        var ct = Instance("CT_small.dcm");
        var first = await IngestAsync(Source(), ct);
        var changed = await ChangedAsync(ct.DataSet, ct.Syntax, d => d.AddOrUpdate(DicomTags.SeriesDescription, "corrected"));
        var second = await IngestAsync(Source(), ct, changed);

        second.Outcome.Should().Be(ReceiptOutcome.Replaced);
        second.Status.Should().Be(DimseStatus.Success);
        second.FilePath.Should().Be(first.FilePath);
        Corpus.DataSetBytes(Blob(second.FilePath!)).Should().Equal(changed);
        var storage = ArchiveEventJson.Deserialize<StorageEvent>((await EventsAsync(Topics.StorageQueue))[1].Value.Span);
        storage.Outcome.Should().Be(ReceiptOutcome.Replaced);
        Corpus.DataSetBytes(Blob(storage.PreviousVersionPath!)).Should().Equal(ct.DataSet, "the prior version is kept");
        var images = await EventsAsync(Topics.DicomImageQueue);
        images.Should().HaveCount(2);
        var newest = ArchiveEventJson.Deserialize<InstanceEvent>(images[1].Value.Span);
        newest.SeriesDescription.Should().Be("corrected");
        newest.Version.Should().BeGreaterThan(ArchiveEventJson.Deserialize<InstanceEvent>(images[0].Value.Span).Version);
        (await _index.GetRegistryEntryAsync("hospital-a", ct.Sop))!.TraceId.Should().Be(second.TraceId);
    }

    [Fact]
    public async Task A_sop_instance_moving_to_another_study_is_a_conflict_kept_aside()
    {
        var ct = Instance("CT_small.dcm");
        var first = await IngestAsync(Source(), ct);
        var moved = await ChangedAsync(ct.DataSet, ct.Syntax, d => d.AddOrUpdate(DicomTags.StudyInstanceUID, "1.2.826.0.1.3680043.8.498.1"));
        var second = await IngestAsync(Source(), ct, moved);

        second.Outcome.Should().Be(ReceiptOutcome.Conflict);
        second.Status.Should().Be(DimseStatus.DuplicateSopInstance);
        second.Comment.Should().Contain("1.3.6.1.4.1.5962.1.2.1.20040119072730.12322");
        second.FilePath.Should().Be($"hospital-a/.aside/{second.TraceId}.dcm");
        Corpus.DataSetBytes(Blob(second.FilePath!)).Should().Equal(moved);
        Corpus.DataSetBytes(Blob(first.FilePath!)).Should().Equal(ct.DataSet, "the stored instance is untouched");
        Directory.Exists(_ingest.Blobs.FullPath("hospital-a/1.2.826.0.1.3680043.8.498.1")).Should().BeFalse("never merged into the other study");
        (await EventsAsync(Topics.DicomImageQueue)).Should().ContainSingle();
        var storage = ArchiveEventJson.Deserialize<StorageEvent>((await EventsAsync(Topics.StorageQueue))[1].Value.Span);
        storage.Outcome.Should().Be(ReceiptOutcome.Conflict);
        storage.ExistingStudyInstanceUid.Should().Be("1.3.6.1.4.1.5962.1.2.1.20040119072730.12322");
    }

    [Theory]
    [InlineData("hospital-k", "KEEP", 0xB006)]
    [InlineData("hospital-r", "STRICT", 0x0111)]
    public async Task Tenants_that_keep_the_first_version_set_changed_resends_aside(string tenant, string ae, int status)
    {
        var ct = Instance("CT_small.dcm");
        var first = await IngestAsync(Source(tenant, ae), ct);
        var changed = await ChangedAsync(ct.DataSet, ct.Syntax, d => d.AddOrUpdate(DicomTags.SeriesDescription, "changed"));
        var second = await IngestAsync(Source(tenant, ae), ct, changed);

        second.Outcome.Should().Be(ReceiptOutcome.Rejected);
        second.Status.Code.Should().Be((ushort)status);
        Corpus.DataSetBytes(Blob(first.FilePath!)).Should().Equal(ct.DataSet);
        Corpus.DataSetBytes(Blob(second.FilePath!)).Should().Equal(changed);
        (await _index.GetRegistryEntryAsync(tenant, ct.Sop))!.TraceId.Should().Be(first.TraceId);
    }

    [Fact]
    public async Task The_same_sop_instance_in_two_tenants_is_two_instances()
    {
        var ct = Instance("CT_small.dcm");
        var a = await IngestAsync(Source(), ct);
        var k = await IngestAsync(Source("hospital-k", "KEEP"), ct);
        a.Outcome.Should().Be(ReceiptOutcome.Stored);
        k.Outcome.Should().Be(ReceiptOutcome.Stored);
        a.FilePath.Should().StartWith("hospital-a/");
        k.FilePath.Should().StartWith("hospital-k/");
    }

    [Fact]
    public async Task Garbage_is_refused_with_cannot_understand_and_leaves_nothing()
    {
        var ct = Instance("CT_small.dcm");
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);
        var result = await IngestAsync(Source(), ct, garbage);

        result.Status.Category.Should().Be(DimseStatusCategory.Failure);
        result.Status.Code.Should().BeInRange(0xC000, 0xCFFF);
        Directory.EnumerateFiles(_ingest.Blobs.Root, "*", SearchOption.AllDirectories).Should().BeEmpty();
        (await EventsAsync(Topics.LogQueue)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_data_set_that_is_not_the_commands_instance_is_refused_with_A900()
    {
        var ct = Instance("CT_small.dcm");
        var mr = Instance("MR_small.dcm");
        var result = await _ingest.IngestDataSetAsync(Source(), ct.SopClass, ct.Sop, mr.Syntax, new MemoryStream(mr.DataSet), CancellationToken.None);
        result.Status.Should().Be(DimseStatus.DataSetDoesNotMatchSopClass);
        result.Comment.Should().Contain("(0008,0016)");
        Directory.EnumerateFiles(_ingest.Blobs.Root, "*", SearchOption.AllDirectories).Should().BeEmpty();
    }

    [Fact]
    public async Task Recovery_finishes_complete_leftovers_and_removes_torn_ones()
    {
        // What a crash leaves: one receipt fully received (fsynced, events perhaps not appended), one cut short.
        var ct = Instance("CT_small.dcm");
        var mr = Instance("MR_small.dcm");
        string complete = WriteIncoming(ct, "hospital-a", ct.DataSet);
        string torn = WriteIncoming(mr, "hospital-a", mr.DataSet[..(mr.DataSet.Length / 2)]);

        var (finished, removed) = await NewIngest().RecoverAsync();

        finished.Should().Be(1);
        removed.Should().Be(1);
        Directory.EnumerateFiles(_ingest.Blobs.Incoming).Should().BeEmpty();
        var filed = (await _index.GetRegistryEntryAsync("hospital-a", ct.Sop))!;
        filed.TraceId.Should().Be(Path.GetFileName(complete).Split('~')[0], "the trace id chosen at receipt is kept");
        Corpus.DataSetBytes(Blob(filed.FilePath)).Should().Equal(ct.DataSet);
        (await EventsAsync(Topics.LogQueue)).Should().ContainSingle();
        (await _index.GetRegistryEntryAsync("hospital-a", mr.Sop)).Should().BeNull();
        File.Exists(torn).Should().BeFalse();
    }

    [Fact]
    public async Task Recovery_of_a_receipt_whose_rename_was_lost_puts_the_file_back_without_new_events()
    {
        var ct = Instance("CT_small.dcm");
        var first = await IngestAsync(Source(), ct);
        // The crash undid the rename (its directory entry never reached the disk) but not the registry row.
        var entry = (await _index.GetRegistryEntryAsync("hospital-a", ct.Sop))!;
        string leftover = Path.Combine(_ingest.Blobs.Incoming, $"{entry.TraceId}~{entry.Version}~hospital-a~127.0.0.1.dcm");
        File.Move(Blob(first.FilePath!), leftover);

        var (finished, _) = await NewIngest().RecoverAsync();

        finished.Should().Be(1);
        Corpus.DataSetBytes(Blob(first.FilePath!)).Should().Equal(ct.DataSet);
        (await EventsAsync(Topics.LogQueue)).Should().ContainSingle();
    }

    private string WriteIncoming((string SopClass, string Sop, DicomTransferSyntax Syntax, byte[] DataSet) i, string tenant, byte[] dataSet)
    {
        var path = Path.Combine(_ingest.Blobs.Incoming, $"{Guid.CreateVersion7()}~{DateTime.UtcNow.Ticks}~{tenant}~127.0.0.1.dcm");
        using var file = File.Create(path);
        file.Write(Part10Header.BuildFileMetaInformation(i.SopClass, i.Sop, i.Syntax.Uid, "CT01"));
        file.Write(dataSet);
        return path;
    }
}
