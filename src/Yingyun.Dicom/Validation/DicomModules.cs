namespace Yingyun.Dicom;

/// <summary>Data Element Types of PS3.5 §7.4 as used by the module tables of PS3.3.</summary>
public enum DicomAttributeType : byte
{
    /// <summary>Present with a value (PS3.5 §7.4.1).</summary>
    Type1,
    /// <summary>Type 1 when its condition holds (PS3.5 §7.4.2).</summary>
    Type1C,
    /// <summary>Present, possibly empty (PS3.5 §7.4.3).</summary>
    Type2,
    /// <summary>Type 2 when its condition holds (PS3.5 §7.4.4).</summary>
    Type2C,
}

/// <summary>The few conditions of conditional attributes that the validator evaluates.</summary>
public enum DicomAttributeCondition : byte
{
    None,
    /// <summary>Samples per Pixel (0028,0002) is greater than 1 (Planar Configuration, PS3.3 C.7.6.3.1.3).</summary>
    SamplesPerPixelGreaterThanOne,
}

/// <summary>An attribute of a module with its type.</summary>
public readonly record struct DicomModuleAttribute(DicomTag Tag, DicomAttributeType Type, DicomAttributeCondition Condition = DicomAttributeCondition.None);

/// <summary>A module of PS3.3 Annex C, reduced to the attributes whose presence the validator checks (Type 1 and 2,
/// and conditional ones whose condition is a plain data check). Type 3 attributes are not listed.</summary>
public sealed record DicomModule(string Name, string Section, IReadOnlyList<DicomModuleAttribute> Attributes);

/// <summary>The common modules of the composite IODs, as data. Which modules apply to a data set is decided by
/// <see cref="For"/>: the modules every composite instance has, the image modules when there is Pixel Data, and the
/// CT Image and MR Image IOD modules (PS3.3 A.3, A.4) for those SOP classes.</summary>
public static class DicomModules
{
    private const DicomAttributeType T1 = DicomAttributeType.Type1;
    private const DicomAttributeType T1C = DicomAttributeType.Type1C;
    private const DicomAttributeType T2 = DicomAttributeType.Type2;

    /// <summary>PS3.3 C.7.1.1, Table C.7-1.</summary>
    public static DicomModule Patient { get; } = new("Patient", "PS3.3 C.7.1.1",
    [
        new(DicomTags.PatientName, T2),
        new(DicomTags.PatientID, T2),
        new(DicomTags.PatientBirthDate, T2),
        new(DicomTags.PatientSex, T2),
    ]);

    /// <summary>PS3.3 C.7.2.1, Table C.7-3.</summary>
    public static DicomModule GeneralStudy { get; } = new("General Study", "PS3.3 C.7.2.1",
    [
        new(DicomTags.StudyInstanceUID, T1),
        new(DicomTags.StudyDate, T2),
        new(DicomTags.StudyTime, T2),
        new(DicomTags.ReferringPhysicianName, T2),
        new(DicomTags.StudyID, T2),
        new(DicomTags.AccessionNumber, T2),
    ]);

    /// <summary>PS3.3 C.7.3.1, Table C.7-5a.</summary>
    public static DicomModule GeneralSeries { get; } = new("General Series", "PS3.3 C.7.3.1",
    [
        new(DicomTags.Modality, T1),
        new(DicomTags.SeriesInstanceUID, T1),
        new(DicomTags.SeriesNumber, T2),
    ]);

    /// <summary>PS3.3 C.7.4.1, Table C.7-6.</summary>
    public static DicomModule FrameOfReference { get; } = new("Frame of Reference", "PS3.3 C.7.4.1",
    [
        new(DicomTags.FrameOfReferenceUID, T1),
        new(DicomTags.PositionReferenceIndicator, T2),
    ]);

    /// <summary>PS3.3 C.7.5.1, Table C.7-8.</summary>
    public static DicomModule GeneralEquipment { get; } = new("General Equipment", "PS3.3 C.7.5.1",
    [
        new(DicomTags.Manufacturer, T2),
    ]);

    /// <summary>PS3.3 C.7.6.1, Table C.7-9.</summary>
    public static DicomModule GeneralImage { get; } = new("General Image", "PS3.3 C.7.6.1",
    [
        new(DicomTags.InstanceNumber, T2),
    ]);

