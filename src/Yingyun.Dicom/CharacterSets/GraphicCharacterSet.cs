using System.Text;

namespace Yingyun.Dicom;

/// <summary>The code element a graphic character set is designated to. PS3.5 §6.1.2.5.1: G0 is always
/// invoked in GL (bytes 0x21..0x7E) and G1 in GR (bytes 0xA0..0xFF); G2 and G3 are not used.</summary>
internal enum CodeElement : byte { G0, G1 }

/// <summary>One graphic character set of PS3.3 Tables C.12-2 to C.12-4 (a row's "ISO registration number"),
/// with its ISO 2022 escape sequence and its mapping to Unicode. Single-byte G1 sets map GR 0xA0..0xFF;
/// double-byte sets map 94 × 94 cells, indexed by the 7-bit form of both bytes (0x21..0x7E), whether
/// invoked in GL (G0) or GR (G1, high bit set).</summary>
internal sealed class GraphicCharacterSet
{
    public const byte Esc = 0x1B;
    private const char Undefined = '\uFFFD';
    private const int Cells = 94 * 94;

    private readonly string? _rightHalf;
    private readonly Func<string>? _doubleByteSource;
    private readonly int _extensionRow;
    private readonly (char Character, ushort Code)[] _encodeOnly;
    private string? _doubleByte;
    private Dictionary<char, ushort>? _encodeMap;
    private Dictionary<char, ushort>? _variantMap;

    private GraphicCharacterSet(string registration, string name, CodeElement element, byte[] escape,
        string? rightHalf = null, Func<string>? doubleByteSource = null, int extensionRow = -1,
        (char, ushort)[]? encodeOnly = null, GraphicCharacterSet? aliasOf = null)
    {
        Registration = registration;
        Name = name;
        CodeElement = element;
        EscapeSequence = escape;
        _rightHalf = rightHalf;
        _doubleByteSource = doubleByteSource;
        _extensionRow = extensionRow;
        _encodeOnly = encodeOnly ?? [];
        Canonical = aliasOf ?? this;
    }

    /// <summary>ISO registration, e.g. "ISO-IR 87".</summary>
    public string Registration { get; }
    public string Name { get; }
    public CodeElement CodeElement { get; }
    /// <summary>The designating escape sequence, ESC included (PS3.3 Tables C.12-3 and C.12-4).</summary>
    public byte[] EscapeSequence { get; }
    public bool IsDoubleByte => _doubleByteSource is not null;
    /// <summary>The set DICOM defines, when this one is a non-DICOM escape sequence accepted for it.</summary>
    public GraphicCharacterSet Canonical { get; }
    public bool IsDicomEscapeSequence => ReferenceEquals(Canonical, this);

    public override string ToString() => $"{Registration} ({Name})";

    // ---- PS3.3 Tables C.12-2, C.12-3 and C.12-4 ------------------------------------------------------

    public static readonly GraphicCharacterSet IsoIr6 = new("ISO-IR 6", "ISO 646 (ASCII)", CodeElement.G0, [Esc, 0x28, 0x42]);

    /// <summary>JIS X 0201 Romaji. It differs from ASCII only at 0x5C (YEN SIGN) and 0x7E (OVERLINE), but
    /// PS3.5 §6.1.2.5.3 keeps 0x5C as the value delimiter in this set too, so it is decoded as ASCII (as pydicom
    /// does); otherwise multi-valued Japanese text could not be split after decoding.</summary>
    public static readonly GraphicCharacterSet IsoIr14 = new("ISO-IR 14", "JIS X 0201 Romaji", CodeElement.G0, [Esc, 0x28, 0x4A]);

    public static readonly GraphicCharacterSet IsoIr13 = new("ISO-IR 13", "JIS X 0201 Katakana", CodeElement.G1, [Esc, 0x29, 0x49],
        rightHalf: HalfwidthKatakana());

