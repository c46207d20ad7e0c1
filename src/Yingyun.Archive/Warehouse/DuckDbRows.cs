using DuckDB.NET.Data;
using Yingyun.Archive.Ingest;

namespace Yingyun.Archive.Warehouse;

/// <summary>How each event becomes a staged row: one appender call per column, named by column and put in the
/// table's order at start-up, so the mapping cannot drift from <see cref="WarehouseSchema"/> unnoticed.</summary>
internal static class DuckDbRows
{
    public delegate void AppendColumn<in T>(IDuckDBAppenderRow row, T item, FieldReader fields);

    public sealed class Writer<T>
    {
        private readonly AppendColumn<T>[] _columns;

        public Writer(WarehouseTable table, params (string Column, AppendColumn<T> Append)[] columns)
        {
            Table = table;
            StageTable = DuckDbSql.StageTable(table);
            var byName = new Dictionary<string, AppendColumn<T>>(StringComparer.Ordinal);
            foreach (var (column, append) in columns)
            {
                if (!byName.TryAdd(column, append))
                {
                    throw new InvalidOperationException($"{table.Name}: column {column} is written twice");
                }
            }

            _columns = table.Columns
                .Select(c => byName.Remove(c.Name, out var append) ? append : throw new InvalidOperationException($"{table.Name}: nothing writes column {c.Name}"))
                .ToArray();
            if (byName.Count > 0)
            {
                throw new InvalidOperationException($"{table.Name} has no column {string.Join(", ", byName.Keys)}");
            }
        }

        public WarehouseTable Table { get; }

        public string StageTable { get; }

        public void Append(DuckDBAppender appender, T item, FieldReader fields)
        {
            var row = appender.CreateRow();
            foreach (var column in _columns)
            {
                column(row, item, fields);
            }

            row.EndRow();
        }
    }

    /// <summary>Reads one record's text values into column values, reporting each one it cannot read (with the
    /// record's trace id) instead of failing: the value becomes NULL, the record is kept.</summary>
    public sealed class FieldReader(DuckDbWarehouse owner, string table)
    {
        public string TraceId { get; set; } = "";

        /// <summary>Set for rows derived from a record another table already reported on.</summary>
        public bool Quiet { get; set; }

        /// <summary>Text as given; NUL characters (which DuckDB's appender would cut the value at) are removed.</summary>
        public string? Text(string? value, string field)
        {
            if (value is null || !value.Contains('\0', StringComparison.Ordinal))
            {
                return value;
            }

            if (!Quiet)
            {
                owner.ReportNul(table, TraceId, field);
            }

            return value.Replace("\0", "", StringComparison.Ordinal);
        }

        /// <summary>For a NOT NULL column: an absent value is stored empty (e.g. a Type 2 Patient ID, PS3.3 C.7.1.1).</summary>
        public string Required(string? value, string field) => Text(value, field) ?? "";

        public DateTime? Timestamp(string? text, string field)
        {
            if (WarehouseValues.TryParseTimestamp(text, out var value))
            {
                return value;
            }

            Report(field, text);
            return null;
        }

        public DateTime? Timestamp(DateTimeOffset time, string field)
        {
            if (time != default)
            {
                return time.UtcDateTime;
            }

            Report(field, null);
            return null;
        }

        public DateOnly? Date(string? text, string field)
        {
            if (WarehouseValues.TryParseDate(text, out var value))
            {
                return value;
            }

            Report(field, text);
            return null;
        }

        private void Report(string field, string? value)
        {
            if (!Quiet)
            {
                owner.ReportUnreadable(table, TraceId, field, value);
            }
        }

        /// <summary>Date and time combined; nothing reported, the two source columns are stored (and reported) themselves.</summary>
        public static DateTime? DateTime(string? date, string? time) =>
            WarehouseValues.TryParseDate(date, out var d) && WarehouseValues.TryParseTime(time, out var t) ? WarehouseValues.Combine(d, t) : null;
    }

