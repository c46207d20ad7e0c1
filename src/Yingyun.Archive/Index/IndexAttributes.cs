using System.Collections.Frozen;
using Yingyun.Dicom;

namespace Yingyun.Archive.Index;

/// <summary>How a key of an attribute is matched (PS3.4 §C.2.2.2) and how its value is kept.</summary>
public enum IndexMatchKind
{
    /// <summary>Single value and wildcard matching, case-sensitive (SH, LO, CS, AE…).</summary>
    Text,
    /// <summary>Person name: wildcard matching case-insensitively, on each component group (PS3.5 §6.2.1).</summary>
    PersonName,
    /// <summary>Single value and list of UID matching (PS3.4 §C.2.2.2.2).</summary>
    Uid,
    /// <summary>DA: single value and range matching, kept as YYYYMMDD.</summary>
    Date,
    /// <summary>TM: range matching over a normalised copy (HHMMSS.FFFFFF), so "1030" means 10:30:00–10:30:59.999999.</summary>
    Time,
    /// <summary>IS and US numbers: single value matching on the number.</summary>
    Integer,
    /// <summary>Modalities in Study (0008,0061): matches when any series of the study has a matching Modality.</summary>
    ModalitiesInStudy,
    /// <summary>A count the index keeps (Number of … Related …): a return key only, never matched.</summary>
    Count,
}

/// <summary>One attribute the index holds: its level, its column, how it is matched. <paramref name="Column"/> is the
/// column returned; <paramref name="MatchColumns"/> are the columns matched (a normalised copy for TM, the three
/// upper-cased component groups for PN).</summary>
public sealed record IndexAttribute(DicomTag Tag, DicomVR VR, IndexLevel Level, string Column, IndexMatchKind Kind, string[] MatchColumns)
{
    public string Keyword => DicomDictionary.GetKeyword(Tag);
}

