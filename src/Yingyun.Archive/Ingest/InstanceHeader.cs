using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Yingyun.Dicom;

namespace Yingyun.Archive.Ingest;

/// <summary>The attributes ingest records about an instance (ARCHITECTURE.md §6), read from its header (everything
/// before Pixel Data). Strings are decoded with the data set's Specific Character Set; a value that does not decode
/// or parse is recorded as absent rather than failing the receipt: validity is the quality engine's business.</summary>
public sealed class InstanceHeader
{
    private InstanceHeader(DicomDataset dataset) => Dataset = dataset;

    public DicomDataset Dataset { get; }

    public string SopClassUid { get; private init; } = "";
    public string SopInstanceUid { get; private init; } = "";
    public string StudyInstanceUid { get; private init; } = "";
    public string SeriesInstanceUid { get; private init; } = "";
    public string PatientId { get; private init; } = "";

    public static InstanceHeader From(DicomDataset dataset) => new(dataset)
    {
        SopClassUid = Text(dataset, DicomTags.SOPClassUID) ?? "",
        SopInstanceUid = Text(dataset, DicomTags.SOPInstanceUID) ?? "",
        StudyInstanceUid = Text(dataset, DicomTags.StudyInstanceUID) ?? "",
        SeriesInstanceUid = Text(dataset, DicomTags.SeriesInstanceUID) ?? "",
        PatientId = Text(dataset, DicomTags.PatientID) ?? "",
    };

    /// <summary>Why this header cannot be archived (PS3.4 §B.2.3 A900: the data set does not match the SOP class's
    /// IOD), or null. The UIDs become folder and file names, so they must be UIDs (PS3.5 §9.1).</summary>
    public string? Refusal(string commandSopClass, string commandSopInstance)
    {
        if (SopClassUid != commandSopClass) return $"SOP Class UID (0008,0016) '{SopClassUid}' differs from the command's '{commandSopClass}'";
        if (SopInstanceUid != commandSopInstance) return $"SOP Instance UID (0008,0018) '{SopInstanceUid}' differs from the command's '{commandSopInstance}'";
        if (!IsUid(StudyInstanceUid)) return StudyInstanceUid.Length == 0 ? "Study Instance UID (0020,000D) is missing" : $"Study Instance UID (0020,000D) '{StudyInstanceUid}' is not a UID";
        if (!IsUid(SeriesInstanceUid)) return SeriesInstanceUid.Length == 0 ? "Series Instance UID (0020,000E) is missing" : $"Series Instance UID (0020,000E) '{SeriesInstanceUid}' is not a UID";
        if (!IsUid(SopInstanceUid)) return $"SOP Instance UID (0008,0018) '{SopInstanceUid}' is not a UID";
        return null;
    }

    /// <summary>PS3.5 §9.1: digits and dots, components without leading zeros are not enforced (legacy senders), at
    /// most 64 characters, no empty component.</summary>
    public static bool IsUid(string uid)
    {
        if (uid.Length is 0 or > 64 || uid[0] == '.' || uid[^1] == '.' || uid.Contains("..", StringComparison.Ordinal)) return false;
        foreach (char c in uid)
            if (c is not ('.' or (>= '0' and <= '9'))) return false;
        return true;
    }

    public static long UidHash(string uid) => (long)XxHash64.HashToUInt64(Encoding.ASCII.GetBytes(uid));

    public string? Text(DicomTag tag) => Text(Dataset, tag);

    public int? Integer(DicomTag tag)
    {
        try
        {
            if (!Dataset.TryGetElement(tag, out var e) || !e.Value.IsInMemory) return null;
            if (e.VR == DicomVR.IS)
                return Dataset.TryGetIntegerStrings<int>(tag, out var values, out _) && values.Length > 0 ? values[0] : null;
            return Dataset.TryGetValue<int>(tag, out var v) ? v : null;
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>DA as Doris/ISO text (yyyy-MM-dd), or null.</summary>
    public string? IsoDate(DicomTag tag) =>
        Dataset.TryGetDate(tag, out var date) ? date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : null;

    private static string? Text(DicomDataset dataset, DicomTag tag)
    {
        try
        {
            return dataset.TryGetString(tag, out var value) && value.Length > 0 ? value : null;
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or DecoderFallbackException)
        {
            return null;
        }
    }
}
