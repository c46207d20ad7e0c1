using System.Buffers.Binary;
using System.Text;
using Yingyun.Fuzz;

namespace Yingyun.Dicom.Fuzz;

/// <summary>Blind mutations of DICOM files (see <see cref="SmokeMutatorBase"/>); the length fields are those of
/// element headers, item and delimiter tags.</summary>
internal sealed class SmokeMutator(int seed) : SmokeMutatorBase(seed)
{
    /// <summary>Where element headers probably are: two upper-case letters of a known VR after four bytes
    /// (explicit VR), item and delimiter tags, and in implicit VR the tags of common groups.</summary>
    protected override List<LengthField> LengthFields(List<byte> d)
    {
        var found = new List<LengthField>();
        for (int i = 0; i + 8 <= d.Count; i++)
        {
            ushort le = (ushort)(d[i] | d[i + 1] << 8), be = (ushort)(d[i] << 8 | d[i + 1]);
            bool bigEndian = le > 0xFF && be <= 0xFF;
            var vr = DicomVRInfo.FromBytes(d[i + 4], d[i + 5]);
            if (vr.IsKnown() && (le is 0x0002 or 0x0008 or 0x0010 or 0x0018 or 0x0020 or 0x0028 or 0x0040 or 0x7FE0 || be is 0x0008 or 0x0010 or 0x0018 or 0x0020 or 0x0028 or 0x7FE0 || (le & 1) == 1))
            {
                if (vr.HasLongLength()) { if (i + 12 <= d.Count) found.Add(Header(i, i + 8, 4, bigEndian)); }
                else found.Add(Header(i, i + 6, 2, bigEndian));
            }
            else if (le == 0xFFFE && d[i + 3] == 0xE0 && d[i + 2] is 0x00 or 0x0D or 0xDD)
                found.Add(Header(i, i + 4, 4, false));
            else if (be == 0xFFFE && d[i + 2] == 0xE0 && d[i + 3] is 0x00 or 0x0D or 0xDD)
                found.Add(Header(i, i + 4, 4, true));
            else if ((i & 1) == 0 && le is 0x0008 or 0x0010 or 0x0020 or 0x0028 or 0x7FE0 && !vr.IsKnown())
                found.Add(Header(i, i + 4, 4, false));
        }
        return found;
    }

    // Truncation cuts up to 12 bytes past a header's start: inside the longest element header or just after it.
    private static LengthField Header(int start, int at, int width, bool bigEndian) => new(start, at, width, bigEndian, CutSpan: 13);
}

/// <summary>Small valid files made with the library itself, in every syntax the writer produces: seeds for
/// smoke runs that do not depend on pydicom's corpus being installed.</summary>
internal static class BuiltInSeeds
{
    public static IReadOnlyList<(string Name, byte[] Bytes)> Create()
    {
        var seeds = new List<(string, byte[])>();
        foreach (var ts in DicomTransferSyntax.Uncompressed)
            seeds.Add(($"native-{ts.Uid}", WriteFile(NativeDataset(), ts)));
        seeds.Add(("native-defined-length-sequences", WriteFile(NativeDataset(), DicomTransferSyntax.ExplicitVRLittleEndian, new DicomWriterOptions { DefinedLengthSequences = true })));
        seeds.Add(("encapsulated-jpeg-baseline", WriteFile(EncapsulatedDataset(), DicomTransferSyntax.JPEGBaseline8Bit)));
        seeds.Add(("bare-implicit-le", WriteDataset(NativeDataset(), DicomTransferSyntax.ImplicitVRLittleEndian)));
        seeds.Add(("bare-explicit-be", WriteDataset(NativeDataset(), DicomTransferSyntax.ExplicitVRBigEndian)));
        return seeds;
    }

    private static byte[] WriteFile(DicomDataset ds, DicomTransferSyntax ts, DicomWriterOptions? options = null)
    {
        using var ms = new MemoryStream();
        DicomWriter.WriteFileAsync(ms, new DicomFile(new DicomDataset(), ds) { TransferSyntax = ts }, ts, options).GetAwaiter().GetResult();
        return ms.ToArray();
    }

    private static byte[] WriteDataset(DicomDataset ds, DicomTransferSyntax ts)
    {
        using var ms = new MemoryStream();
        DicomWriter.WriteDatasetAsync(ms, ds, ts).GetAwaiter().GetResult();
        return ms.ToArray();
    }

    private static DicomElement Text(ushort g, ushort e, DicomVR vr, string value)
    {
        var bytes = Encoding.Latin1.GetBytes(value.Length % 2 == 0 ? value : value + (vr == DicomVR.UI ? "\0" : " "));
        return new DicomElement(new DicomTag(g, e), vr, bytes);
    }

