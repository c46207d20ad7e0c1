using System.Text.Json;
using System.Text.Json.Serialization;

namespace Yingyun.Archive.Ingest;

// The messages ingest appends for every receipt (ARCHITECTURE.md §1, §6), one record per topic, all keyed by the
// Study Instance UID so one study's events stay in one partition and in order. Consumers are idempotent on
// trace_id (a receipt) and on (tenant_id, sop_uid, version) (an instance version): replay converges.
// Field names are snake_case like the seed's tables; the log_queue message has exactly the seed's
// dicom_object_meta names (plus "outcome", see ObjectMetaEvent).

/// <summary>What a receipt did (ARCHITECTURE.md §5).</summary>
public static class ReceiptOutcome
{
    /// <summary>First time this SOP Instance UID arrived for the tenant.</summary>
    public const string Stored = "stored";
    /// <summary>Different content for a known instance, same study and patient: newest wins, prior kept as a version.</summary>
    public const string Replaced = "replaced";
    /// <summary>Byte-identical data set to the current version: recorded, nothing else changes.</summary>
    public const string Duplicate = "duplicate";
    /// <summary>The SOP Instance UID arrived under another patient, study or series: kept aside, never merged.</summary>
    public const string Conflict = "conflict";
    /// <summary>Different content and the tenant's policy keeps the first version: kept aside as rejected.</summary>
    public const string Rejected = "rejected";
}

/// <summary><c>log_queue</c>: the seed's <c>dicom_object_meta</c> row, one per receipt (re-sends included). A Doris
/// Routine Load with the seed's jsonpaths consumes it unchanged; <c>outcome</c> is our one addition (the seed has no
/// column for what a re-send did) and extra JSON fields are ignored by such a load.</summary>
public sealed class ObjectMetaEvent
{
    [JsonPropertyName("trace_id")] public string TraceId { get; set; } = "";
    [JsonPropertyName("worker_node_id")] public string WorkerNodeId { get; set; } = "";
    [JsonPropertyName("tenant_id")] public string TenantId { get; set; } = "";
    [JsonPropertyName("patient_id")] public string PatientId { get; set; } = "";
    [JsonPropertyName("study_uid")] public string? StudyUid { get; set; }
    [JsonPropertyName("series_uid")] public string? SeriesUid { get; set; }
    [JsonPropertyName("sop_uid")] public string? SopUid { get; set; }
    [JsonPropertyName("file_size")] public long? FileSize { get; set; }
    [JsonPropertyName("file_path")] public string? FilePath { get; set; }
    [JsonPropertyName("transfer_syntax_uid")] public string? TransferSyntaxUid { get; set; }
    [JsonPropertyName("number_of_frames")] public int? NumberOfFrames { get; set; }
    /// <summary>Doris DATETIME text, UTC: <c>yyyy-MM-dd HH:mm:ss.ffffff</c>.</summary>
    [JsonPropertyName("created_time")] public string? CreatedTime { get; set; }
    [JsonPropertyName("series_uid_hash")] public long? SeriesUidHash { get; set; }
    [JsonPropertyName("study_uid_hash")] public long? StudyUidHash { get; set; }
    [JsonPropertyName("accession_number")] public string? AccessionNumber { get; set; }
    /// <summary>The syntax a viewer-safe copy is (or will be) in; null until the transcode consumer decides.</summary>
    [JsonPropertyName("target_ts")] public string? TargetTs { get; set; }
    /// <summary>Doris DATE text <c>yyyy-MM-dd</c>, from Study Date (0008,0020); null when absent or invalid.</summary>
    [JsonPropertyName("study_date")] public string? StudyDate { get; set; }
    /// <summary>Transcode state: <c>pending</c> at receipt; the transcode consumer moves it on.</summary>
    [JsonPropertyName("transfer_status")] public string? TransferStatus { get; set; }
    [JsonPropertyName("source_ip")] public string? SourceIp { get; set; }
    [JsonPropertyName("source_ae")] public string? SourceAe { get; set; }
    /// <summary>One of <see cref="ReceiptOutcome"/>.</summary>
    [JsonPropertyName("outcome")] public string Outcome { get; set; } = ReceiptOutcome.Stored;
}

