using System.Collections.Concurrent;

namespace Yingyun.Dicom;

/// <summary>A transfer syntax and the encoding rules it implies (PS3.5 §10, Annex A).</summary>
public sealed class DicomTransferSyntax : IEquatable<DicomTransferSyntax>
{
    private static readonly ConcurrentDictionary<string, DicomTransferSyntax> Known = new(StringComparer.Ordinal);

    private DicomTransferSyntax(string uid, bool explicitVR, bool bigEndian, bool deflated, bool encapsulated, bool lossy)
    {
        Uid = uid;
        IsExplicitVR = explicitVR;
        IsBigEndian = bigEndian;
        IsDeflated = deflated;
        IsEncapsulated = encapsulated;
        IsLossy = lossy;
    }

    public string Uid { get; }
    public string Name => DicomUids.GetName(Uid);
    public bool IsExplicitVR { get; }
    public bool IsBigEndian { get; }
    /// <summary>The data set after the File Meta Information is a raw deflate stream (RFC 1951), PS3.5 §A.5.</summary>
    public bool IsDeflated { get; }
    /// <summary>Pixel Data is a sequence of fragments (PS3.5 §A.4).</summary>
    public bool IsEncapsulated { get; }
    public bool IsLossy { get; }
    /// <summary>Whether this syntax is in the PS3.6 registry (an unknown UID is still usable: PS3.5 §10.2
    /// says every other syntax is explicit VR little endian with encapsulated pixel data).</summary>
    public bool IsRegistered => DicomUids.TryGet(Uid, out var i) && i.IsTransferSyntax;

    private static DicomTransferSyntax Define(string uid, bool explicitVR = true, bool bigEndian = false, bool deflated = false, bool encapsulated = true, bool lossy = false)
    {
        var ts = new DicomTransferSyntax(uid, explicitVR, bigEndian, deflated, encapsulated, lossy);
        Known[uid] = ts;
        return ts;
    }

    public static readonly DicomTransferSyntax ImplicitVRLittleEndian = Define(DicomUids.ImplicitVRLittleEndian, explicitVR: false, encapsulated: false);
    public static readonly DicomTransferSyntax ExplicitVRLittleEndian = Define(DicomUids.ExplicitVRLittleEndian, encapsulated: false);
    public static readonly DicomTransferSyntax EncapsulatedUncompressedExplicitVRLittleEndian = Define(DicomUids.EncapsulatedUncompressedExplicitVRLittleEndian);
    public static readonly DicomTransferSyntax DeflatedExplicitVRLittleEndian = Define(DicomUids.DeflatedExplicitVRLittleEndian, deflated: true, encapsulated: false);
    public static readonly DicomTransferSyntax ExplicitVRBigEndian = Define(DicomUids.ExplicitVRBigEndian, bigEndian: true, encapsulated: false);
    public static readonly DicomTransferSyntax JPEGBaseline8Bit = Define(DicomUids.JPEGBaseline8Bit, lossy: true);
    public static readonly DicomTransferSyntax JPEGExtended12Bit = Define(DicomUids.JPEGExtended12Bit, lossy: true);
    public static readonly DicomTransferSyntax JPEGLossless = Define(DicomUids.JPEGLossless);
    public static readonly DicomTransferSyntax JPEGLosslessSV1 = Define(DicomUids.JPEGLosslessSV1);
    public static readonly DicomTransferSyntax JPEGLSLossless = Define(DicomUids.JPEGLSLossless);
    public static readonly DicomTransferSyntax JPEGLSNearLossless = Define(DicomUids.JPEGLSNearLossless, lossy: true);
    public static readonly DicomTransferSyntax JPEG2000Lossless = Define(DicomUids.JPEG2000Lossless);
    public static readonly DicomTransferSyntax JPEG2000 = Define(DicomUids.JPEG2000, lossy: true);
    public static readonly DicomTransferSyntax RLELossless = Define(DicomUids.RLELossless);

    /// <summary>The uncompressed syntaxes a Part 10 writer can produce from any native data set.</summary>
    public static IReadOnlyList<DicomTransferSyntax> Uncompressed { get; } =
        [ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian];

    /// <summary>Looks up a UID; unknown UIDs get explicit VR little endian, encapsulated (PS3.5 §10.2).
    /// Trailing NUL or space padding of the UI value is ignored.</summary>
    public static DicomTransferSyntax Parse(string uid)
    {
        uid = uid.TrimEnd('\0', ' ');
        if (Known.TryGetValue(uid, out var ts)) return ts;
        if (!DicomUids.TryGet(uid, out var info) || !info.IsTransferSyntax)
        {
            // Not cached: the UID comes from a peer or a file, and a cache keyed by it would let anyone grow
            // this process's memory without bound.
            return new DicomTransferSyntax(uid, true, false, false, true, lossy: false);
        }
        bool lossy = info.Name.Contains("Lossy", StringComparison.OrdinalIgnoreCase)
            || info.Name.Contains("Baseline", StringComparison.Ordinal) || info.Name.Contains("Extended", StringComparison.Ordinal);
        return Known.GetOrAdd(uid, u => new DicomTransferSyntax(u, true, false, false, true, lossy));
    }

    public bool Equals(DicomTransferSyntax? other) => other is not null && other.Uid == Uid;
    public override bool Equals(object? obj) => obj is DicomTransferSyntax t && Equals(t);
    public override int GetHashCode() => Uid.GetHashCode(StringComparison.Ordinal);
    public override string ToString() => $"{Uid} ({Name})";
}
