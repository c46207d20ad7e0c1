using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tests.EventLog;
using Yingyun.Archive.Warehouse;
using Yingyun.Dicom;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Archive.Tests.Warehouse;

/// <summary>Events built from pydicom's corpus land in the tables with the values pydicom itself reads from the files.</summary>
public sealed class CorpusWarehouseTests : IAsyncLifetime
{
    private const string Tenant = "hospital-a";

    // Distinct SOP Instance UIDs: CT, MR, NM, multi-frame RT Dose and RLE, SR, SEG, ECG, an ACR-NEMA date
    // (ExplVR_BigEnd: "1997.04.24"), and names in UTF-8, GB18030, ISO 2022 (Japanese, Korean), Arabic and Cyrillic.
    private static readonly string[] Files =
    [
        "CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtdose.dcm", "rtplan.dcm", "SC_rgb_rle_2frame.dcm",
        "SC_rgb_small_odd.dcm", "SC_rgb_dcmtk_+eb+cr.dcm", "ExplVR_BigEnd.dcm", "waveform_ecg.dcm", "test-SR.dcm",
        "liver_1frame.dcm", "../charset_files/chrX1.dcm", "../charset_files/chrX2.dcm", "../charset_files/chrH31.dcm",
        "../charset_files/chrI2.dcm", "../charset_files/chrArab.dcm", "../charset_files/chrRuss.dcm",
    ];

    private readonly TempDirectory _dir = new();
    private DuckDbWarehouse _warehouse = null!;

    public async Task InitializeAsync()
    {
        _warehouse = DuckDbWarehouse.ForDataDirectory(_dir.Path);
        await _warehouse.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _warehouse.DisposeAsync();
        _dir.Dispose();
    }

    private static string PathOf(string name) => Path.GetFullPath(Path.Combine(Corpus.Folder, name));

    [Fact]
    public async Task Corpus_files_land_with_the_values_pydicom_reads()
    {
        var paths = Files.Select(PathOf).ToList();
        var expected = await PydicomHeader.ReadAsync(paths);
        var images = new List<InstanceEvent>();
        for (var i = 0; i < paths.Count; i++)
        {
            images.Add(await WarehouseEvents.FromFileAsync(paths[i], Tenant, 1000 + i));
        }

        images.Select(i => i.SopUid).Should().OnlyHaveUniqueItems();
        await _warehouse.WriteImageMetaAsync(images);
        await _warehouse.WriteStateMetaAsync(images.Select(WarehouseEvents.State).ToList());
        await _warehouse.WriteObjectMetaAsync(images.Select(i => WarehouseEvents.Object(i)).ToList());

        var rows = (await _warehouse.QueryAsync("SELECT * FROM dicom_image_meta")).ToDictionary(r => (string)r["sop_uid"]!);
        rows.Should().HaveCount(expected.Count);
        foreach (var file in expected)
        {
            var because = Path.GetFileName(file.Path);
            var row = rows[file.SopInstanceUid];
            row["tenant_id"].Should().Be(Tenant, because);
            row["study_uid"].Should().Be(file.StudyInstanceUid, because);
            row["series_uid"].Should().Be(file.SeriesInstanceUid, because);
            row["patient_id"].Should().Be(file.PatientId ?? "", because);
            Pn(row["patient_name"]).Should().Be(Pn(file.PatientName), because);
            row["study_date"].Should().Be(ExpectedDate(file.StudyDate), because);
            row["modality"].Should().Be(file.Modality, because);
            row["image_rows"].Should().Be(file.Rows, because);
            row["image_columns"].Should().Be(file.Columns, because);
            row["number_of_frames"].Should().Be(file.NumberOfFrames, because);
            row["instance_number"].Should().Be(file.InstanceNumber, because);
            row["transfer_syntax_uid"].Should().Be(file.TransferSyntaxUid, because);
            row["file_size"].Should().Be(new FileInfo(file.Path).Length, because);
        }

        rows.Values.Select(r => Pn(r["patient_name"])).Should().Contain(["Wang^XiaoDong=王^小東", "Wang^XiaoDong=王^小东", "Yamada^Tarou=山田^太郎=やまだ^たろう"]);
        rows.Values.Should().Contain(r => Equals(r["study_date"], new DateOnly(1997, 4, 24)), "the ACR-NEMA date form is read");

        var series = (await _warehouse.QueryAsync("SELECT * FROM dicom_state_meta")).ToDictionary(r => (string)r["series_uid"]!);
        var bySeries = expected.GroupBy(f => f.SeriesInstanceUid).ToList();
        series.Should().HaveCount(bySeries.Count);
        foreach (var group in bySeries)
        {
            var row = series[group.Key];
            row["instance_count"].Should().Be((long)group.Count(), group.Key);
            row["frame_count"].Should().Be(group.Sum(f => (long)(f.NumberOfFrames ?? 1)), group.Key);
            row["study_uid"].Should().Be(group.First().StudyInstanceUid);
            row["modality"].Should().Be(group.First().Modality);
        }

        series.Values.Sum(r => (long)r["frame_count"]!).Should().BeGreaterThan(series.Values.Sum(r => (long)r["instance_count"]!), "the corpus has multi-frame instances");

        var receipts = await _warehouse.QueryAsync("SELECT sop_uid, study_date, created_time, outcome FROM dicom_object_meta");
        receipts.Should().HaveCount(expected.Count);
        receipts.Should().AllSatisfy(r => r["outcome"].Should().Be(ReceiptOutcome.Stored));
        receipts.Should().AllSatisfy(r => r["created_time"].Should().BeOfType<DateTime>());
    }

    [Fact]
    public async Task Two_versions_of_one_corpus_instance_written_newest_first_keep_the_newest()
    {
        // MR_small.dcm and MR_small_RLE.dcm are one SOP instance in two transfer syntaxes: a changed re-send.
        var older = await WarehouseEvents.FromFileAsync(PathOf("MR_small.dcm"), Tenant, 1);
        var newer = await WarehouseEvents.FromFileAsync(PathOf("MR_small_RLE.dcm"), Tenant, 2);
        newer.Outcome = ReceiptOutcome.Replaced;
        newer.SopUid.Should().Be(older.SopUid);

        await _warehouse.WriteImageMetaAsync([newer]);
        await _warehouse.WriteImageMetaAsync([older]);

        var row = (await _warehouse.QueryAsync("SELECT * FROM dicom_image_meta")).Should().ContainSingle().Subject;
        row["transfer_syntax_uid"].Should().Be(DicomUids.RLELossless);
        row["outcome"].Should().Be(ReceiptOutcome.Replaced);
        row["content_hash"].Should().Be(newer.ContentHash);
        (await _warehouse.QueryAsync("SELECT instance_count FROM dicom_state_meta")).Single()["instance_count"].Should().Be(1L);
    }

    /// <summary>A PN value without trailing empty groups or components, which PS3.5 §6.2.1.1 makes equivalent (pydicom
    /// drops them, the stored text, like chrX1's "Wang^XiaoDong=王^小東=", may keep them).</summary>
    private static string? Pn(object? value) => (value as string)?.TrimEnd('=', '^');

    private static DateOnly? ExpectedDate(string? da) => DicomDate.TryParse(da, out var d) ? d : null;
}