    public static readonly GraphicCharacterSet IsoIr100 = SingleByte("ISO-IR 100", "Latin alphabet No. 1", 0x41, GraphicCharacterSetTables.IsoIr100);
    public static readonly GraphicCharacterSet IsoIr101 = SingleByte("ISO-IR 101", "Latin alphabet No. 2", 0x42, GraphicCharacterSetTables.IsoIr101);
    public static readonly GraphicCharacterSet IsoIr109 = SingleByte("ISO-IR 109", "Latin alphabet No. 3", 0x43, GraphicCharacterSetTables.IsoIr109);
    public static readonly GraphicCharacterSet IsoIr110 = SingleByte("ISO-IR 110", "Latin alphabet No. 4", 0x44, GraphicCharacterSetTables.IsoIr110);
    public static readonly GraphicCharacterSet IsoIr144 = SingleByte("ISO-IR 144", "Cyrillic", 0x4C, GraphicCharacterSetTables.IsoIr144);
    public static readonly GraphicCharacterSet IsoIr127 = SingleByte("ISO-IR 127", "Arabic", 0x47, GraphicCharacterSetTables.IsoIr127);
    public static readonly GraphicCharacterSet IsoIr126 = SingleByte("ISO-IR 126", "Greek", 0x46, GraphicCharacterSetTables.IsoIr126);
    public static readonly GraphicCharacterSet IsoIr138 = SingleByte("ISO-IR 138", "Hebrew", 0x48, GraphicCharacterSetTables.IsoIr138);
    public static readonly GraphicCharacterSet IsoIr148 = SingleByte("ISO-IR 148", "Latin alphabet No. 5", 0x4D, GraphicCharacterSetTables.IsoIr148);
    public static readonly GraphicCharacterSet IsoIr166 = SingleByte("ISO-IR 166", "TIS 620-2533 Thai", 0x54, GraphicCharacterSetTables.IsoIr166);
    public static readonly GraphicCharacterSet IsoIr203 = SingleByte("ISO-IR 203", "Latin alphabet No. 9", 0x62, GraphicCharacterSetTables.IsoIr203);

    /// <summary>JIS X 0208 Kanji, from the runtime's EUC-JP (20932), which maps the 6879 JIS X 0208 cells as
    /// JIS0208.TXT does (WAVE DASH, not the FULLWIDTH TILDE of CP932). Row 13 there holds NEC special
    /// characters: decoded, but reported by strict decoding since JIS X 0208 leaves the row empty.
    /// CP932's variants of six symbols are accepted when encoding, as Windows input produces them.</summary>
    public static readonly GraphicCharacterSet IsoIr87 = new("ISO-IR 87", "JIS X 0208 Kanji", CodeElement.G0, [Esc, 0x24, 0x42],
        doubleByteSource: () => FromCodePage(CodePageEncodings.EucJp), extensionRow: 13 - 1,
        encodeOnly: [('\uFF5E', 0x2141), ('\u2225', 0x2142), ('\uFF0D', 0x215D), ('\uFFE0', 0x2171), ('\uFFE1', 0x2172), ('\uFFE2', 0x224C)]);

    /// <summary>JIS X 0212 supplementary Kanji; the runtime has no codec for it, so the table is generated data.</summary>
    public static readonly GraphicCharacterSet IsoIr159 = new("ISO-IR 159", "JIS X 0212 supplementary Kanji", CodeElement.G0, [Esc, 0x24, 0x28, 0x44],
        doubleByteSource: static () => GraphicCharacterSetTables.IsoIr159);

    /// <summary>KS X 1001 Hangul and Hanja in G1, from the runtime's code page 949 (whose GR cells are KS X 1001).</summary>
    public static readonly GraphicCharacterSet IsoIr149 = new("ISO-IR 149", "KS X 1001 Hangul and Hanja", CodeElement.G1, [Esc, 0x24, 0x29, 0x43],
        doubleByteSource: () => FromCodePage(CodePageEncodings.Korean));

