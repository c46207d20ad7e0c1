namespace Yingyun.Dicom;

/// <summary>Decides whether an attribute's value is sent as a Bulk Data URI (PS3.18 §F.2.6) instead of in the
/// JSON. Returns the URI, or null to write the value inline ("Value" or "InlineBinary").</summary>
/// <param name="path">Where the attribute is; valid only during the call.</param>
/// <param name="item">The attribute: a <see cref="DicomElement"/>, or a <see cref="DicomFragmentSequence"/> for
/// encapsulated Pixel Data. A value left on disk has not been read when this is called.</param>
/// <param name="length">Length in bytes of the value that would be written inline: the element's value length,
/// or for encapsulated Pixel Data the length of its items with their 8-byte headers (what "InlineBinary" holds).</param>
public delegate string? BulkDataUriProvider(DicomJsonPath path, DicomItem item, long length);

/// <summary>How <see cref="DicomJsonWriter"/> writes a data set.</summary>
public sealed class DicomJsonWriterOptions
{
    public static DicomJsonWriterOptions Default { get; } = new();

    /// <summary>Asked for every non-empty value whose VR PS3.18 §F.2.2 lets be a Bulk Data URI (DS, FL, FD, IS, LT,
    /// OB, OD, OF, OL, OV, OW, SL, SS, ST, SV, UC, UL, UN, US, UT, UV) and for encapsulated Pixel Data. Null: every
    /// value is written inline.</summary>
    public BulkDataUriProvider? BulkDataUriProvider { get; init; }

    /// <summary>Write SV and UV values beyond ±2^53 as JSON strings. PS3.18 Table F.2.3-1 allows a string "to avoid
    /// losing precision": the JSON number is exact, but consumers that parse numbers as IEEE doubles (JavaScript)
    /// round such values. Off by default, as pydicom writes numbers.</summary>
    public bool VeryLongIntegersBeyondDoublePrecisionAsStrings { get; init; }
}
