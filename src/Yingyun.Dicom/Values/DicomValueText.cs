using System.Buffers;
using System.Text;

namespace Yingyun.Dicom;

/// <summary>Padding, trimming and splitting rules for character string values (PS3.5 §6.2, §6.4), shared by
/// the typed getters and the validator.</summary>
internal static class DicomValueText
{
    /// <summary>Values of one element are separated by BACKSLASH, 5CH (PS3.5 §6.4).</summary>
    public const char Delimiter = '\\';

    /// <summary>PS3.5 Table 6.2-1 says leading spaces are not significant for AE, CS, DS, IS, LO and SH;
    /// for every other string VR they are part of the value.</summary>
    public static bool HasInsignificantLeadingSpaces(this DicomVR vr) =>
        vr is DicomVR.AE or DicomVR.CS or DicomVR.DS or DicomVR.IS or DicomVR.LO or DicomVR.SH;

    /// <summary>VRs <see cref="DicomDataset.GetString"/> and friends decode: the string VRs, and UN (a private or
    /// unknown element read in implicit VR often holds text).</summary>
    public static bool IsReadableAsText(this DicomVR vr) => vr.IsString() || vr == DicomVR.UN;

    /// <summary>Removes the padding of a whole value: trailing spaces and NULs (UI is padded with NUL, every other
    /// string VR with a space, PS3.5 §6.2; real files mix them up, so both go), and leading spaces where they are
    /// not significant. Works on bytes: 20H and 00H are never part of a multi-byte character in the character sets
    /// of PS3.3 C.12.1.1.2, so trimming before decoding is safe.</summary>
    public static ReadOnlySpan<byte> TrimPadding(ReadOnlySpan<byte> value, DicomVR vr)
    {
        int end = value.Length;
        while (end > 0 && value[end - 1] is (byte)' ' or 0) end--;
        int start = 0;
        if (vr.HasInsignificantLeadingSpaces())
            while (start < end && value[start] == (byte)' ') start++;
        return value[start..end];
    }

    /// <summary>The same rule for one value of a multi-valued element.</summary>
    public static ReadOnlySpan<char> TrimValue(ReadOnlySpan<char> value, DicomVR vr)
    {
        int end = value.Length;
        while (end > 0 && value[end - 1] is ' ' or '\0') end--;
        int start = 0;
        if (vr.HasInsignificantLeadingSpaces())
            while (start < end && value[start] == ' ') start++;
        return value[start..end];
    }

    public static string TrimValue(string value, DicomVR vr)
    {
        var trimmed = TrimValue(value.AsSpan(), vr);
        return trimmed.Length == value.Length ? value : trimmed.ToString();
    }

    /// <summary>Number of values in a (trimmed) value: 0 when empty, else one more than the delimiters.</summary>
    public static int CountValues(ReadOnlySpan<char> text, DicomVR vr) =>
        text.IsEmpty ? 0 : vr.IsSingleValuedText() ? 1 : text.Count(Delimiter) + 1;

    /// <summary>The value at <paramref name="index"/> (0-based), not trimmed.</summary>
    public static bool TryGetValue(ReadOnlySpan<char> text, DicomVR vr, int index, out ReadOnlySpan<char> value)
    {
        value = default;
        if (index < 0 || text.IsEmpty) return false;
        if (vr.IsSingleValuedText())
        {
            value = text;
            return index == 0;
        }
        foreach (var range in text.Split(Delimiter))
        {
            if (index-- == 0)
            {
                value = text[range];
                return true;
            }
        }
        return false;
    }

    /// <summary>Widens default-repertoire bytes to chars (ISO 646 is a subset of Latin-1, and Latin-1 keeps any stray
    /// byte above 7FH visible as one char instead of a replacement character).</summary>
    public static ReadOnlySpan<char> Widen(ReadOnlySpan<byte> bytes, Span<char> buffer)
    {
        int n = Encoding.Latin1.GetChars(bytes, buffer);
        return buffer[..n];
    }
}

/// <summary>The text of a value with its padding removed, in a caller-provided buffer, a pooled array, or the
/// string the character set decoder returned. Dispose to return a pooled array.</summary>
internal ref struct DicomValueTextBuffer
{
    private char[]? _rented;

    public ReadOnlySpan<char> Text { get; private set; }

    /// <summary>Gets the text of <paramref name="element"/> (which must be in memory). VRs that depend on Specific
    /// Character Set (PS3.5 §6.1.2.3) are decoded with <paramref name="characterSet"/> unless it is the default
    /// repertoire; all other VRs are default repertoire and are widened without allocating.</summary>
    public static DicomValueTextBuffer Create(DicomElement element, DicomCharacterSet characterSet, Span<char> scratch)
    {
        var vr = element.VR;
        var bytes = DicomValueText.TrimPadding(element.Span, vr);
        var result = new DicomValueTextBuffer();
        if (bytes.IsEmpty) return result;
        if (vr.IsCharacterSetDependent() && !ReferenceEquals(characterSet, DicomCharacterSet.Default))
        {
            result.Text = characterSet.Decode(bytes, vr);
            return result;
        }
        if (bytes.Length > scratch.Length)
            scratch = result._rented = ArrayPool<char>.Shared.Rent(bytes.Length);
        result.Text = DicomValueText.Widen(bytes, scratch);
        return result;
    }

    public void Dispose()
    {
        if (_rented is not null) ArrayPool<char>.Shared.Return(_rented);
        _rented = null;
    }
}