    /// <summary>GB 2312 simplified Chinese in G1, from the runtime's code page 20936 (GB 2312-80 in EUC form).</summary>
    public static readonly GraphicCharacterSet IsoIr58 = new("ISO-IR 58", "GB 2312 Simplified Chinese", CodeElement.G1, [Esc, 0x24, 0x29, 0x41],
        doubleByteSource: () => FromCodePage(CodePageEncodings.Gb2312));

    /// <summary>ESC $ @ designates JIS C 6226-1978 (ISO-IR 42), which DICOM does not define; real data uses it
    /// for JIS X 0208, so it is read as ISO-IR 87 and reported by strict decoding.</summary>
    private static readonly GraphicCharacterSet IsoIr42 = new("ISO-IR 42", "JIS C 6226-1978", CodeElement.G0, [Esc, 0x24, 0x40],
        doubleByteSource: IsoIr87._doubleByteSource, aliasOf: IsoIr87);

    private static readonly GraphicCharacterSet[] ByEscapeSequence =
    [
        IsoIr6, IsoIr14, IsoIr13, IsoIr100, IsoIr101, IsoIr109, IsoIr110, IsoIr144, IsoIr127, IsoIr126, IsoIr138,
        IsoIr148, IsoIr166, IsoIr203, IsoIr87, IsoIr159, IsoIr149, IsoIr58, IsoIr42,
    ];

    private static GraphicCharacterSet SingleByte(string registration, string name, byte final, string rightHalf) =>
        new(registration, name, CodeElement.G1, [Esc, 0x2D, final], rightHalf: rightHalf);

    private static string HalfwidthKatakana() => string.Create(96, 0, static (span, _) =>
    {
        // JIS X 0201 Katakana is a 94-character set: 0xA1..0xDF map to U+FF61..U+FF9F, the rest is unused.
        span.Fill(Undefined);
        for (int b = 0xA1; b <= 0xDF; b++) span[b - 0xA0] = (char)(0xFF61 + b - 0xA1);
    });

    private static string FromCodePage(int codePage)
    {
        var encoding = CodePageEncodings.Lenient(codePage);
        var table = new char[Cells];
        Span<byte> pair = stackalloc byte[2];
        Span<char> chars = stackalloc char[4];
        for (int row = 0; row < 94; row++)
        for (int cell = 0; cell < 94; cell++)
        {
            pair[0] = (byte)(0xA1 + row);
            pair[1] = (byte)(0xA1 + cell);
            int n = encoding.GetChars(pair, chars);
            char c = chars[0];
            // Windows code pages map unassigned and user-defined cells to the Private Use Area; those are
            // not characters of the standard set.
            table[row * 94 + cell] = n == 1 && c != Undefined && !char.IsBetween(c, '\uE000', '\uF8FF') ? c : Undefined;
        }
        return new string(table);
    }

    /// <summary>Parses the escape sequence at the start of <paramref name="value"/> (which begins with ESC):
    /// ESC, intermediate bytes 0x20..0x2F, one final byte 0x30..0x7E (ISO/IEC 2022 §13.1). Returns its length
    /// (1 if malformed) and the set it designates, or null if DICOM knows no such set.</summary>
    public static int ParseEscapeSequence(ReadOnlySpan<byte> value, out GraphicCharacterSet? set)
    {
        set = null;
        int i = 1;
        while (i < value.Length && value[i] is >= 0x20 and <= 0x2F) i++;
        if (i == 1 || i >= value.Length || value[i] is < 0x30 or > 0x7E) return 1;
        var sequence = value[..(i + 1)];
        foreach (var candidate in ByEscapeSequence)
        {
            if (sequence.SequenceEqual(candidate.EscapeSequence))
            {
                set = candidate;
                break;
            }
        }
        return sequence.Length;
    }

    // ---- Decoding -------------------------------------------------------------------------------------

    /// <summary>Decodes one GR byte (0x80..0xFF) of a single-byte G1 set. C1 controls (0x80..0x9F) are
    /// returned as themselves; PS3.5 §6.1.2.5.1 forbids them, which strict decoding reports.</summary>
    public char DecodeRight(byte b) => b >= 0xA0 ? _rightHalf![b - 0xA0] : (char)b;

