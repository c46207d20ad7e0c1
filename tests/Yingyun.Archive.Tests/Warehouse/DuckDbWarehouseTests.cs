using Microsoft.Extensions.Logging;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tests.EventLog;
using Yingyun.Archive.Warehouse;
using static Yingyun.Archive.Tests.Warehouse.WarehouseEvents;

namespace Yingyun.Archive.Tests.Warehouse;

public sealed class DuckDbWarehouseTests : IAsyncLifetime
{
    private const string TenantA = "hospital-a";
    private const string Study1 = "1.2.826.0.1.3680043.8.498.1001";
    private const string Series1 = "1.2.826.0.1.3680043.8.498.1001.1";
    private const string Series2 = "1.2.826.0.1.3680043.8.498.1001.2";

    private readonly TempDirectory _dir = new();
    private readonly CapturingLogger _log = new();
    private DuckDbWarehouse _warehouse = null!;

    private string DatabasePath => Path.Combine(_dir.Path, "data", DuckDbWarehouse.DefaultFileName);

    public async Task InitializeAsync()
    {
        _warehouse = DuckDbWarehouse.ForDataDirectory(Path.Combine(_dir.Path, "data"), _log);
        await _warehouse.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _warehouse.DisposeAsync();
        _dir.Dispose();
    }

    private static string Sop(int n) => $"{Series1}.{n}";

