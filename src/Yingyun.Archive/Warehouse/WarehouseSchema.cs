namespace Yingyun.Archive.Warehouse;

/// <summary>The warehouse tables' names (ARCHITECTURE.md §6): the same in DuckDB and in Doris (deploy/doris.sql).</summary>
public static class WarehouseTables
{
    /// <summary>One row per receipt, re-sends included (the seed's table, plus <c>outcome</c>); unique on trace_id.</summary>
    public const string DicomObjectMeta = "dicom_object_meta";
    /// <summary>One row per (tenant_id, series_uid): the newest receipt's attributes, arrival times, instance counts.</summary>
    public const string DicomStateMeta = "dicom_state_meta";
    /// <summary>One row per (tenant_id, sop_uid): the current instance version (QUALITY.md's U1).</summary>
    public const string DicomImageMeta = "dicom_image_meta";
    /// <summary>One row per (instance version, target syntax): the latest transcode attempt.</summary>
    public const string TranscodeRecord = "transcode_record";
    /// <summary>One row per DICOMweb request (ARCHITECTURE.md §4).</summary>
    public const string DicomAccessLog = "dicom_access_log";
    /// <summary>One row per (tenant_id, accession_number): the hospitals' RIS exam records (ARCHITECTURE.md §7).</summary>
    public const string ExamRecord = "exam_record";
    /// <summary>One row per (indicator, tenant, dimension key, window): the newest computation wins.</summary>
    public const string QualityResult = "quality_result";
    public const string QualityAlert = "quality_alert";
    public const string QualityTodo = "quality_todo";
}

/// <summary>The column types the warehouse uses: the ones DuckDB and Doris share. Lengths matter to Doris only
/// (its VARCHAR length counts UTF-8 bytes, so decoded CJK text needs 3-4 bytes a character); DuckDB ignores them.</summary>
public enum WarehouseColumnType
{
    /// <summary>DuckDB <c>VARCHAR</c>, Doris <c>VARCHAR(n)</c>.</summary>
    Varchar,
    /// <summary><c>BIGINT</c> in both.</summary>
    BigInt,
    /// <summary>DuckDB <c>INTEGER</c>, Doris <c>INT</c>.</summary>
    Int,
    /// <summary><c>DOUBLE</c> in both.</summary>
    Double,
    /// <summary><c>DATE</c> in both.</summary>
    Date,
    /// <summary>DuckDB <c>TIMESTAMP</c> (microseconds), Doris <c>DATETIME(6)</c>. UTC unless the column says otherwise.</summary>
    DateTime,
}

public sealed record WarehouseColumn(string Name, WarehouseColumnType Type, int Length = 0, bool NotNull = false);

/// <summary>One table: its columns in order (key columns first, as Doris requires of a UNIQUE KEY table), its unique
/// key, and the column whose larger value wins when two rows share a key (Doris <c>function_column.sequence_col</c>;
/// null: the last write wins).</summary>
public sealed class WarehouseTable
{
    internal WarehouseTable(string name, string[] key, string? sequenceColumn, WarehouseColumn[] columns)
    {
        Name = name;
        Key = key;
        SequenceColumn = sequenceColumn;
        Columns = columns;
        for (var i = 0; i < key.Length; i++)
        {
            if (columns[i].Name != key[i] || !columns[i].NotNull)
            {
                throw new InvalidOperationException($"{name}: key column {key[i]} must come at position {i} and be NOT NULL");
            }
        }

        if (sequenceColumn is not null && !columns.Any(c => c.Name == sequenceColumn && c.NotNull))
        {
            throw new InvalidOperationException($"{name}: sequence column {sequenceColumn} must be a NOT NULL column");
        }
    }

    public string Name { get; }

    public IReadOnlyList<string> Key { get; }

    public string? SequenceColumn { get; }

    public IReadOnlyList<WarehouseColumn> Columns { get; }

    public WarehouseColumn this[string column] =>
        Columns.FirstOrDefault(c => c.Name == column) ?? throw new KeyNotFoundException($"{Name} has no column {column}");
}