    public static readonly Writer<ObjectMetaEvent> ObjectMeta = new(WarehouseSchema.DicomObjectMeta,
        ("trace_id", static (r, e, f) => r.AppendValue(f.Required(e.TraceId, "trace_id"))),
        ("worker_node_id", static (r, e, f) => r.AppendValue(f.Required(e.WorkerNodeId, "worker_node_id"))),
        ("tenant_id", static (r, e, f) => r.AppendValue(f.Required(e.TenantId, "tenant_id"))),
        ("patient_id", static (r, e, f) => r.AppendValue(f.Required(e.PatientId, "patient_id"))),
        ("study_uid", static (r, e, f) => r.AppendValue(f.Text(e.StudyUid, "study_uid"))),
        ("series_uid", static (r, e, f) => r.AppendValue(f.Text(e.SeriesUid, "series_uid"))),
        ("sop_uid", static (r, e, f) => r.AppendValue(f.Text(e.SopUid, "sop_uid"))),
        ("file_size", static (r, e, _) => r.AppendValue(e.FileSize)),
        ("file_path", static (r, e, f) => r.AppendValue(f.Text(e.FilePath, "file_path"))),
        ("transfer_syntax_uid", static (r, e, f) => r.AppendValue(f.Text(e.TransferSyntaxUid, "transfer_syntax_uid"))),
        ("number_of_frames", static (r, e, _) => r.AppendValue(e.NumberOfFrames)),
        ("created_time", static (r, e, f) => r.AppendValue(f.Timestamp(e.CreatedTime, "created_time"))),
        ("series_uid_hash", static (r, e, _) => r.AppendValue(e.SeriesUidHash)),
        ("study_uid_hash", static (r, e, _) => r.AppendValue(e.StudyUidHash)),
        ("accession_number", static (r, e, f) => r.AppendValue(f.Text(e.AccessionNumber, "accession_number"))),
        ("target_ts", static (r, e, f) => r.AppendValue(f.Text(e.TargetTs, "target_ts"))),
        ("study_date", static (r, e, f) => r.AppendValue(f.Date(e.StudyDate, "study_date"))),
        ("transfer_status", static (r, e, f) => r.AppendValue(f.Text(e.TransferStatus, "transfer_status"))),
        ("source_ip", static (r, e, f) => r.AppendValue(f.Text(e.SourceIp, "source_ip"))),
        ("source_ae", static (r, e, f) => r.AppendValue(f.Text(e.SourceAe, "source_ae"))),
        ("outcome", static (r, e, f) => r.AppendValue(f.Text(e.Outcome, "outcome"))));