/// <summary><c>storage_queue</c>: the seed's storage message (transfer syntax, SOP/Study/Series UIDs, PatientID, file
/// name, size, path) plus tenant, trace id and what the receipt did to the file registry.</summary>
public sealed class StorageEvent
{
    [JsonPropertyName("trace_id")] public string TraceId { get; set; } = "";
    [JsonPropertyName("tenant_id")] public string TenantId { get; set; } = "";
    [JsonPropertyName("transfer_syntax")] public string TransferSyntax { get; set; } = "";
    [JsonPropertyName("sop_class_uid")] public string SopClassUid { get; set; } = "";
    [JsonPropertyName("sop_instance_uid")] public string SopInstanceUid { get; set; } = "";
    [JsonPropertyName("study_instance_uid")] public string StudyInstanceUid { get; set; } = "";
    [JsonPropertyName("series_instance_uid")] public string SeriesInstanceUid { get; set; } = "";
    [JsonPropertyName("patient_id")] public string PatientId { get; set; } = "";
    /// <summary>File name within its folder, e.g. <c>1.2.3.dcm</c>.</summary>
    [JsonPropertyName("file_name")] public string FileName { get; set; } = "";
    [JsonPropertyName("file_size")] public long FileSize { get; set; }
    /// <summary>Path relative to the blob root, '/'-separated: <c>&lt;tenant&gt;/&lt;study&gt;/&lt;series&gt;/&lt;sop&gt;.dcm</c>
    /// for stored/replaced, the kept-aside path for conflict/rejected, null for duplicate (nothing written).</summary>
    [JsonPropertyName("file_path")] public string? FilePath { get; set; }
    /// <summary>XxHash128 of the data set bytes (after the File Meta Information), lower-case hex.</summary>
    [JsonPropertyName("content_hash")] public string ContentHash { get; set; } = "";
    /// <summary>Receipt sequence (UTC ticks at receipt): the newest version has the largest (Doris sequence column).</summary>
    [JsonPropertyName("version")] public long Version { get; set; }
    [JsonPropertyName("outcome")] public string Outcome { get; set; } = ReceiptOutcome.Stored;
    /// <summary>For <c>replaced</c>: where the prior version now lives, relative to the blob root.</summary>
    [JsonPropertyName("previous_version_path")] public string? PreviousVersionPath { get; set; }
    /// <summary>For <c>conflict</c>: the study the instance already belongs to.</summary>
    [JsonPropertyName("existing_study_instance_uid")] public string? ExistingStudyInstanceUid { get; set; }
    [JsonPropertyName("existing_patient_id")] public string? ExistingPatientId { get; set; }
    [JsonPropertyName("received_time")] public DateTimeOffset ReceivedTime { get; set; }
}

/// <summary><c>dicom_image_queue</c>: everything the index store and the warehouse's <c>dicom_image_meta</c> need
/// about one instance version, patient/study/series attributes included (strings decoded to Unicode). Only
/// stored/replaced receipts produce it: the index shows what is current.</summary>
public sealed class InstanceEvent
{
    [JsonPropertyName("trace_id")] public string TraceId { get; set; } = "";
    [JsonPropertyName("tenant_id")] public string TenantId { get; set; } = "";
    [JsonPropertyName("version")] public long Version { get; set; }
    [JsonPropertyName("outcome")] public string Outcome { get; set; } = ReceiptOutcome.Stored;
    [JsonPropertyName("received_time")] public DateTimeOffset ReceivedTime { get; set; }
    [JsonPropertyName("source_ae")] public string? SourceAe { get; set; }
    [JsonPropertyName("source_ip")] public string? SourceIp { get; set; }

    // Patient (PS3.3 C.7.1.1)
    [JsonPropertyName("patient_id")] public string PatientId { get; set; } = "";
    [JsonPropertyName("issuer_of_patient_id")] public string? IssuerOfPatientId { get; set; }
    /// <summary>DICOM PN text (components '^', groups '='), decoded from Specific Character Set.</summary>
    [JsonPropertyName("patient_name")] public string? PatientName { get; set; }
    [JsonPropertyName("patient_birth_date")] public string? PatientBirthDate { get; set; }
    [JsonPropertyName("patient_sex")] public string? PatientSex { get; set; }

    // Study (C.7.2.1)
    [JsonPropertyName("study_uid")] public string StudyUid { get; set; } = "";
    /// <summary>DA as stored (YYYYMMDD).</summary>
    [JsonPropertyName("study_date")] public string? StudyDate { get; set; }
    /// <summary>TM as stored.</summary>
    [JsonPropertyName("study_time")] public string? StudyTime { get; set; }
    [JsonPropertyName("accession_number")] public string? AccessionNumber { get; set; }
    [JsonPropertyName("study_id")] public string? StudyId { get; set; }
    [JsonPropertyName("study_description")] public string? StudyDescription { get; set; }
    [JsonPropertyName("referring_physician_name")] public string? ReferringPhysicianName { get; set; }
    [JsonPropertyName("institution_name")] public string? InstitutionName { get; set; }

    // Series (C.7.3.1)
    [JsonPropertyName("series_uid")] public string SeriesUid { get; set; } = "";
    [JsonPropertyName("modality")] public string? Modality { get; set; }
    [JsonPropertyName("series_number")] public int? SeriesNumber { get; set; }
    [JsonPropertyName("series_description")] public string? SeriesDescription { get; set; }
    [JsonPropertyName("body_part_examined")] public string? BodyPartExamined { get; set; }
    [JsonPropertyName("series_date")] public string? SeriesDate { get; set; }
    [JsonPropertyName("series_time")] public string? SeriesTime { get; set; }
    [JsonPropertyName("station_name")] public string? StationName { get; set; }

