using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;
using Yingyun.Dimse.Tests.Infrastructure;
using Yingyun.Interop.Tests.Infrastructure;

namespace Yingyun.Interop.Tests.Archive;

/// <summary>Issue 4 end to end: DCMTK storescu → `yingyun serve` → blobs, SQLite index, DuckDB warehouse, with the
/// values compared against pydicom's reading of the same files; and replay: wipe index and warehouse, replay the
/// event log from offset 0, get identical tables.</summary>
public sealed class EndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_corpus_and_a_generated_multi_study_set_land_in_blobs_index_and_warehouse_as_pydicom_reads_them()
    {
        string generated = await GeneratedDataset.GetAsync(studies: 3, instances: 10, rows: 64, columns: 64);
        var files = Directory.EnumerateFiles(Corpus.Folder, "*.dcm").Order().ToList();
        files.AddRange(Directory.EnumerateFiles(generated, "*.dcm", SearchOption.AllDirectories).Order());
        using var data = new TempFolder();
        List<string> stored;
        await using (var serve = await ServeProcess.StartAsync(data.Path))
        {
            // storescu proposes a compressed syntax only when told which: one pass per syntax family, each sending
            // what is not stored yet (uncompressed, JPEG 2000, RLE, JPEG lossless, JPEG baseline, JPEG-LS, deflated).
            stored = [];
            foreach (var option in new[] { "-xe", "-xw", "-xr", "-xs", "-xy", "-xx", "-xt", "-xd" })
            {
                var pending = files.Except(stored).ToList();
                var run = StoreScuRun.Start(serve.DimsePort, "YINGYUN", "E2E", pending, null, option == "-xe" ? [] : [option]);
                await run.WaitForExitAsync();
                stored.AddRange(run.Acknowledged);
            }
            await CrashSafetyTests.WaitUntilConsumersCaughtUpAsync(serve);
            (await serve.StopAsync()).Should().Be(0, serve.Output);
        }
        output.WriteLine($"{stored.Count} of {files.Count} files acknowledged");
        stored.Should().Contain(f => f.StartsWith(generated, StringComparison.Ordinal)).And.HaveCountGreaterThan(70);

        // pydicom reads the files in the order they were acknowledged: for a SOP Instance UID sent several times the
        // last one read is the newest version, which is what the index must show.
        var expected = await PydicomAsync(stored);
        var sentBySop = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var file in stored)
        {
            string sopOfFile = await ArchiveState.SopInstanceUidOfAsync(file);
            if (!sentBySop.TryGetValue(sopOfFile, out var list)) sentBySop[sopOfFile] = list = [];
            list.Add(file);
        }
        var index = (await ArchiveState.IndexRowsAsync(data.Path, """
            SELECT i.sop_uid, i.sop_class_uid, p.patient_id, p.patient_name, st.study_uid, se.series_uid, se.modality,
                   st.accession_number, st.study_date, i.rows, i.columns, i.number_of_frames, se.series_number, i.instance_number
            FROM instance i JOIN patient p ON p.patient_key = i.patient_key JOIN study st ON st.study_key = i.study_key
                 JOIN series se ON se.series_key = i.series_key
            WHERE i.tenant_id = 'default'
            """)).ToDictionary(r => (string)r["sop_uid"]!);
        var warehouse = (await ArchiveState.WarehouseRowsAsync(data.Path,
            "SELECT sop_uid, patient_id, study_uid, series_uid, transfer_syntax_uid, file_size, file_path, number_of_frames, accession_number, source_ae, outcome FROM dicom_object_meta"))
            .GroupBy(r => (string)r["sop_uid"]!).ToDictionary(g => g.Key, g => g.ToList());
        var images = (await ArchiveState.WarehouseRowsAsync(data.Path, "SELECT sop_uid, study_uid, modality FROM dicom_image_meta")).ToDictionary(r => (string)r["sop_uid"]!);

        var patientIdUses = expected.Values.GroupBy(p => p.GetProperty("PatientID").GetString() ?? "").ToDictionary(g => g.Key, g => g.Count());
        foreach (var (sop, p) in expected)
        {
            string where = $"SOP Instance {sop}";
            index.Should().ContainKey(sop, where);
            var row = index[sop];
            (Text(row["patient_id"]) ?? "").Should().Be(p.GetProperty("PatientID").GetString() ?? "", where);
            // A patient row is one per Patient ID and shows its newest instance's name: compare where the ID is this
            // file's alone (corpus files share empty and placeholder IDs).
            if (patientIdUses[p.GetProperty("PatientID").GetString() ?? ""] == 1)
                Text(row["patient_name"]).Should().Be(p.GetProperty("PatientName").GetString(), $"{where}: PatientName decoded as pydicom does");
            Text(row["study_uid"]).Should().Be(p.GetProperty("StudyInstanceUID").GetString(), where);
            Text(row["series_uid"]).Should().Be(p.GetProperty("SeriesInstanceUID").GetString(), where);
            Text(row["sop_class_uid"]).Should().Be(p.GetProperty("SOPClassUID").GetString(), where);
            Text(row["modality"]).Should().Be(p.GetProperty("Modality").GetString(), where);
            Text(row["accession_number"]).Should().Be(p.GetProperty("AccessionNumber").GetString(), where);
            Number(row["rows"]).Should().Be(Number(p.GetProperty("Rows")), where);
            Number(row["columns"]).Should().Be(Number(p.GetProperty("Columns")), where);
            Number(row["series_number"]).Should().Be(Number(p.GetProperty("SeriesNumber")), where);
            Number(row["instance_number"]).Should().Be(Number(p.GetProperty("InstanceNumber")), where);

            // Several corpus files share a SOP Instance UID (rtdose*.dcm, MR_small*.dcm): each receipt is recorded, the
            // first as stored, later different ones as replaced (the tenant's default policy); the newest is the one kept.
            var sent = sentBySop[sop];
            warehouse.Should().ContainKey(sop, where);
            var receipts = warehouse[sop];
            receipts.Should().HaveCount(sent.Count, $"{where}: one receipt per send");
            receipts.Count(r => Text(r["outcome"]) == "stored").Should().Be(1, where);
            receipts.Should().AllSatisfy(r => Text(r["outcome"]).Should().BeOneOf("stored", "replaced", "duplicate"));
            receipts.Should().AllSatisfy(r => Text(r["source_ae"]).Should().Be("E2E"));
            string blob = Path.Combine(data.Path, "blobs", Text(receipts[0]["file_path"])!);
            // storescu may convert a file's syntax on the way (it says "Converting transfer syntax"), so the stored
            // bytes are compared with what arrived (a receipt's size), not with the file on disk.
            (await Yingyun.Dicom.DicomReader.OpenAsync(blob)).Problems.Should().NotContain(p => p.IsFatal, where);
            receipts.Select(r => Convert.ToInt64(r["file_size"], CultureInfo.InvariantCulture)).Should().Contain(new FileInfo(blob).Length, where);
            images.Should().ContainKey(sop, where);
        }
        // The generated studies: exact aggregates.
        var studies = await ArchiveState.IndexRowsAsync(data.Path, "SELECT study_uid, number_of_series, number_of_instances, modalities_in_study FROM study");
        foreach (var study in Directory.EnumerateDirectories(generated))
        {
            string uid = expected[await ArchiveState.SopInstanceUidOfAsync(Directory.EnumerateFiles(study).First())].GetProperty("StudyInstanceUID").GetString()!;
            var row = studies.Single(r => Text(r["study_uid"]) == uid);
            Convert.ToInt32(row["number_of_instances"], CultureInfo.InvariantCulture).Should().Be(10);
            Text(row["modalities_in_study"]).Should().Be("CT");
        }
    }

    [Fact]
    public async Task Replaying_the_event_log_from_offset_0_rebuilds_identical_index_and_warehouse_tables()
    {
        string generated = await GeneratedDataset.GetAsync(studies: 3, instances: 10, rows: 64, columns: 64);
        var files = Directory.EnumerateFiles(generated, "*.dcm", SearchOption.AllDirectories).Order().ToList();
        files.AddRange(CharsetSamples.Select(f => Path.Combine(Corpus.Folder, f)).Where(File.Exists));
        using var data = new TempFolder();
        await using (var serve = await ServeProcess.StartAsync(data.Path))
        {
            var first = StoreScuRun.Start(serve.DimsePort, "YINGYUN", "REPLAY", files);
            await first.WaitForExitAsync();
            // Re-sends too, so the tables hold duplicates' receipts.
            var again = StoreScuRun.Start(serve.DimsePort, "YINGYUN", "REPLAY", files.Take(5).ToList());
            await again.WaitForExitAsync();
            await CrashSafetyTests.WaitUntilConsumersCaughtUpAsync(serve);
            (await serve.StopAsync()).Should().Be(0, serve.Output);
        }
        var before = await SnapshotAsync(data.Path);
        before["instance"].Should().HaveCountGreaterThanOrEqualTo(30);
        before["dicom_object_meta"].Should().HaveCount(before["instance"].Count + 5);

        foreach (var table in IndexTables)
            await ArchiveState.IndexRowsAsync(data.Path, $"DELETE FROM {table}", readOnly: false);
        foreach (var table in WarehouseTables)
            await ArchiveState.WarehouseRowsAsync(data.Path, $"DELETE FROM {table}", readOnly: false);
        (await SnapshotAsync(data.Path)).Values.Should().AllSatisfy(rows => rows.Should().BeEmpty());

        foreach (var (group, topic) in new[] { ("storage", "storage_queue"), ("index", "dicom_image_queue"), ("warehouse", "log_queue"), ("warehouse", "dicom_state_queue"), ("warehouse", "dicom_image_queue") })
        {
            var replay = await RunYingyunAsync("replay", "--data", data.Path, "--topic", topic, "--group", group, "--from", "0");
            replay.ExitCode.Should().Be(0, replay.Output);
        }
        await using (var serve = await ServeProcess.StartAsync(data.Path))
        {
            await CrashSafetyTests.WaitUntilConsumersCaughtUpAsync(serve);
            (await serve.StopAsync()).Should().Be(0, serve.Output);
        }
        var after = await SnapshotAsync(data.Path);
        foreach (var (table, rows) in before)
            after[table].Should().Equal(rows, $"{table} is rebuilt identically by the replay");
    }

    private static readonly string[] CharsetSamples = ["CT_small.dcm", "MR_small.dcm", "chr_arab.dcm", "chrH31.dcm", "chrX1.dcm"];

    private static readonly string[] IndexTables = ["instance", "series", "study", "patient", "instance_version", "registry"];
    private static readonly string[] WarehouseTables = ["dicom_object_meta", "dicom_state_meta", "dicom_image_meta"];

    /// <summary>Every table as sorted row texts, without the surrogate keys (row ids are not data).</summary>
    private static async Task<Dictionary<string, List<string>>> SnapshotAsync(string dataDirectory)
    {
        static List<string> Texts(List<Dictionary<string, object?>> rows) =>
            [.. rows.Select(r => string.Join(" | ", r.Where(c => !c.Key.EndsWith("_key", StringComparison.Ordinal)).OrderBy(c => c.Key, StringComparer.Ordinal)
                .Select(c => $"{c.Key}={Convert.ToString(c.Value, CultureInfo.InvariantCulture)}"))).Order(StringComparer.Ordinal)];
        var snapshot = new Dictionary<string, List<string>>();
        foreach (var table in IndexTables) snapshot[table] = Texts(await ArchiveState.IndexRowsAsync(dataDirectory, $"SELECT * FROM {table}"));
        foreach (var table in WarehouseTables) snapshot[table] = Texts(await ArchiveState.WarehouseRowsAsync(dataDirectory, $"SELECT * FROM {table}"));
        return snapshot;
    }

    private static string? Text(object? value) => value is null ? null : Convert.ToString(value, CultureInfo.InvariantCulture) is { Length: > 0 } s ? s : null;

    private static long? Number(object? value) => value is null ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);

    private static long? Number(JsonElement value) => value.ValueKind == JsonValueKind.Null ? null : value.GetInt64();

    private static async Task<Dictionary<string, JsonElement>> PydicomAsync(IReadOnlyList<string> files)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Support", "pydicom_index_values.py"));
        info.Environment["PYTHONIOENCODING"] = "utf-8";
        using var python = Process.Start(info)!;
        var stdout = python.StandardOutput.ReadToEndAsync();
        var stderr = python.StandardError.ReadToEndAsync();
        foreach (var f in files) await python.StandardInput.WriteLineAsync(f);
        python.StandardInput.Close();
        await python.WaitForExitAsync();
        python.ExitCode.Should().Be(0, await stderr);
        return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(await stdout)!;
    }

    private static async Task<ProcessResult> RunYingyunAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(ServeProcess.Executable);
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new ProcessResult(process.ExitCode, await stdout + await stderr);
    }
}