    public static readonly Writer<InstanceEvent> ImageMeta = new(WarehouseSchema.DicomImageMeta,
        ("tenant_id", static (r, e, f) => r.AppendValue(f.Required(e.TenantId, "tenant_id"))),
        ("sop_uid", static (r, e, f) => r.AppendValue(f.Required(e.SopUid, "sop_uid"))),
        ("version", static (r, e, _) => r.AppendValue((long?)e.Version)),
        ("trace_id", static (r, e, f) => r.AppendValue(f.Required(e.TraceId, "trace_id"))),
        ("outcome", static (r, e, f) => r.AppendValue(f.Text(e.Outcome, "outcome"))),
        ("received_time", static (r, e, f) => r.AppendValue(f.Timestamp(e.ReceivedTime, "received_time"))),
        ("source_ae", static (r, e, f) => r.AppendValue(f.Text(e.SourceAe, "source_ae"))),
        ("source_ip", static (r, e, f) => r.AppendValue(f.Text(e.SourceIp, "source_ip"))),
        ("patient_id", static (r, e, f) => r.AppendValue(f.Required(e.PatientId, "patient_id"))),
        ("issuer_of_patient_id", static (r, e, f) => r.AppendValue(f.Text(e.IssuerOfPatientId, "issuer_of_patient_id"))),
        ("patient_name", static (r, e, f) => r.AppendValue(f.Text(e.PatientName, "patient_name"))),
        ("patient_birth_date", static (r, e, f) => r.AppendValue(f.Date(e.PatientBirthDate, "patient_birth_date"))),
        ("patient_sex", static (r, e, f) => r.AppendValue(f.Text(e.PatientSex, "patient_sex"))),
        ("study_uid", static (r, e, f) => r.AppendValue(f.Required(e.StudyUid, "study_uid"))),
        ("study_date", static (r, e, f) => r.AppendValue(f.Date(e.StudyDate, "study_date"))),
        ("study_time", static (r, e, f) => r.AppendValue(f.Text(e.StudyTime, "study_time"))),
        ("study_datetime", static (r, e, _) => r.AppendValue(FieldReader.DateTime(e.StudyDate, e.StudyTime))),
        ("accession_number", static (r, e, f) => r.AppendValue(f.Text(e.AccessionNumber, "accession_number"))),
        ("study_id", static (r, e, f) => r.AppendValue(f.Text(e.StudyId, "study_id"))),
        ("study_description", static (r, e, f) => r.AppendValue(f.Text(e.StudyDescription, "study_description"))),
        ("referring_physician_name", static (r, e, f) => r.AppendValue(f.Text(e.ReferringPhysicianName, "referring_physician_name"))),
        ("institution_name", static (r, e, f) => r.AppendValue(f.Text(e.InstitutionName, "institution_name"))),
        ("series_uid", static (r, e, f) => r.AppendValue(f.Required(e.SeriesUid, "series_uid"))),
        ("modality", static (r, e, f) => r.AppendValue(f.Text(e.Modality, "modality"))),
        ("series_number", static (r, e, _) => r.AppendValue(e.SeriesNumber)),
        ("series_description", static (r, e, f) => r.AppendValue(f.Text(e.SeriesDescription, "series_description"))),
        ("body_part_examined", static (r, e, f) => r.AppendValue(f.Text(e.BodyPartExamined, "body_part_examined"))),
        ("series_date", static (r, e, f) => r.AppendValue(f.Date(e.SeriesDate, "series_date"))),
        ("series_time", static (r, e, f) => r.AppendValue(f.Text(e.SeriesTime, "series_time"))),
        ("station_name", static (r, e, f) => r.AppendValue(f.Text(e.StationName, "station_name"))),
        ("sop_class_uid", static (r, e, f) => r.AppendValue(f.Text(e.SopClassUid, "sop_class_uid"))),
        ("instance_number", static (r, e, _) => r.AppendValue(e.InstanceNumber)),
        ("content_date", static (r, e, f) => r.AppendValue(f.Date(e.ContentDate, "content_date"))),
        ("content_time", static (r, e, f) => r.AppendValue(f.Text(e.ContentTime, "content_time"))),
        ("image_rows", static (r, e, _) => r.AppendValue(e.Rows)),
        ("image_columns", static (r, e, _) => r.AppendValue(e.Columns)),
        ("bits_allocated", static (r, e, _) => r.AppendValue(e.BitsAllocated)),
        ("number_of_frames", static (r, e, _) => r.AppendValue(e.NumberOfFrames)),
        ("specific_character_set", static (r, e, f) => r.AppendValue(f.Text(e.SpecificCharacterSet, "specific_character_set"))),
        ("transfer_syntax_uid", static (r, e, f) => r.AppendValue(f.Text(e.TransferSyntaxUid, "transfer_syntax_uid"))),
        ("file_path", static (r, e, f) => r.AppendValue(f.Text(e.FilePath, "file_path"))),
        ("file_size", static (r, e, _) => r.AppendValue((long?)e.FileSize)),
        ("content_hash", static (r, e, f) => r.AppendValue(f.Text(e.ContentHash, "content_hash"))));

    /// <summary>One series row to merge: the attributes of the newest receipt the batch has for the series (a state
    /// event, or the series part of an image event), and the earliest and latest receipt times among all of them.</summary>
    public sealed class SeriesState
    {
        public required SeriesStateEvent Newest { get; set; }

        /// <summary>The attributes come from an image event (whose values the image table reports on).</summary>
        public bool FromImage { get; private set; }

        public DateTimeOffset First { get; set; }

        public DateTimeOffset Last { get; set; }

        public static SeriesState Of(SeriesStateEvent e) => new() { Newest = e, First = e.ReceivedTime, Last = e.ReceivedTime };

        /// <summary>The series part of an image event: the same fields under the same names.</summary>
        public SeriesState Copy() => new() { Newest = Newest, FromImage = FromImage, First = First, Last = Last };

        public static SeriesState Of(InstanceEvent e) => new()
        {
            FromImage = true,
            First = e.ReceivedTime,
            Last = e.ReceivedTime,
            Newest = new SeriesStateEvent
        {
            TraceId = e.TraceId,
            TenantId = e.TenantId,
            Version = e.Version,
            Outcome = e.Outcome,
            ReceivedTime = e.ReceivedTime,
            SourceAe = e.SourceAe,
            PatientId = e.PatientId,
            PatientName = e.PatientName,
            PatientSex = e.PatientSex,
            PatientBirthDate = e.PatientBirthDate,
            StudyUid = e.StudyUid,
            StudyDate = e.StudyDate,
            StudyTime = e.StudyTime,
            AccessionNumber = e.AccessionNumber,
            StudyDescription = e.StudyDescription,
            InstitutionName = e.InstitutionName,
            SeriesUid = e.SeriesUid,
            Modality = e.Modality,
            SeriesNumber = e.SeriesNumber,
            SeriesDescription = e.SeriesDescription,
            BodyPartExamined = e.BodyPartExamined,
        },
        };