    /// <summary>Decodes one double-byte character from the 7-bit form (0x21..0x7E) of both bytes;
    /// U+FFFD if the cell is not assigned.</summary>
    public char DecodePair(int first, int second) => DoubleByte[(first - 0x21) * 94 + second - 0x21];

    /// <summary>Whether a cell decoded by <see cref="DecodePair"/> belongs to the standard set rather than a
    /// vendor extension the runtime's table adds.</summary>
    public bool IsStandardCell(int first) => first - 0x21 != _extensionRow;

    private string DoubleByte => _doubleByte ?? LazyInitializer.EnsureInitialized(ref _doubleByte, _doubleByteSource!);

    // ---- Encoding -------------------------------------------------------------------------------------

    /// <summary>Finds the code of <paramref name="c"/>: a GR byte for single-byte G1 sets, the 7-bit form of
    /// both bytes (first &lt;&lt; 8 | second) for double-byte sets.</summary>
    public bool TryEncode(char c, out ushort code)
    {
        if (CodeElement == CodeElement.G0 && !IsDoubleByte)
        {
            code = c;
            return c is >= (char)0x20 and < (char)0x7F;
        }
        return EncodeMap.TryGetValue(c, out code);
    }

    /// <summary>Finds a vendor extension cell for <paramref name="c"/>, or the cell of the standard character
    /// that <paramref name="c"/> is a vendor variant of (see <see cref="IsoIr87"/>). Asked only when no declared
    /// set has the character in its standard cells.</summary>
    public bool TryEncodeVariant(char c, out ushort code)
    {
        code = 0;
        return IsDoubleByte && VariantMap.TryGetValue(c, out code);
    }

    private Dictionary<char, ushort> VariantMap => _variantMap ?? LazyInitializer.EnsureInitialized(ref _variantMap, BuildVariantMap);

    private Dictionary<char, ushort> BuildVariantMap()
    {
        var map = new Dictionary<char, ushort>();
        var table = DoubleByte;
        if (_extensionRow >= 0)
            for (int i = _extensionRow * 94; i < (_extensionRow + 1) * 94; i++)
                if (table[i] != Undefined) map.TryAdd(table[i], CellCode(i));
        foreach (var (character, code) in _encodeOnly) map.TryAdd(character, code);
        return map;
    }

    private static ushort CellCode(int index) => (ushort)((0x21 + index / 94) << 8 | (0x21 + index % 94));

    private Dictionary<char, ushort> EncodeMap => _encodeMap ?? LazyInitializer.EnsureInitialized(ref _encodeMap, BuildEncodeMap);

    private Dictionary<char, ushort> BuildEncodeMap()
    {
        var map = new Dictionary<char, ushort>();
        if (IsDoubleByte)
        {
            var table = DoubleByte;
            for (int i = 0; i < Cells; i++)
                if (table[i] != Undefined && i / 94 != _extensionRow)
                    map.TryAdd(table[i], CellCode(i));
        }
        else
        {
            for (int i = 0; i < _rightHalf!.Length; i++)
                if (_rightHalf[i] != Undefined) map.TryAdd(_rightHalf[i], (ushort)(0xA0 + i));
        }
        return map;
    }

    /// <summary>Every character of the standard set (vendor extension cells excluded), for tests and diagnostics.</summary>
    internal IEnumerable<char> Repertoire()
    {
        if (CodeElement == CodeElement.G0 && !IsDoubleByte)
        {
            for (char c = ' '; c < (char)0x7F; c++) yield return c;
            yield break;
        }
        var table = IsDoubleByte ? DoubleByte : _rightHalf!;
        for (int i = 0; i < table.Length; i++)
            if (table[i] != Undefined && !(IsDoubleByte && i / 94 == _extensionRow)) yield return table[i];
    }

    internal static string Hex(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length * 3);
        foreach (byte b in bytes)
        {
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