    // Instance (C.12.1, C.7.6.1, C.7.6.3)
    [JsonPropertyName("sop_class_uid")] public string SopClassUid { get; set; } = "";
    [JsonPropertyName("sop_uid")] public string SopUid { get; set; } = "";
    [JsonPropertyName("instance_number")] public int? InstanceNumber { get; set; }
    [JsonPropertyName("content_date")] public string? ContentDate { get; set; }
    [JsonPropertyName("content_time")] public string? ContentTime { get; set; }
    [JsonPropertyName("rows")] public int? Rows { get; set; }
    [JsonPropertyName("columns")] public int? Columns { get; set; }
    [JsonPropertyName("bits_allocated")] public int? BitsAllocated { get; set; }
    [JsonPropertyName("number_of_frames")] public int? NumberOfFrames { get; set; }
    [JsonPropertyName("specific_character_set")] public string? SpecificCharacterSet { get; set; }
    [JsonPropertyName("transfer_syntax_uid")] public string TransferSyntaxUid { get; set; } = "";

    // File
    /// <summary>Relative to the blob root, '/'-separated.</summary>
    [JsonPropertyName("file_path")] public string FilePath { get; set; } = "";
    [JsonPropertyName("file_size")] public long FileSize { get; set; }
    [JsonPropertyName("content_hash")] public string ContentHash { get; set; } = "";
}

/// <summary><c>dicom_state_queue</c>: the series-level state a receipt touches (→ warehouse <c>dicom_state_meta</c>,
/// one row per tenant and series; counts are derived there from <c>dicom_image_meta</c>).</summary>
public sealed class SeriesStateEvent
{
    [JsonPropertyName("trace_id")] public string TraceId { get; set; } = "";
    [JsonPropertyName("tenant_id")] public string TenantId { get; set; } = "";
    [JsonPropertyName("version")] public long Version { get; set; }
    [JsonPropertyName("outcome")] public string Outcome { get; set; } = ReceiptOutcome.Stored;
    [JsonPropertyName("received_time")] public DateTimeOffset ReceivedTime { get; set; }
    [JsonPropertyName("source_ae")] public string? SourceAe { get; set; }
    [JsonPropertyName("patient_id")] public string PatientId { get; set; } = "";
    [JsonPropertyName("patient_name")] public string? PatientName { get; set; }
    [JsonPropertyName("patient_sex")] public string? PatientSex { get; set; }
    [JsonPropertyName("patient_birth_date")] public string? PatientBirthDate { get; set; }
    [JsonPropertyName("study_uid")] public string StudyUid { get; set; } = "";
    [JsonPropertyName("study_date")] public string? StudyDate { get; set; }
    [JsonPropertyName("study_time")] public string? StudyTime { get; set; }
    [JsonPropertyName("accession_number")] public string? AccessionNumber { get; set; }
    [JsonPropertyName("study_description")] public string? StudyDescription { get; set; }
    [JsonPropertyName("institution_name")] public string? InstitutionName { get; set; }
    [JsonPropertyName("series_uid")] public string SeriesUid { get; set; } = "";
    [JsonPropertyName("modality")] public string? Modality { get; set; }
    [JsonPropertyName("series_number")] public int? SeriesNumber { get; set; }
    [JsonPropertyName("series_description")] public string? SeriesDescription { get; set; }
    [JsonPropertyName("body_part_examined")] public string? BodyPartExamined { get; set; }
}

/// <summary><c>transcode_queue</c>: an instance version whose transfer syntax the transcode consumer must check
/// (ARCHITECTURE.md §1; the consumer arrives with the codecs issue).</summary>
public sealed class TranscodeRequestEvent
{
    [JsonPropertyName("trace_id")] public string TraceId { get; set; } = "";
    [JsonPropertyName("tenant_id")] public string TenantId { get; set; } = "";
    [JsonPropertyName("version")] public long Version { get; set; }
    [JsonPropertyName("study_uid")] public string StudyUid { get; set; } = "";
    [JsonPropertyName("series_uid")] public string SeriesUid { get; set; } = "";
    [JsonPropertyName("sop_uid")] public string SopUid { get; set; } = "";
    [JsonPropertyName("transfer_syntax_uid")] public string TransferSyntaxUid { get; set; } = "";
    [JsonPropertyName("file_path")] public string FilePath { get; set; } = "";
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never, WriteIndented = false)]
[JsonSerializable(typeof(ObjectMetaEvent))]
[JsonSerializable(typeof(StorageEvent))]
[JsonSerializable(typeof(InstanceEvent))]
[JsonSerializable(typeof(SeriesStateEvent))]
[JsonSerializable(typeof(TranscodeRequestEvent))]
public sealed partial class ArchiveEventJson : JsonSerializerContext
{
    public static byte[] Serialize<T>(T value) where T : class =>
        JsonSerializer.SerializeToUtf8Bytes(value, typeof(T), Default);

    public static T Deserialize<T>(ReadOnlySpan<byte> json) where T : class =>
        (T?)JsonSerializer.Deserialize(json, typeof(T), Default) ?? throw new JsonException($"null {typeof(T).Name}");
}
