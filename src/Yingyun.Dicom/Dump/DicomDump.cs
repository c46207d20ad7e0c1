using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Yingyun.Dicom;

/// <summary>Prints a data set the way DCMTK's dcmdump does: tag, VR, value, then length, VM and keyword.</summary>
public static class DicomDump
{
    private const int ValueColumn = 40;
    private const int MaxShownValues = 16;

    public static void Write(TextWriter w, DicomFile file)
    {
        w.WriteLine();
        w.WriteLine("# Dicom-File-Format");
        w.WriteLine();
        w.WriteLine("# Dicom-Meta-Information-Header");
        w.WriteLine("# Used TransferSyntax: Little Endian Explicit");
        WriteDataset(w, file.FileMetaInformation, 0);
        w.WriteLine();
        w.WriteLine("# Dicom-Data-Set");
        w.WriteLine($"# Used TransferSyntax: {file.TransferSyntax.Name}");
        WriteDataset(w, file.Dataset, 0);
        foreach (var p in file.Problems)
            w.WriteLine($"# W: {p}");
    }

    public static void WriteDataset(TextWriter w, DicomDataset ds, int depth)
    {
        string indent = new(' ', depth * 2);
        foreach (var item in ds)
        {
            string keyword = DicomDictionary.TryGet(item.Tag, out var e) ? e.Keyword : item.Tag.IsPrivateCreator ? "PrivateCreator" : "Unknown Tag & Data";
            switch (item)
            {
                case DicomSequence sq:
                    Line(w, indent, $"{TagText(item.Tag)} SQ (Sequence #={sq.Items.Count})", "u/l", "1", keyword);
                    foreach (var child in sq.Items)
                    {
                        Line(w, indent + "  ", "(fffe,e000) na (Item with undefined length #=" + child.Count + ")", "u/l", "1", "Item");
                        WriteDataset(w, child, depth + 2);
                        Line(w, indent + "  ", "(fffe,e00d) na (ItemDelimitationItem)", "0", "0", "ItemDelimitationItem");
                    }
                    Line(w, indent, "(fffe,e0dd) na (SequenceDelimitationItem)", "0", "0", "SequenceDelimitationItem");
                    break;
                case DicomFragmentSequence f:
                    Line(w, indent, $"{TagText(item.Tag)} {f.VR.ToText()} (PixelSequence #={f.Fragments.Count + 1})", "u/l", "1", keyword);
                    Line(w, indent + "  ", $"(fffe,e000) pi {Hex(f.OffsetTable)}", f.OffsetTable.Length.ToString(CultureInfo.InvariantCulture), "1", "Item");
                    foreach (var frag in f.Fragments)
                        Line(w, indent + "  ", $"(fffe,e000) pi {Hex(frag)}", frag.Length.ToString(CultureInfo.InvariantCulture), "1", "Item");
                    Line(w, indent, "(fffe,e0dd) na (SequenceDelimitationItem)", "0", "0", "SequenceDelimitationItem");
                    break;
                case DicomElement el:
                    var (text, vm) = Format(ds, el);
                    Line(w, indent, $"{TagText(item.Tag)} {el.VR.ToText()} {text}", el.Length.ToString(CultureInfo.InvariantCulture), vm.ToString(CultureInfo.InvariantCulture), keyword);
                    break;
            }
        }
    }

    // dcmdump prints tags in lower-case hexadecimal.
    private static string TagText(DicomTag tag) => $"({tag.Group:x4},{tag.Element:x4})";

    private static void Line(TextWriter w, string indent, string left, string length, string vm, string keyword)
    {
        var sb = new StringBuilder(indent.Length + left.Length + 40);
        sb.Append(indent).Append(left);
        if (sb.Length < ValueColumn + indent.Length) sb.Append(' ', ValueColumn + indent.Length - sb.Length);
        sb.Append(" # ").Append(length.PadLeft(3)).Append(", ").Append(vm).Append(' ').Append(keyword);
        w.WriteLine(sb.ToString());
    }

    private static string Hex(DicomValue v) =>
        v.IsInMemory ? HexBytes(v.Memory.Span) : $"(not loaded: {v.Length} bytes at offset {v.Reference!.Offset})";

    private static string HexBytes(ReadOnlySpan<byte> b)
    {
        if (b.Length == 0) return "(no value available)";
        var sb = new StringBuilder();
        int n = Math.Min(b.Length, 16);
        for (int i = 0; i < n; i++) sb.Append(i > 0 ? "\\" : "").Append(b[i].ToString("x2", CultureInfo.InvariantCulture));
        if (b.Length > n) sb.Append("...");
        return sb.ToString();
    }

    /// <summary>The value as dcmdump shows it ([text] for strings, numbers for binary VRs) and its VM.</summary>
    public static (string Text, int VM) Format(DicomDataset owner, DicomElement e)
    {
        if (!e.Value.IsInMemory) return ($"(not loaded: {e.Length} bytes at offset {e.Value.Reference!.Offset})", 1);
        var b = e.Span;
        if (b.Length == 0) return ("(no value available)", 0);
        if (e.VR.IsString())
        {
            var cs = e.VR.IsCharacterSetDependent() ? owner.CharacterSet : DicomCharacterSet.Default;
            string s = cs.Decode(b, e.VR).TrimEnd(e.VR == DicomVR.UI ? '\0' : ' ').TrimEnd('\0');
            int vm = e.VR.IsSingleValuedText() ? 1 : s.Split('\\').Length;
            s = s.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
            if (s.Length > 64) s = s[..64] + "...";
            return ($"[{s}]", vm);
        }
        int unit = e.VR == DicomVR.AT ? 4 : e.VR.UnitSize();
        if (e.VR is DicomVR.OB or DicomVR.UN or DicomVR.OW or DicomVR.OF or DicomVR.OD or DicomVR.OL or DicomVR.OV)
            return (HexBytes(b), 1);
        int count = b.Length / unit;
        var parts = new StringBuilder();
        for (int i = 0; i < Math.Min(count, MaxShownValues); i++)
        {
            if (i > 0) parts.Append('\\');
            var v = b.Slice(i * unit, unit);
            parts.Append(e.VR switch
            {
                DicomVR.US => BinaryPrimitives.ReadUInt16LittleEndian(v).ToString(CultureInfo.InvariantCulture),
                DicomVR.SS => BinaryPrimitives.ReadInt16LittleEndian(v).ToString(CultureInfo.InvariantCulture),
                DicomVR.UL => BinaryPrimitives.ReadUInt32LittleEndian(v).ToString(CultureInfo.InvariantCulture),
                DicomVR.SL => BinaryPrimitives.ReadInt32LittleEndian(v).ToString(CultureInfo.InvariantCulture),
                DicomVR.FL => BinaryPrimitives.ReadSingleLittleEndian(v).ToString("R", CultureInfo.InvariantCulture),
                DicomVR.FD => BinaryPrimitives.ReadDoubleLittleEndian(v).ToString("R", CultureInfo.InvariantCulture),
                DicomVR.SV => BinaryPrimitives.ReadInt64LittleEndian(v).ToString(CultureInfo.InvariantCulture),
                DicomVR.UV => BinaryPrimitives.ReadUInt64LittleEndian(v).ToString(CultureInfo.InvariantCulture),
                DicomVR.AT => $"({BinaryPrimitives.ReadUInt16LittleEndian(v):x4},{BinaryPrimitives.ReadUInt16LittleEndian(v[2..]):x4})",
                _ => "?",
            });
        }
        if (count > MaxShownValues) parts.Append("\\...");
        return (parts.ToString(), count);
    }
}
