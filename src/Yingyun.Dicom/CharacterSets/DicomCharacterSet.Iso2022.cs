using System.Buffers;
using System.Text;
using static Yingyun.Dicom.GraphicCharacterSet;

namespace Yingyun.Dicom;

// Decoding and encoding with the graphic character sets of PS3.3 Tables C.12-2 to C.12-4, with or without
// ISO 2022 code extensions (PS3.5 §6.1.2.4 and §6.1.2.5). A set without code extensions is the special case
// in which no escape sequence is ever written.
public sealed partial class DicomCharacterSet
{
    private const int StackLimit = 256;

    /// <summary>The bytes that make a value more than plain ASCII: ESC and all of GR.</summary>
    private static readonly SearchValues<byte> EscapeOrRight = SearchValues.Create([Esc, .. Enumerable.Range(0x80, 0x80).Select(b => (byte)b)]);

    /// <summary>Where the value 1 character set becomes active again (PS3.5 §6.1.2.5.3): before CR, LF, FF, TAB
    /// and any other control character but ESC; before the value delimiter '\' (ordinary text in LT, ST, UT,
    /// PS3.5 §6.4); before the component delimiters '^' and '=' of PN. A decoder resets there, an encoder
    /// re-designates the initial set before it.</summary>
    private static bool IsResetPoint(int b, DicomVR vr) => b switch
    {
        < 0x20 => b != Esc,
        '\\' => !vr.IsSingleValuedText(),
        '^' or '=' => vr == DicomVR.PN,
        _ => false,
    };

    private string DecodeGraphic(ReadOnlySpan<byte> value, DicomVR vr, bool strict, ref string? error)
    {
        // Plain ASCII is the common case and decodes the same in every set of Tables C.12-2 to C.12-4.
        if (value.IndexOfAny(EscapeOrRight) < 0) return Encoding.Latin1.GetString(value);
        // ISO-IR 100 in G1 is Latin-1 itself (C1 included, which only strict decoding rejects).
        if (!strict && ReferenceEquals(_initialG1, IsoIr100) && value.IndexOf(Esc) < 0) return Encoding.Latin1.GetString(value);

        char[]? rented = null;
        // No byte yields more than one char, so the value length bounds the output.
        Span<char> buffer = value.Length <= StackLimit ? stackalloc char[StackLimit] : (rented = ArrayPool<char>.Shared.Rent(value.Length));
        try
        {
            int n = DecodeCodeExtensions(value, vr, buffer, strict, ref error);
            return new string(buffer[..n]);
        }
        finally
        {
            if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        }
    }

    private int DecodeCodeExtensions(ReadOnlySpan<byte> value, DicomVR vr, Span<char> output, bool strict, ref string? error)
    {
        var g0 = _initialG0;
        var g1 = _initialG1;
        int n = 0, i = 0;
        while (i < value.Length)
        {
            byte b = value[i];
            if (b == Esc)
            {
                int length = ParseEscapeSequence(value[i..], out var set);
                if (set is null)
                {
                    // An unknown set cannot be decoded; keep ESC visible and read on with the current sets.
                    if (strict) error ??= $"unknown escape sequence {Hex(value.Slice(i, length))} at offset {i}";
                    output[n++] = (char)Esc;
                    i++;
                    continue;
                }
                if (strict) error ??= CheckDesignation(set, i);
                // Honoured even when undeclared: those bytes mean nothing else, and dropping them would lose text.
                if (set.CodeElement == CodeElement.G0) g0 = set.Canonical;
                else g1 = set.Canonical;
                i += length;
                continue;
            }

            if (b < 0x80)
            {
                if (g0.IsDoubleByte && b is >= 0x21 and <= 0x7E)
                {
                    if (i + 1 < value.Length && value[i + 1] is >= 0x21 and <= 0x7E)
                    {
                        char c = g0.DecodePair(b, value[i + 1]);
                        if (strict && (c == '\uFFFD' || !g0.IsStandardCell(b)))
                            error ??= $"bytes {Hex(value.Slice(i, 2))} at offset {i} are not a character of {g0}";
                        output[n++] = c;
                        i += 2;
                    }
                    else
                    {
                        if (strict) error ??= $"incomplete {g0} character at offset {i}";
                        output[n++] = '\uFFFD';
                        i++;
                    }
                    continue;
                }
                if (IsResetPoint(b, vr))
                {
                    // A double-byte G0 set here would have swallowed the delimiter. ISO-IR 6 and ISO-IR 14 differ
                    // only in the glyphs of 0x5C and 0x7E, so either may stand for the other.
                    if (strict && g0.IsDoubleByte)
                        error ??= $"{g0} is still designated to G0 before the delimiter or control character 0x{b:X2} at offset {i}; PS3.5 §6.1.2.5.3 requires {_initialG0}";
                    g0 = _initialG0;
                    g1 = _initialG1;
                }
                // ISO-IR 6 and ISO-IR 14 (read as ASCII, see GraphicCharacterSet.IsoIr14), and controls.
                output[n++] = (char)b;
                i++;
                continue;
            }

            var right = g1;
            if (right is null)
            {
                if (strict) error ??= $"byte 0x{b:X2} at offset {i}, but no character set is designated to G1";
                // Real files often omit the escape sequence before, e.g., KS X 1001: read GR with the first G1
                // set that (0008,0005) declares, or as Latin-1 if there is none.
                right = _fallbackG1;
                if (right is null)
                {
                    output[n++] = (char)b;
                    i++;
                    continue;
                }
            }
            if (right.IsDoubleByte)
            {
                if (b is >= 0xA1 and <= 0xFE && i + 1 < value.Length && value[i + 1] is >= 0xA1 and <= 0xFE)
                {
                    char c = right.DecodePair(b & 0x7F, value[i + 1] & 0x7F);
                    if (strict && c == '\uFFFD') error ??= $"bytes {Hex(value.Slice(i, 2))} at offset {i} are not a character of {right}";
                    output[n++] = c;
                    i += 2;
                }
                else
                {
                    if (strict) error ??= $"byte 0x{b:X2} at offset {i} does not start a {right} character";
                    output[n++] = '\uFFFD';
                    i++;
                }
                continue;
            }
            char s = right.DecodeRight(b);
            if (strict && (b < 0xA0 || s == '\uFFFD'))
                error ??= b < 0xA0
                    ? $"C1 control character 0x{b:X2} at offset {i}; PS3.5 §6.1.2.5.1 forbids C1"
                    : $"byte 0x{b:X2} at offset {i} is not defined in {right}";
            output[n++] = s;
            i++;
        }
        if (strict && g0.IsDoubleByte)
            error ??= $"the value ends while {g0} is designated to G0; PS3.5 §6.1.2.5.3 requires {_initialG0}";
        return n;
    }