    [Fact]
    public async Task Initialize_creates_every_table_of_the_schema_with_its_columns_and_key_in_the_data_directory()
    {
        File.Exists(DatabasePath).Should().BeTrue();
        var columns = await _warehouse.QueryAsync(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns " +
            "WHERE table_catalog = current_database() AND table_schema = 'main' ORDER BY table_name, ordinal_position");
        foreach (var table in WarehouseSchema.Tables)
        {
            var found = columns.Where(c => (string)c["table_name"]! == table.Name).ToList();
            found.Select(c => (string)c["column_name"]!).Should().Equal(table.Columns.Select(c => c.Name), table.Name);
            found.Select(c => (string)c["is_nullable"]! == "NO").Should().Equal(table.Columns.Select(c => c.NotNull), table.Name);
        }

        var keys = await _warehouse.QueryAsync(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'");
        foreach (var table in WarehouseSchema.Tables)
        {
            var key = keys.Single(k => (string)k["table_name"]! == table.Name)["constraint_column_names"];
            ((System.Collections.IEnumerable)key!).Cast<string>().Should().Equal(table.Key, table.Name);
        }

        WarehouseSchema.DicomObjectMeta.Columns.Select(c => c.Name).Should().Equal(
            "trace_id", "worker_node_id", "tenant_id", "patient_id", "study_uid", "series_uid", "sop_uid", "file_size", "file_path",
            "transfer_syntax_uid", "number_of_frames", "created_time", "series_uid_hash", "study_uid_hash", "accession_number",
            "target_ts", "study_date", "transfer_status", "source_ip", "source_ae", "outcome");
    }

    [Fact]
    public async Task Initialize_is_idempotent_and_rows_survive_reopening_the_file()
    {
        var image = Instance(TenantA, Study1, Series1, Sop(1), 10);
        await _warehouse.WriteImageMetaAsync([image]);
        await _warehouse.InitializeAsync();
        await _warehouse.DisposeAsync();

        _warehouse = new DuckDbWarehouse(DatabasePath, _log);
        await _warehouse.InitializeAsync();
        (await _warehouse.QueryAsync("SELECT sop_uid FROM dicom_image_meta")).Should().ContainSingle()
            .Which["sop_uid"].Should().Be(Sop(1));
    }

    [Fact]
    public async Task A_file_written_by_another_schema_is_refused_with_the_table_and_column_named()
    {
        await _warehouse.DisposeAsync();
        var other = Path.Combine(_dir.Path, "old.duckdb");
        await using (var connection = new DuckDB.NET.Data.DuckDBConnection($"Data Source={other}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE dicom_image_meta (tenant_id VARCHAR NOT NULL, sop_uid VARCHAR NOT NULL, PRIMARY KEY (tenant_id, sop_uid))";
            command.ExecuteNonQuery();
        }

        _warehouse = new DuckDbWarehouse(other, _log);
        var act = () => _warehouse.InitializeAsync();
        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("dicom_image_meta").And.Contain("column 3");
    }

    [Fact]
    public async Task Writes_before_initialize_fail_with_a_clear_message()
    {
        await using var fresh = new DuckDbWarehouse(Path.Combine(_dir.Path, "fresh.duckdb"));
        var act = () => fresh.WriteImageMetaAsync([Instance(TenantA, Study1, Series1, Sop(1), 1)]);
        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("InitializeAsync");
    }

    [Fact]
    public async Task Replaying_the_same_batch_leaves_every_table_identical()
    {
        var images = Enumerable.Range(1, 20).Select(n => Instance(TenantA, Study1, n % 2 == 0 ? Series1 : Series2, Sop(n), 100 + n, frames: n % 5 == 0 ? 3 : null)).ToList();
        var states = images.Select(State).ToList();
        var objects = images.Select(i => Object(i)).Concat([Object(images[0], ReceiptOutcome.Duplicate, traceId: Guid.NewGuid().ToString())]).ToList();

        async Task WriteAll()
        {
            await _warehouse.WriteImageMetaAsync(images);
            await _warehouse.WriteStateMetaAsync(states);
            await _warehouse.WriteObjectMetaAsync(objects);
        }

        await WriteAll();
        var first = await DumpAll();
        await WriteAll();
        (await DumpAll()).Should().BeEquivalentTo(first, o => o.WithStrictOrdering());

        first[WarehouseTables.DicomImageMeta].Should().HaveCount(20);
        first[WarehouseTables.DicomObjectMeta].Should().HaveCount(21, "a duplicate receipt is its own row");
        first[WarehouseTables.DicomStateMeta].Should().HaveCount(2);
    }

    [Fact]
    public async Task Out_of_order_versions_newest_wins_for_instances_and_series_while_arrival_times_span_all_receipts()
    {
        var v1 = Instance(TenantA, Study1, Series1, Sop(1), 100, patientName: "Old^Name");
        var v2 = Instance(TenantA, Study1, Series1, Sop(1), 200, patientName: "New^Name");
        v2.FileSize = 4242;

        // Newest first, then the older one (a replay of an old offset, or partitions read unevenly).
        await _warehouse.WriteImageMetaAsync([v2]);
        await _warehouse.WriteStateMetaAsync([State(v2)]);
        await _warehouse.WriteImageMetaAsync([v1]);
        await _warehouse.WriteStateMetaAsync([State(v1)]);

        var image = (await _warehouse.QueryAsync("SELECT * FROM dicom_image_meta")).Should().ContainSingle().Subject;
        image["version"].Should().Be(200L);
        image["file_size"].Should().Be(4242L);
        image["patient_name"].Should().Be("New^Name");
        image["trace_id"].Should().Be(v2.TraceId);

        var series = (await _warehouse.QueryAsync("SELECT * FROM dicom_state_meta")).Should().ContainSingle().Subject;
        series["version"].Should().Be(200L);
        series["patient_name"].Should().Be("New^Name");
        series["first_received_time"].Should().Be(v1.ReceivedTime.UtcDateTime);
        series["last_received_time"].Should().Be(v2.ReceivedTime.UtcDateTime);
        series["instance_count"].Should().Be(1L);

        // Both versions in one batch, older last: the batch's newest still wins, whatever its position.
        var v3 = Instance(TenantA, Study1, Series1, Sop(1), 300, patientName: "Newest^Name");
        var v0 = Instance(TenantA, Study1, Series1, Sop(1), 50, patientName: "Oldest^Name");
        await _warehouse.WriteImageMetaAsync([v3, v0]);
        await _warehouse.WriteStateMetaAsync([State(v3), State(v0)]);
        (await _warehouse.QueryAsync("SELECT patient_name, version FROM dicom_image_meta")).Single()["patient_name"].Should().Be("Newest^Name");
        var after = (await _warehouse.QueryAsync("SELECT * FROM dicom_state_meta")).Single();
        after["patient_name"].Should().Be("Newest^Name");
        after["first_received_time"].Should().Be(v0.ReceivedTime.UtcDateTime);
        after["last_received_time"].Should().Be(v3.ReceivedTime.UtcDateTime);
    }

    [Fact]
    public async Task Series_counts_equal_the_image_rows_under_resends_moves_and_any_topic_order()
    {
        // State events before their images: the series row exists with no instances yet.
        var images = Enumerable.Range(1, 6).Select(n => Instance(TenantA, Study1, Series1, Sop(n), n, frames: n == 6 ? 10 : null)).ToList();
        await _warehouse.WriteStateMetaAsync(images.Select(State).ToList());
        (await Count(Series1)).Should().Be((0L, 0L));

        await _warehouse.WriteImageMetaAsync(images[..4]);
        (await Count(Series1)).Should().Be((4L, 4L));
        await _warehouse.WriteImageMetaAsync(images);
        (await Count(Series1)).Should().Be((6L, 15L), "five single-frame instances and one of ten frames");

        // A replaced version of instance 2 that sits in another series now: it leaves series 1.
        var moved = Instance(TenantA, Study1, Series2, Sop(2), 50);
        await _warehouse.WriteImageMetaAsync([moved]);
        (await Count(Series1)).Should().Be((5L, 14L));
        (await Count(Series2)).Should().Be((1L, 1L));

        // Replaying the older receipts changes nothing: the move stands (newest wins), counts stay exact.
        await _warehouse.WriteImageMetaAsync(images);
        (await Count(Series1)).Should().Be((5L, 14L));
        (await Count(Series2)).Should().Be((1L, 1L));

        var exact = await _warehouse.QueryAsync(
            "SELECT s.series_uid, s.instance_count, (SELECT count(*) FROM dicom_image_meta i WHERE i.tenant_id = s.tenant_id AND i.series_uid = s.series_uid) AS counted FROM dicom_state_meta s");
        exact.Should().AllSatisfy(r => r["instance_count"].Should().Be(r["counted"]));
    }

    [Fact]
    public async Task A_consumer_batch_writes_three_tables_in_one_transaction_by_insert_and_falls_back_to_the_merge_when_delivered_again()
    {
        var images = Enumerable.Range(1, 8).Select(n => Instance(TenantA, Study1, n <= 5 ? Series1 : Series2, Sop(n), n, frames: n == 8 ? 2 : null)).ToList();
        var states = images.Select(State).ToList();
        var objects = images.Select(i => Object(i)).ToList();

        await _warehouse.WriteAsync(objects, states, images);
        _warehouse.MergedBatches.Should().Be(0, "first receipts are inserted");
        var first = await DumpAll();

        // Delivered again after a crash between write and commit: the insert meets its own rows and the batch merges.
        await _warehouse.WriteAsync(objects, states, images);
        _warehouse.MergedBatches.Should().Be(1);
        (await DumpAll()).Should().BeEquivalentTo(first, o => o.WithStrictOrdering());

        (await Count(Series1)).Should().Be((5L, 5L));
        (await Count(Series2)).Should().Be((3L, 4L));
        first[WarehouseTables.DicomObjectMeta].Should().HaveCount(8);

        // A later batch with a replaced version and the next first receipts: merged as a whole, counts still exact.
        var replaced = Instance(TenantA, Study1, Series2, Sop(1), 100, patientName: "Changed^Name");
        replaced.Outcome = ReceiptOutcome.Replaced;
        var next = Instance(TenantA, Study1, Series1, Sop(9), 101);
        await _warehouse.WriteAsync([Object(replaced, ReceiptOutcome.Replaced), Object(next)], [State(replaced), State(next)], [replaced, next]);
        (await Count(Series1)).Should().Be((5L, 5L), "instance 1 moved to series 2 and instance 9 arrived");
        (await Count(Series2)).Should().Be((4L, 5L));
        (await _warehouse.QueryAsync("SELECT count(*) AS n FROM dicom_object_meta")).Single()["n"].Should().Be(10L);
    }

    [Fact]
    public async Task The_quality_engine_questions_are_one_query_each()
    {
        var images = Enumerable.Range(1, 5).Select(n => Instance(TenantA, Study1, n <= 3 ? Series1 : Series2, Sop(n), n * 10)).ToList();
        await _warehouse.WriteImageMetaAsync(images);
        await _warehouse.WriteStateMetaAsync(images.Select(State).ToList());

        var series = await _warehouse.QueryAsync("SELECT instance_count FROM dicom_state_meta WHERE tenant_id = ? AND series_uid = ?", [TenantA, Series1]);
        series.Single()["instance_count"].Should().Be(3L);

        var study = await _warehouse.QueryAsync(
            "SELECT max(last_received_time) AS last_arrival, sum(instance_count) AS instances FROM dicom_state_meta WHERE tenant_id = ? AND study_uid = ?",
            [TenantA, Study1]);
        study.Single()["last_arrival"].Should().Be(images[^1].ReceivedTime.UtcDateTime);
        study.Single()["instances"].Should().Be(5L, "a HUGEINT sum comes back as a long");
    }

    [Fact]
    public async Task Unreadable_values_become_null_with_the_trace_id_logged_and_the_rest_of_the_record_kept()
    {
        var image = Instance(TenantA, Study1, Series1, Sop(1), 10, studyDate: "2026-13-45");
        image.PatientBirthDate = "not a date";
        image.StudyTime = "99";
        image.StudyDescription = "CT\0CHEST";
        var receipt = Object(image);
        receipt.CreatedTime = "yesterday at noon";
        receipt.StudyDate = "20260301"; // a DA where a Doris DATE was expected is still a date

        await _warehouse.WriteImageMetaAsync([image]);
        await _warehouse.WriteObjectMetaAsync([receipt]);

        var row = (await _warehouse.QueryAsync("SELECT * FROM dicom_image_meta")).Single();
        row["study_date"].Should().BeNull();
        row["patient_birth_date"].Should().BeNull();
        row["study_datetime"].Should().BeNull();
        row["study_time"].Should().Be("99", "text columns keep what was sent");
        row["study_description"].Should().Be("CTCHEST");
        row["patient_name"].Should().Be("Doe^Jane");
        var logged = (await _warehouse.QueryAsync("SELECT * FROM dicom_object_meta")).Single();
        logged["created_time"].Should().BeNull();
        logged["study_date"].Should().Be(new DateOnly(2026, 3, 1));
        logged["sop_uid"].Should().Be(Sop(1));

        _warehouse.UnreadableFields.Should().Be(4);
        var warnings = _log.Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Message).ToList();
        warnings.Should().Contain(m => m.Contains(image.TraceId) && m.Contains("study_date") && m.Contains("2026-13-45"));
        warnings.Should().Contain(m => m.Contains(image.TraceId) && m.Contains("patient_birth_date"));
        warnings.Should().Contain(m => m.Contains(image.TraceId) && m.Contains("study_description"));
        warnings.Should().Contain(m => m.Contains(receipt.TraceId) && m.Contains("created_time") && m.Contains("yesterday at noon"));
    }

    [Fact]
    public async Task Records_without_their_key_are_skipped_and_logged_and_the_batch_still_lands()
    {
        var good = Instance(TenantA, Study1, Series1, Sop(1), 10);
        var noSop = Instance(TenantA, Study1, Series1, Sop(2), 11);
        noSop.SopUid = "";
        var noTenant = Instance(TenantA, Study1, Series1, Sop(3), 12);
        noTenant.TenantId = null!; // what a JSON null gives
        var noTrace = Object(good);
        noTrace.TraceId = null!;
        var nullPatient = Object(good, traceId: "receipt-with-null-patient");
        nullPatient.PatientId = null!;

        await _warehouse.WriteImageMetaAsync([good, noSop, noTenant]);
        await _warehouse.WriteObjectMetaAsync([noTrace, nullPatient]);

        (await _warehouse.QueryAsync("SELECT sop_uid FROM dicom_image_meta")).Select(r => r["sop_uid"]).Should().Equal(Sop(1));
        (await _warehouse.QueryAsync("SELECT trace_id, patient_id FROM dicom_object_meta")).Should().ContainSingle()
            .Which["patient_id"].Should().Be("", "a NOT NULL column gets an empty value rather than losing the receipt");
        _warehouse.SkippedRecords.Should().Be(3);
        _log.Lines.Where(l => l.Level == LogLevel.Error).Select(l => l.Message).Should()
            .Contain(m => m.Contains(noSop.TraceId) && m.Contains("sop_uid"))
            .And.Contain(m => m.Contains(noTenant.TraceId) && m.Contains("tenant_id"))
            .And.Contain(m => m.Contains("dicom_object_meta") && m.Contains("trace_id"));
    }

    [Fact]
    public async Task State_events_of_conflicting_or_rejected_receipts_do_not_touch_the_series()
    {
        var current = Instance(TenantA, Study1, Series1, Sop(1), 10, patientName: "Right^Patient");
        await _warehouse.WriteStateMetaAsync([State(current)]);
        var conflict = State(Instance(TenantA, Study1, Series1, Sop(1), 20, patientName: "Wrong^Patient"));
        conflict.Outcome = ReceiptOutcome.Conflict;
        var rejected = State(Instance(TenantA, Study1, Series1, Sop(1), 30, patientName: "Other^Patient"));
        rejected.Outcome = ReceiptOutcome.Rejected;
        await _warehouse.WriteStateMetaAsync([conflict, rejected]);

        var row = (await _warehouse.QueryAsync("SELECT patient_name, version, last_received_time FROM dicom_state_meta")).Single();
        row["patient_name"].Should().Be("Right^Patient");
        row["version"].Should().Be(10L);
    }

    [Fact]
    public async Task Queries_run_in_read_only_transactions_with_positional_parameters()
    {
        await _warehouse.WriteImageMetaAsync([Instance(TenantA, Study1, Series1, Sop(1), 10)]);
        var delete = () => _warehouse.QueryAsync("DELETE FROM dicom_image_meta");
        await delete.Should().ThrowAsync<Exception>();
        (await _warehouse.QueryAsync("SELECT count(*) AS n FROM dicom_image_meta")).Single()["n"].Should().Be(1L);

        var rows = await _warehouse.QueryAsync("SELECT ? AS text, ? AS number, ? AS nothing, ? AS day", ["a'b", 42L, null, new DateOnly(2026, 3, 1)]);
        rows.Single()["TEXT"].Should().Be("a'b", "column names are matched case-insensitively");
        rows.Single()["number"].Should().Be(42L);
        rows.Single()["nothing"].Should().BeNull();
        rows.Single()["day"].Should().Be(new DateOnly(2026, 3, 1));

        var twice = () => _warehouse.QueryAsync("SELECT 1 AS x, 2 AS x");
        (await twice.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("'x'");
    }

    [Fact]
    public async Task A_cancelled_query_stops_whether_cancelled_before_or_while_it_runs()
    {
        // A query that would run for hours. DuckDB forgets an interrupt that comes before the query starts, so the
        // cancellations land at different moments; the guard turns a lost one into a failure instead of a hang.
        foreach (var delay in new[] { 0, 0, 1, 5, 20, 100, 300 })
        {
            using var cancel = new CancellationTokenSource();
            var query = _warehouse.QueryAsync("SELECT count(*) FROM range(1000000000000) AS a(i) WHERE i % 7 = 3", cancel.Token);
            cancel.CancelAfter(delay);
            var act = () => query.WaitAsync(TimeSpan.FromMinutes(1));
            await act.Should().ThrowAsync<OperationCanceledException>($"cancelled after {delay} ms");
        }

        (await _warehouse.QueryAsync("SELECT 1 AS one")).Single()["one"].Should().Be(1, "the pooled connections are usable afterwards");
    }

    [Fact]
    public async Task Queries_run_while_the_writer_commits_and_see_whole_batches_only()
    {
        const int batches = 30;
        const int perBatch = 50;
        var writer = Task.Run(async () =>
        {
            for (var b = 0; b < batches; b++)
            {
                var images = Enumerable.Range(0, perBatch).Select(n => Instance(TenantA, Study1, Series1, $"{Series1}.{b}.{n}", b * perBatch + n + 1)).ToList();
                await _warehouse.WriteImageMetaAsync(images);
            }
        });

        var seen = new List<long>();
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            var mine = new List<long>();
            do
            {
                var row = (await _warehouse.QueryAsync(
                    "SELECT (SELECT count(*) FROM dicom_image_meta) AS images, (SELECT coalesce(sum(instance_count), 0) FROM dicom_state_meta) AS counted")).Single();
                row["counted"].Should().Be(row["images"], "a batch's images and its series counts commit together");
                mine.Add((long)row["images"]!);
            }
            while (!writer.IsCompleted);

            return mine;
        })).ToList();

        // The guard turns a stuck writer into a failure rather than readers spinning for ever.
        await writer.WaitAsync(TimeSpan.FromMinutes(3));
        foreach (var reader in readers)
        {
            seen.AddRange(await reader.WaitAsync(TimeSpan.FromMinutes(1)));
        }

        seen.Should().AllSatisfy(n => (n % perBatch).Should().Be(0, "a reader sees whole batches"));
        (await _warehouse.QueryAsync("SELECT count(*) AS n FROM dicom_image_meta")).Single()["n"].Should().Be((long)batches * perBatch);
    }

    private async Task<(long Instances, long Frames)> Count(string series)
    {
        var row = (await _warehouse.QueryAsync("SELECT instance_count, frame_count FROM dicom_state_meta WHERE series_uid = ?", [series])).Single();
        return ((long)row["instance_count"]!, (long)row["frame_count"]!);
    }

    private async Task<Dictionary<string, List<string>>> DumpAll()
    {
        var all = new Dictionary<string, List<string>>();
        foreach (var table in new[] { WarehouseTables.DicomObjectMeta, WarehouseTables.DicomStateMeta, WarehouseTables.DicomImageMeta })
        {
            all[table] = await _warehouse.DumpAsync(table);
        }

        return all;
    }
}