    /// <summary>PS3.3 C.7.6.2, Table C.7-10.</summary>
    public static DicomModule ImagePlane { get; } = new("Image Plane", "PS3.3 C.7.6.2",
    [
        new(DicomTags.PixelSpacing, T1),
        new(DicomTags.ImageOrientationPatient, T1),
        new(DicomTags.ImagePositionPatient, T1),
        new(DicomTags.SliceThickness, T2),
    ]);

    /// <summary>PS3.3 C.7.6.3, Table C.7-11a (applied when Pixel Data (7FE0,0010) is present).</summary>
    public static DicomModule ImagePixel { get; } = new("Image Pixel", "PS3.3 C.7.6.3",
    [
        new(DicomTags.SamplesPerPixel, T1),
        new(DicomTags.PhotometricInterpretation, T1),
        new(DicomTags.Rows, T1),
        new(DicomTags.Columns, T1),
        new(DicomTags.BitsAllocated, T1),
        new(DicomTags.BitsStored, T1),
        new(DicomTags.HighBit, T1),
        new(DicomTags.PixelRepresentation, T1),
        new(DicomTags.PlanarConfiguration, T1C, DicomAttributeCondition.SamplesPerPixelGreaterThanOne),
    ]);

    /// <summary>PS3.3 C.8.2.1, Table C.8-3.</summary>
    public static DicomModule CTImage { get; } = new("CT Image", "PS3.3 C.8.2.1",
    [
        new(DicomTags.ImageType, T1),
        new(DicomTags.SamplesPerPixel, T1),
        new(DicomTags.PhotometricInterpretation, T1),
        new(DicomTags.BitsAllocated, T1),
        new(DicomTags.BitsStored, T1),
        new(DicomTags.HighBit, T1),
        new(DicomTags.RescaleIntercept, T1),
        new(DicomTags.RescaleSlope, T1),
        new(DicomTags.KVP, T2),
        new(DicomTags.AcquisitionNumber, T2),
    ]);

    /// <summary>PS3.3 C.8.3.1, Table C.8-4.</summary>
    public static DicomModule MRImage { get; } = new("MR Image", "PS3.3 C.8.3.1",
    [
        new(DicomTags.ImageType, T1),
        new(DicomTags.SamplesPerPixel, T1),
        new(DicomTags.PhotometricInterpretation, T1),
        new(DicomTags.BitsAllocated, T1),
        new(DicomTags.BitsStored, T1),
        new(DicomTags.HighBit, T1),
        new(DicomTags.ScanningSequence, T1),
        new(DicomTags.SequenceVariant, T1),
        new(DicomTags.ScanOptions, T2),
        new(DicomTags.MRAcquisitionType, T2),
        new(DicomTags.EchoTime, T2),
        new(DicomTags.EchoTrainLength, T2),
    ]);

    /// <summary>PS3.3 C.12.1, Table C.12-1.</summary>
    public static DicomModule SOPCommon { get; } = new("SOP Common", "PS3.3 C.12.1",
    [
        new(DicomTags.SOPClassUID, T1),
        new(DicomTags.SOPInstanceUID, T1),
    ]);

    // Modules by what the data set is. Every composite IOD has Patient, General Study, a series module with Modality and
    // Series Instance UID (General Series for images), General Equipment and SOP Common (PS3.3 Annex A).
    private static readonly DicomModule[] Composite = [Patient, GeneralStudy, GeneralSeries, GeneralEquipment, SOPCommon];
    private static readonly DicomModule[] Image = [.. Composite, GeneralImage, ImagePixel];
    private static readonly DicomModule[] CTImageIod = [.. Image, FrameOfReference, ImagePlane, CTImage]; // PS3.3 A.3
    private static readonly DicomModule[] MRImageIod = [.. Image, FrameOfReference, ImagePlane, MRImage]; // PS3.3 A.4

    /// <summary>The modules checked for a data set of SOP class <paramref name="sopClassUid"/> (UI bytes as stored,
    /// padding removed), with or without Pixel Data.</summary>
    public static IReadOnlyList<DicomModule> For(ReadOnlySpan<byte> sopClassUid, bool hasPixelData)
    {
        if (sopClassUid.SequenceEqual("1.2.840.10008.5.1.4.1.1.2"u8)) return CTImageIod;   // CT Image Storage
        if (sopClassUid.SequenceEqual("1.2.840.10008.5.1.4.1.1.4"u8)) return MRImageIod;   // MR Image Storage
        return hasPixelData ? Image : Composite;
    }

    public static IReadOnlyList<DicomModule> For(string? sopClassUid, bool hasPixelData) =>
        For(System.Text.Encoding.ASCII.GetBytes(sopClassUid ?? ""), hasPixelData);
}