/// <summary>The attributes the index answers (PS3.4 §C.6.1.1 and §C.6.2.1 required and optional keys that ingest
/// records, plus the counts). The query engine translates matching on these and nothing else; an attribute outside
/// the catalog is answered zero-length by C-FIND. Adding "extra query attributes" later means adding entries whose
/// columns live in another table; the engine only needs the column.</summary>
public static class IndexAttributes
{
    public static IReadOnlyList<IndexAttribute> All { get; } =
    [
        // Patient (PS3.4 Table C.6-1)
        Text(DicomTags.PatientID, DicomVR.LO, IndexLevel.Patient, "patient_id"),
        Text(DicomTags.IssuerOfPatientID, DicomVR.LO, IndexLevel.Patient, "issuer_of_patient_id"),
        Name(DicomTags.PatientName, IndexLevel.Patient, "patient_name"),
        new(DicomTags.PatientBirthDate, DicomVR.DA, IndexLevel.Patient, "patient_birth_date", IndexMatchKind.Date, ["patient_birth_date"]),
        Text(DicomTags.PatientSex, DicomVR.CS, IndexLevel.Patient, "patient_sex"),
        Count(DicomTags.NumberOfPatientRelatedStudies, IndexLevel.Patient, "number_of_studies"),
        Count(DicomTags.NumberOfPatientRelatedSeries, IndexLevel.Patient, "number_of_series"),
        Count(DicomTags.NumberOfPatientRelatedInstances, IndexLevel.Patient, "number_of_instances"),

        // Study (Table C.6-2, C.6-5)
        new(DicomTags.StudyInstanceUID, DicomVR.UI, IndexLevel.Study, "study_uid", IndexMatchKind.Uid, ["study_uid"]),
        new(DicomTags.StudyDate, DicomVR.DA, IndexLevel.Study, "study_date", IndexMatchKind.Date, ["study_date"]),
        new(DicomTags.StudyTime, DicomVR.TM, IndexLevel.Study, "study_time", IndexMatchKind.Time, ["study_time_n"]),
        Text(DicomTags.AccessionNumber, DicomVR.SH, IndexLevel.Study, "accession_number"),
        Text(DicomTags.StudyID, DicomVR.SH, IndexLevel.Study, "study_id"),
        Text(DicomTags.StudyDescription, DicomVR.LO, IndexLevel.Study, "study_description"),
        Name(DicomTags.ReferringPhysicianName, IndexLevel.Study, "referring_physician_name"),
        Text(DicomTags.InstitutionName, DicomVR.LO, IndexLevel.Study, "institution_name"),
        new(DicomTags.ModalitiesInStudy, DicomVR.CS, IndexLevel.Study, "modalities_in_study", IndexMatchKind.ModalitiesInStudy, ["modality"]),
        Count(DicomTags.NumberOfStudyRelatedSeries, IndexLevel.Study, "number_of_series"),
        Count(DicomTags.NumberOfStudyRelatedInstances, IndexLevel.Study, "number_of_instances"),

        // Series (Table C.6-3)
        new(DicomTags.SeriesInstanceUID, DicomVR.UI, IndexLevel.Series, "series_uid", IndexMatchKind.Uid, ["series_uid"]),
        Text(DicomTags.Modality, DicomVR.CS, IndexLevel.Series, "modality"),
        new(DicomTags.SeriesNumber, DicomVR.IS, IndexLevel.Series, "series_number", IndexMatchKind.Integer, ["series_number"]),
        Text(DicomTags.SeriesDescription, DicomVR.LO, IndexLevel.Series, "series_description"),
        Text(DicomTags.BodyPartExamined, DicomVR.CS, IndexLevel.Series, "body_part_examined"),
        new(DicomTags.SeriesDate, DicomVR.DA, IndexLevel.Series, "series_date", IndexMatchKind.Date, ["series_date"]),
        new(DicomTags.SeriesTime, DicomVR.TM, IndexLevel.Series, "series_time", IndexMatchKind.Time, ["series_time_n"]),
        Text(DicomTags.StationName, DicomVR.SH, IndexLevel.Series, "station_name"),
        Count(DicomTags.NumberOfSeriesRelatedInstances, IndexLevel.Series, "number_of_instances"),

        // Instance (Table C.6-4)
        new(DicomTags.SOPInstanceUID, DicomVR.UI, IndexLevel.Instance, "sop_uid", IndexMatchKind.Uid, ["sop_uid"]),
        new(DicomTags.SOPClassUID, DicomVR.UI, IndexLevel.Instance, "sop_class_uid", IndexMatchKind.Uid, ["sop_class_uid"]),
        new(DicomTags.InstanceNumber, DicomVR.IS, IndexLevel.Instance, "instance_number", IndexMatchKind.Integer, ["instance_number"]),
        new(DicomTags.ContentDate, DicomVR.DA, IndexLevel.Instance, "content_date", IndexMatchKind.Date, ["content_date"]),
        new(DicomTags.ContentTime, DicomVR.TM, IndexLevel.Instance, "content_time", IndexMatchKind.Time, ["content_time_n"]),
        new(DicomTags.Rows, DicomVR.US, IndexLevel.Instance, "rows", IndexMatchKind.Integer, ["rows"]),
        new(DicomTags.Columns, DicomVR.US, IndexLevel.Instance, "columns", IndexMatchKind.Integer, ["columns"]),
        new(DicomTags.BitsAllocated, DicomVR.US, IndexLevel.Instance, "bits_allocated", IndexMatchKind.Integer, ["bits_allocated"]),
        new(DicomTags.NumberOfFrames, DicomVR.IS, IndexLevel.Instance, "number_of_frames", IndexMatchKind.Integer, ["number_of_frames"]),
        new(DicomTags.AvailableTransferSyntaxUID, DicomVR.UI, IndexLevel.Instance, "transfer_syntax_uid", IndexMatchKind.Uid, ["transfer_syntax_uid"]),
    ];

    private static readonly FrozenDictionary<DicomTag, IndexAttribute> ByTag = All.ToFrozenDictionary(a => a.Tag);

    public static bool TryGet(DicomTag tag, out IndexAttribute attribute)
    {
        if (ByTag.TryGetValue(tag, out var found))
        {
            attribute = found;
            return true;
        }
        attribute = null!;
        return false;
    }

    /// <summary>The unique key of a level (PS3.4 §C.6.1.1, §C.6.2.1).</summary>
    public static DicomTag UniqueKey(IndexLevel level) => level switch
    {
        IndexLevel.Patient => DicomTags.PatientID,
        IndexLevel.Study => DicomTags.StudyInstanceUID,
        IndexLevel.Series => DicomTags.SeriesInstanceUID,
        _ => DicomTags.SOPInstanceUID,
    };

    private static IndexAttribute Text(DicomTag tag, DicomVR vr, IndexLevel level, string column) => new(tag, vr, level, column, IndexMatchKind.Text, [column]);

    private static IndexAttribute Name(DicomTag tag, IndexLevel level, string column) =>
        new(tag, DicomVR.PN, level, column, IndexMatchKind.PersonName, [column + "_a", column + "_i", column + "_p"]);

    private static IndexAttribute Count(DicomTag tag, IndexLevel level, string column) => new(tag, DicomVR.IS, level, column, IndexMatchKind.Count, []);
}