/// <summary>
/// The warehouse's data contract (ARCHITECTURE.md §6, QUALITY.md): every table, column and key, written once here.
/// The DuckDB adapter creates its tables from it; deploy/doris.sql spells the same tables for Doris and a test keeps
/// the two equal. Column names avoid words that either dialect reserves (<c>rows</c>, <c>columns</c>, <c>value</c>,
/// <c>status</c>, …) so that indicator SQL needs no quoting on either.
/// </summary>
public static class WarehouseSchema
{
    private const int Uid = 64;       // UI: 64 bytes, ASCII (PS3.5 §6.2)
    private const int Lo = 256;       // LO: 64 characters, decoded to UTF-8 (up to 4 bytes each)
    private const int Sh = 64;        // SH: 16 characters, decoded
    private const int Cs = 16;        // CS: 16 bytes, ASCII
    private const int Pn = 1024;      // PN: 3 component groups of up to 64 characters each, decoded
    private const int Tm = 32;        // TM: as stored (ACR-NEMA colons included)
    private const int Path = 1024;
    private const int TraceId = 36;   // a GUID's text form
    private const int Tenant = 64;

    private static WarehouseColumn V(string name, int length, bool notNull = false) => new(name, WarehouseColumnType.Varchar, length, notNull);
    private static WarehouseColumn I64(string name, bool notNull = false) => new(name, WarehouseColumnType.BigInt, 0, notNull);
    private static WarehouseColumn I32(string name, bool notNull = false) => new(name, WarehouseColumnType.Int, 0, notNull);
    private static WarehouseColumn F64(string name) => new(name, WarehouseColumnType.Double);
    private static WarehouseColumn D(string name) => new(name, WarehouseColumnType.Date);
    private static WarehouseColumn Ts(string name, bool notNull = false) => new(name, WarehouseColumnType.DateTime, 0, notNull);

    /// <summary>The seed's <c>dicom_object_meta</c> with its column names and order, plus <c>outcome</c> at the end. Two
    /// types are wider than the seed's: <c>created_time</c> keeps microseconds (the log_queue message has them) and
    /// <c>source_ip</c> holds an IPv6 text form (the seed's 24 bytes cannot). No sequence column: a trace id is one
    /// receipt, so every message with it carries the same row.</summary>
    public static WarehouseTable DicomObjectMeta { get; } = new(WarehouseTables.DicomObjectMeta, ["trace_id"], null,
    [
        V("trace_id", TraceId, notNull: true),
        V("worker_node_id", 64, notNull: true),
        V("tenant_id", Tenant, notNull: true),
        V("patient_id", 64, notNull: true),
        V("study_uid", Uid),
        V("series_uid", Uid),
        V("sop_uid", Uid),
        I64("file_size"),
        V("file_path", Path),
        V("transfer_syntax_uid", Uid),
        I32("number_of_frames"),
        Ts("created_time"),
        I64("series_uid_hash"),
        I64("study_uid_hash"),
        V("accession_number", 64),
        V("target_ts", Uid),
        D("study_date"),
        V("transfer_status", 64),
        V("source_ip", 64),
        V("source_ae", 64),
        V("outcome", 16),
    ]);

    /// <summary>Series level (PS3.3 C.7.1.1, C.7.2.1, C.7.3.1): the attributes of the newest receipt that touched the
    /// series, when its first and last instances arrived, and how many current instances and frames it has (kept equal
    /// to <c>dicom_image_meta</c> by the writer, so "how many images does series X have" is one row).</summary>
    public static WarehouseTable DicomStateMeta { get; } = new(WarehouseTables.DicomStateMeta, ["tenant_id", "series_uid"], "version",
    [
        V("tenant_id", Tenant, notNull: true),
        V("series_uid", Uid, notNull: true),
        I64("version", notNull: true),
        V("trace_id", TraceId, notNull: true),
        V("outcome", 16),
        V("source_ae", 64),
        V("patient_id", 64, notNull: true),
        V("patient_name", Pn),
        V("patient_sex", Cs),
        D("patient_birth_date"),
        V("study_uid", Uid, notNull: true),
        D("study_date"),
        V("study_time", Tm),
        Ts("study_datetime"),
        V("accession_number", 64),
        V("study_description", Lo),
        V("institution_name", Lo),
        V("modality", Cs),
        I32("series_number"),
        V("series_description", Lo),
        V("body_part_examined", Cs),
        Ts("first_received_time"),
        Ts("last_received_time"),
        I64("instance_count", notNull: true),
        I64("frame_count", notNull: true),
    ]);