    private static DicomElement Binary(ushort g, ushort e, DicomVR vr, params byte[] bytes) => new(new DicomTag(g, e), vr, bytes);

    private static DicomElement UShort(ushort g, ushort e, params ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), values[i]);
        return Binary(g, e, DicomVR.US, bytes);
    }

    private static DicomDataset Common(string sopClass)
    {
        var ds = new DicomDataset();
        ds.AddOrUpdate(Text(0x0008, 0x0005, DicomVR.CS, "ISO_IR 100"));
        ds.AddOrUpdate(Text(0x0008, 0x0016, DicomVR.UI, sopClass));
        ds.AddOrUpdate(Text(0x0008, 0x0018, DicomVR.UI, "2.25.1234567890"));
        ds.AddOrUpdate(Text(0x0008, 0x0020, DicomVR.DA, "20240131"));
        ds.AddOrUpdate(Text(0x0008, 0x0030, DicomVR.TM, "101010.5"));
        ds.AddOrUpdate(Text(0x0008, 0x0060, DicomVR.CS, "OT"));
        ds.AddOrUpdate(Text(0x0010, 0x0010, DicomVR.PN, "Müller^Zoë"));
        ds.AddOrUpdate(Text(0x0010, 0x0020, DicomVR.LO, "PID-1"));
        ds.AddOrUpdate(Text(0x0020, 0x000D, DicomVR.UI, "2.25.1"));
        ds.AddOrUpdate(Text(0x0020, 0x0013, DicomVR.IS, "7"));
        ds.AddOrUpdate(Text(0x0020, 0x0032, DicomVR.DS, "-1.5\\2.25\\0"));
        ds.AddOrUpdate(UShort(0x0028, 0x0002, 1));
        ds.AddOrUpdate(Text(0x0028, 0x0004, DicomVR.CS, "MONOCHROME2"));
        ds.AddOrUpdate(UShort(0x0028, 0x0010, 2));
        ds.AddOrUpdate(UShort(0x0028, 0x0011, 2));
        ds.AddOrUpdate(UShort(0x0028, 0x0100, 16));
        ds.AddOrUpdate(UShort(0x0028, 0x0101, 12));
        ds.AddOrUpdate(UShort(0x0028, 0x0102, 11));
        ds.AddOrUpdate(UShort(0x0028, 0x0103, 1));
        return ds;
    }

    private static DicomDataset NativeDataset()
    {
        var ds = Common("1.2.840.10008.5.1.4.1.1.7");
        ds.AddOrUpdate(Binary(0x0028, 0x0009, DicomVR.AT, 0x18, 0x00, 0x63, 0x10));
        ds.AddOrUpdate(Binary(0x0018, 0x9087, DicomVR.FD, BitConverter.GetBytes(1000.5)));
        var inner = new DicomDataset();
        inner.AddOrUpdate(Text(0x0008, 0x0100, DicomVR.SH, "T-1"));
        inner.AddOrUpdate(Text(0x0008, 0x0104, DicomVR.LO, "nested"));
        var item1 = new DicomDataset();
        item1.AddOrUpdate(Text(0x0008, 0x1150, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.7"));
        item1.AddOrUpdate(Text(0x0008, 0x1155, DicomVR.UI, "2.25.42"));
        item1.AddOrUpdate(new DicomSequence(new DicomTag(0x0040, 0xA043), inner));
        var item2 = new DicomDataset();
        item2.AddOrUpdate(Text(0x0008, 0x1150, DicomVR.UI, "1.2.3"));
        ds.AddOrUpdate(new DicomSequence(new DicomTag(0x0008, 0x1140), item1, item2, new DicomDataset()));
        ds.AddOrUpdate(Text(0x0019, 0x0010, DicomVR.LO, "YINGYUN FUZZ"));
        ds.AddOrUpdate(Binary(0x0019, 0x1001, DicomVR.UN, 1, 2, 3, 4, 5, 6));
        ds.AddOrUpdate(Binary(0x7FE0, 0x0010, DicomVR.OW, 0x01, 0x00, 0xFF, 0x0F, 0x00, 0x08, 0x34, 0x12));
        return ds;
    }

    private static DicomDataset EncapsulatedDataset()
    {
        var ds = Common("1.2.840.10008.5.1.4.1.1.7");
        ds.AddOrUpdate(new DicomFragmentSequence(DicomTag.PixelDataTag, DicomVR.OB, new DicomValue(new byte[] { 0, 0, 0, 0 }),
            [new DicomValue(new byte[] { 0xFF, 0xD8, 0xFF, 0xDB, 0, 4, 1, 2 }), new DicomValue(new byte[] { 3, 4, 0xFF, 0xD9 })]));
        return ds;
    }
}
