using System.Globalization;

namespace Yingyun.Dicom;

/// <summary>A data element tag (group, element), PS3.5 §7.1. Stored as one 32-bit value so that
/// comparison and ordering are single integer operations.</summary>
public readonly record struct DicomTag(uint Value) : IComparable<DicomTag>, ISpanFormattable
{
    public DicomTag(ushort group, ushort element) : this(((uint)group << 16) | element) { }

    public ushort Group => (ushort)(Value >> 16);
    public ushort Element => (ushort)Value;

    /// <summary>Odd group numbers other than 1, 3, 5, 7 and FFFF are private (PS3.5 §7.8).</summary>
    public bool IsPrivate => (Group & 1) == 1 && Group > 0x0007 && Group != 0xFFFF;

    /// <summary>(gggg,0010-00FF) in a private group reserves a block of elements (PS3.5 §7.8.1).</summary>
    public bool IsPrivateCreator => IsPrivate && Element is >= 0x0010 and <= 0x00FF;

    /// <summary>The private creator element that reserves this private element's block.</summary>
    public DicomTag PrivateCreatorTag => new(Group, (ushort)(Element >> 8));

    /// <summary>(gggg,0000): group length, PS3.5 §7.2.</summary>
    public bool IsGroupLength => Element == 0;

    public int CompareTo(DicomTag other) => Value.CompareTo(other.Value);
    public static bool operator <(DicomTag a, DicomTag b) => a.Value < b.Value;
    public static bool operator >(DicomTag a, DicomTag b) => a.Value > b.Value;
    public static bool operator <=(DicomTag a, DicomTag b) => a.Value <= b.Value;
    public static bool operator >=(DicomTag a, DicomTag b) => a.Value >= b.Value;

    public override string ToString() => $"({Group:X4},{Element:X4})";
    public string ToString(string? format, IFormatProvider? formatProvider) => format switch
    {
        "X8" or "J" => Value.ToString("X8", CultureInfo.InvariantCulture),
        _ => ToString(),
    };

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        if (format is "X8" or "J")
            return Value.TryFormat(destination, out charsWritten, "X8", CultureInfo.InvariantCulture);
        return destination.TryWrite(CultureInfo.InvariantCulture, $"({Group:X4},{Element:X4})", out charsWritten);
    }

    /// <summary>Parses "(0010,0010)", "0010,0010", "00100010" or a dictionary keyword.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DicomTag tag)
    {
        text = text.Trim();
        if (text.Length >= 2 && text[0] == '(' && text[^1] == ')') text = text[1..^1];
        Span<char> hex = stackalloc char[8];
        int n = 0;
        foreach (char c in text)
        {
            if (c == ',') continue;
            if (n == 8 || !char.IsAsciiHexDigit(c)) { n = -1; break; }
            hex[n++] = c;
        }
        if (n == 8 && uint.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint v))
        {
            tag = new DicomTag(v);
            return true;
        }
        if (DicomDictionary.TryGetByKeyword(text, out var entry))
        {
            tag = entry.Tag;
            return true;
        }
        tag = default;
        return false;
    }

    public static DicomTag Parse(string text) =>
        TryParse(text, out var t) ? t : throw new FormatException($"'{text}' is neither a tag nor a data dictionary keyword");

    // Tags the reader and writer need without a dictionary lookup (PS3.5 §7.5).
    public static readonly DicomTag Item = new(0xFFFE, 0xE000);
    public static readonly DicomTag ItemDelimitationItem = new(0xFFFE, 0xE00D);
    public static readonly DicomTag SequenceDelimitationItem = new(0xFFFE, 0xE0DD);
    public static readonly DicomTag FileMetaInformationGroupLength = new(0x0002, 0x0000);
    public static readonly DicomTag TransferSyntaxUidTag = new(0x0002, 0x0010);
    public static readonly DicomTag SpecificCharacterSetTag = new(0x0008, 0x0005);
    public static readonly DicomTag PixelDataTag = new(0x7FE0, 0x0010);
}