        /// <summary>Folds another receipt of the same series in: its attributes win on an equal or larger version (the
        /// later one in the batch on a tie, as for a row already stored), times widen.</summary>
        public void Add(SeriesState other)
        {
            if (other.Newest.Version >= Newest.Version)
            {
                Newest = other.Newest;
                FromImage = other.FromImage;
            }

            First = Earliest(First, other.First);
            Last = other.Last > Last ? other.Last : Last;
        }

        // default (an event without a receipt time) is "unknown", not "earliest".
        private static DateTimeOffset Earliest(DateTimeOffset a, DateTimeOffset b) => a == default ? b : b == default ? a : a < b ? a : b;
    }

    public static readonly Writer<SeriesState> StateMeta = new(WarehouseSchema.DicomStateMeta,
        ("tenant_id", static (r, s, f) => r.AppendValue(f.Required(s.Newest.TenantId, "tenant_id"))),
        ("series_uid", static (r, s, f) => r.AppendValue(f.Required(s.Newest.SeriesUid, "series_uid"))),
        ("version", static (r, s, _) => r.AppendValue((long?)s.Newest.Version)),
        ("trace_id", static (r, s, f) => r.AppendValue(f.Required(s.Newest.TraceId, "trace_id"))),
        ("outcome", static (r, s, f) => r.AppendValue(f.Text(s.Newest.Outcome, "outcome"))),
        ("source_ae", static (r, s, f) => r.AppendValue(f.Text(s.Newest.SourceAe, "source_ae"))),
        ("patient_id", static (r, s, f) => r.AppendValue(f.Required(s.Newest.PatientId, "patient_id"))),
        ("patient_name", static (r, s, f) => r.AppendValue(f.Text(s.Newest.PatientName, "patient_name"))),
        ("patient_sex", static (r, s, f) => r.AppendValue(f.Text(s.Newest.PatientSex, "patient_sex"))),
        ("patient_birth_date", static (r, s, f) => r.AppendValue(f.Date(s.Newest.PatientBirthDate, "patient_birth_date"))),
        ("study_uid", static (r, s, f) => r.AppendValue(f.Required(s.Newest.StudyUid, "study_uid"))),
        ("study_date", static (r, s, f) => r.AppendValue(f.Date(s.Newest.StudyDate, "study_date"))),
        ("study_time", static (r, s, f) => r.AppendValue(f.Text(s.Newest.StudyTime, "study_time"))),
        ("study_datetime", static (r, s, _) => r.AppendValue(FieldReader.DateTime(s.Newest.StudyDate, s.Newest.StudyTime))),
        ("accession_number", static (r, s, f) => r.AppendValue(f.Text(s.Newest.AccessionNumber, "accession_number"))),
        ("study_description", static (r, s, f) => r.AppendValue(f.Text(s.Newest.StudyDescription, "study_description"))),
        ("institution_name", static (r, s, f) => r.AppendValue(f.Text(s.Newest.InstitutionName, "institution_name"))),
        ("modality", static (r, s, f) => r.AppendValue(f.Text(s.Newest.Modality, "modality"))),
        ("series_number", static (r, s, _) => r.AppendValue(s.Newest.SeriesNumber)),
        ("series_description", static (r, s, f) => r.AppendValue(f.Text(s.Newest.SeriesDescription, "series_description"))),
        ("body_part_examined", static (r, s, f) => r.AppendValue(f.Text(s.Newest.BodyPartExamined, "body_part_examined"))),
        ("first_received_time", static (r, s, f) => r.AppendValue(f.Timestamp(s.First, "received_time"))),
        ("last_received_time", static (r, s, _) => r.AppendValue(s.Last == default ? (DateTime?)null : s.Last.UtcDateTime)),
        ("instance_count", static (r, _, _) => r.AppendValue((long?)0)),
        ("frame_count", static (r, _, _) => r.AppendValue((long?)0)));
}