    private string? CheckDesignation(GraphicCharacterSet set, int offset)
    {
        if (!_codeExtensions)
            return $"escape sequence for {set} at offset {offset}, but {ToString()} has no code extensions (PS3.3 C.12.1.1.2)";
        if (!set.IsDicomEscapeSequence)
            return $"escape sequence {Hex(set.EscapeSequence)} at offset {offset} designates {set}, which DICOM does not define (PS3.3 Table C.12-4 uses {Hex(set.Canonical.EscapeSequence)})";
        if (Array.IndexOf(_declared, set) < 0)
            return $"escape sequence at offset {offset} designates {set}, which (0008,0005) '{ToString()}' does not declare";
        return null;
    }

    private bool EncodeGraphic(string value, DicomVR vr, out byte[] bytes)
    {
        // Plain ASCII is written as is in every set of Tables C.12-2 to C.12-4 (the initial G0 is ISO-IR 6 or 14).
        if (Ascii.IsValid(value) && !value.Contains((char)Esc))
        {
            bytes = Encoding.ASCII.GetBytes(value);
            return true;
        }

        // Worst case per char: a 4-byte escape sequence and 2 bytes; plus the final return to the initial G0.
        var buffer = ArrayPool<byte>.Shared.Rent(value.Length * 6 + 4);
        try
        {
            int n = 0;
            bool complete = true;
            var g0 = _initialG0;
            var g1 = _initialG1;
            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                if (c < 0x80 && c != Esc)
                {
                    if (IsResetPoint(c, vr))
                    {
                        if (g0 != _initialG0) n = Write(buffer, n, _initialG0.EscapeSequence);
                        buffer[n++] = (byte)c;
                        g0 = _initialG0;
                        g1 = _initialG1;
                        continue;
                    }
                    if (g0.IsDoubleByte)
                    {
                        n = Write(buffer, n, _initialG0.EscapeSequence);
                        g0 = _initialG0;
                    }
                    buffer[n++] = (byte)c;
                    continue;
                }

                ushort code;
                if (g1 is not null && g1.TryEncode(c, out code))
                {
                    n = WriteCode(buffer, n, g1, code);
                    continue;
                }
                if (g0.IsDoubleByte && g0.TryEncode(c, out code))
                {
                    n = WriteCode(buffer, n, g0, code);
                    continue;
                }
                if (_codeExtensions && (TryFindDeclaredSet(c, variants: false, out var set, out code) || TryFindDeclaredSet(c, variants: true, out set, out code)))
                {
                    if (set != (set.CodeElement == CodeElement.G0 ? g0 : g1)) n = Write(buffer, n, set.EscapeSequence);
                    if (set.CodeElement == CodeElement.G0) g0 = set;
                    else g1 = set;
                    n = WriteCode(buffer, n, set, code);
                    continue;
                }

                // Not representable (ESC itself, a surrogate pair, a character outside every declared set).
                complete = false;
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) i++;
                if (g0.IsDoubleByte)
                {
                    n = Write(buffer, n, _initialG0.EscapeSequence);
                    g0 = _initialG0;
                }
                buffer[n++] = (byte)'?';
            }
            if (g0 != _initialG0) n = Write(buffer, n, _initialG0.EscapeSequence);
            bytes = buffer.AsSpan(0, n).ToArray();
            return complete;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The first set, in the order of the values of (0008,0005), that can encode <paramref name="c"/>,
    /// or with <paramref name="variants"/> a vendor variant of it.</summary>
    private bool TryFindDeclaredSet(char c, bool variants, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GraphicCharacterSet? set, out ushort code)
    {
        foreach (var candidate in _declared)
        {
            if (candidate.CodeElement == CodeElement.G0 && !candidate.IsDoubleByte) continue;
            if (variants ? candidate.TryEncodeVariant(c, out code) : candidate.TryEncode(c, out code))
            {
                set = candidate;
                return true;
            }
        }
        set = null;
        code = 0;
        return false;
    }

    private static int Write(byte[] buffer, int n, byte[] bytes)
    {
        bytes.CopyTo(buffer, n);
        return n + bytes.Length;
    }

    private static int WriteCode(byte[] buffer, int n, GraphicCharacterSet set, ushort code)
    {
        if (!set.IsDoubleByte)
        {
            buffer[n] = (byte)code;
            return n + 1;
        }
        // G0 is invoked in GL (7-bit form), G1 in GR (high bit set), PS3.5 §6.1.2.5.1.
        int high = set.CodeElement == CodeElement.G1 ? 0x80 : 0;
        buffer[n] = (byte)((code >> 8) | high);
        buffer[n + 1] = (byte)((code & 0xFF) | high);
        return n + 2;
    }
}