    /// <summary>Instance level: the current version of every instance (stored or replaced receipts only), patient,
    /// study and series attributes included so that indicators need no join. <c>image_rows</c>/<c>image_columns</c> are
    /// Rows (0028,0010) and Columns (0028,0011), renamed because ROWS is reserved in MySQL/Doris.</summary>
    public static WarehouseTable DicomImageMeta { get; } = new(WarehouseTables.DicomImageMeta, ["tenant_id", "sop_uid"], "version",
    [
        V("tenant_id", Tenant, notNull: true),
        V("sop_uid", Uid, notNull: true),
        I64("version", notNull: true),
        V("trace_id", TraceId, notNull: true),
        V("outcome", 16),
        Ts("received_time"),
        V("source_ae", 64),
        V("source_ip", 64),
        V("patient_id", 64, notNull: true),
        V("issuer_of_patient_id", Lo),
        V("patient_name", Pn),
        D("patient_birth_date"),
        V("patient_sex", Cs),
        V("study_uid", Uid, notNull: true),
        D("study_date"),
        V("study_time", Tm),
        Ts("study_datetime"),
        V("accession_number", 64),
        V("study_id", Sh),
        V("study_description", Lo),
        V("referring_physician_name", Pn),
        V("institution_name", Lo),
        V("series_uid", Uid, notNull: true),
        V("modality", Cs),
        I32("series_number"),
        V("series_description", Lo),
        V("body_part_examined", Cs),
        D("series_date"),
        V("series_time", Tm),
        V("station_name", Sh),
        V("sop_class_uid", Uid),
        I32("instance_number"),
        D("content_date"),
        V("content_time", Tm),
        I32("image_rows"),
        I32("image_columns"),
        I32("bits_allocated"),
        I32("number_of_frames"),
        V("specific_character_set", 128),
        V("transfer_syntax_uid", Uid),
        V("file_path", Path),
        I64("file_size"),
        V("content_hash", 64),
    ]);

    /// <summary>Transcode outcomes (seed: 转换失败的写入转换记录表; QUALITY.md V7 = failure ÷ rows). One row per instance
    /// version and target syntax; a re-run (compensation) has a larger <c>attempt_number</c> and replaces it, so the
    /// indicator recovers when the re-run succeeds.</summary>
    public static WarehouseTable TranscodeRecord { get; } = new(WarehouseTables.TranscodeRecord, ["tenant_id", "sop_uid", "version", "target_ts"], "attempt_number",
    [
        V("tenant_id", Tenant, notNull: true),
        V("sop_uid", Uid, notNull: true),
        I64("version", notNull: true),
        V("target_ts", Uid, notNull: true),
        I32("attempt_number", notNull: true),
        V("trace_id", TraceId),
        V("study_uid", Uid),
        V("series_uid", Uid),
        V("source_ts", Uid),
        V("outcome", 16),
        V("error_message", 1024),
        Ts("started_time"),
        Ts("finished_time"),
        V("output_path", Path),
        I64("output_size"),
        V("worker_node_id", 64),
    ]);

    /// <summary>DICOMweb reads and writes (ARCHITECTURE.md §4; QUALITY.md S3 reads the latencies). <c>tenant_id</c> is
    /// the tenant whose data was served (null for a region-wide query), <c>principal_tenant_id</c> the caller's.</summary>
    public static WarehouseTable DicomAccessLog { get; } = new(WarehouseTables.DicomAccessLog, ["request_id"], null,
    [
        V("request_id", TraceId, notNull: true),
        V("tenant_id", Tenant),
        Ts("access_time"),
        V("principal", 128),
        V("principal_tenant_id", Tenant),
        V("client_ip", 64),
        V("http_method", 8),
        V("service", 32),
        V("request_path", 2048),
        V("study_uid", Uid),
        V("series_uid", Uid),
        V("sop_uid", Uid),
        I32("status_code"),
        I64("response_bytes"),
        F64("first_byte_ms"),
        F64("elapsed_ms"),
        V("worker_node_id", 64),
    ]);

    /// <summary>Exam records from the hospitals' RIS (ARCHITECTURE.md §7), the other side of completeness and timeliness
    /// (QUALITY.md C1–C3, C7, T1, T3, T4, K1, K3, K4). Times are UTC (the import converts from the tenant's zone); a
    /// re-sent record with a later <c>updated_time</c> replaces the earlier one.</summary>
    public static WarehouseTable ExamRecord { get; } = new(WarehouseTables.ExamRecord, ["tenant_id", "accession_number"], "updated_time",
    [
        V("tenant_id", Tenant, notNull: true),
        V("accession_number", 64, notNull: true),
        Ts("updated_time", notNull: true),
        V("patient_id", 64),
        V("issuer_of_patient_id", Lo),
        V("patient_name", Pn),
        V("patient_sex", Cs),
        D("patient_birth_date"),
        V("study_uid", Uid),
        Ts("exam_time"),
        V("exam_class", 16),
        V("modality", Cs),
        V("body_part", 64),
        V("exam_item_code", 64),
        V("exam_item_name", Lo),
        I32("expected_series_count"),
        I32("expected_image_count"),
        Ts("report_time"),
        Ts("received_time"),
        V("record_source", 16),
    ]);

    /// <summary>Indicator values (QUALITY.md "How indicators are computed"): one row per indicator, tenant, dimension
    /// key ('' for the whole tenant) and window; the newest computation wins, older windows stay as history.</summary>
    public static WarehouseTable QualityResult { get; } = new(WarehouseTables.QualityResult,
        ["indicator_id", "tenant_id", "dimension_key", "window_start", "window_end"], "computed_time",
    [
        V("indicator_id", 32, notNull: true),
        V("tenant_id", Tenant, notNull: true),
        V("dimension_key", 256, notNull: true),
        Ts("window_start", notNull: true),
        Ts("window_end", notNull: true),
        F64("numerator"),
        F64("denominator"),
        F64("indicator_value"),
        V("result_status", 16),
        Ts("computed_time", notNull: true),
    ]);

    /// <summary>Alerts (ARCHITECTURE.md §7): raised on a threshold or an anomaly, closed when the indicator recovers.</summary>
    public static WarehouseTable QualityAlert { get; } = new(WarehouseTables.QualityAlert, ["alert_id"], "updated_time",
    [
        V("alert_id", TraceId, notNull: true),
        V("tenant_id", Tenant, notNull: true),
        V("indicator_id", 32, notNull: true),
        V("dimension_key", 256),
        V("severity", 16),
        V("alert_kind", 16),
        V("alert_status", 16),
        Ts("opened_time"),
        Ts("closed_time"),
        Ts("window_start"),
        Ts("window_end"),
        F64("indicator_value"),
        F64("threshold"),
        V("alert_message", 1024),
        Ts("pushed_time"),
        Ts("updated_time", notNull: true),
    ]);

    /// <summary>To-dos (代办) a tenant works through, one per alert, with the compensation tried for it.</summary>
    public static WarehouseTable QualityTodo { get; } = new(WarehouseTables.QualityTodo, ["todo_id"], "updated_time",
    [
        V("todo_id", TraceId, notNull: true),
        V("tenant_id", Tenant, notNull: true),
        V("alert_id", TraceId),
        V("indicator_id", 32),
        V("title", Lo),
        V("todo_status", 16),
        V("assignee", 128),
        Ts("created_time"),
        Ts("due_time"),
        Ts("closed_time"),
        V("compensation", 32),
        V("compensation_status", 16),
        V("todo_note", 1024),
        Ts("updated_time", notNull: true),
    ]);

    public static IReadOnlyList<WarehouseTable> Tables { get; } =
        [DicomObjectMeta, DicomStateMeta, DicomImageMeta, TranscodeRecord, DicomAccessLog, ExamRecord, QualityResult, QualityAlert, QualityTodo];
}
