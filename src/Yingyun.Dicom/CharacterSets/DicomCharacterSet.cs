using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Yingyun.Dicom;

/// <summary>Decodes and encodes text values under a Specific Character Set (0008,0005),
/// PS3.5 §6.1 and PS3.3 C.12.1.1.2. An instance is immutable and shared between data sets
/// that declare the same terms.</summary>
public sealed partial class DicomCharacterSet
{
    // Distinct term lists seen in practice are few; the bound keeps hostile input from growing the cache.
    private const int MaxCached = 256;
    private static readonly ConcurrentDictionary<string, DicomCharacterSet> Cache = new(StringComparer.Ordinal);

    private readonly Encoding? _standAlone;
    private readonly Encoding? _standAloneStrict;
    private readonly int _standAloneCodePage;
    private readonly bool _codeExtensions;
    private readonly GraphicCharacterSet _initialG0;
    private readonly GraphicCharacterSet? _initialG1;
    private readonly GraphicCharacterSet? _fallbackG1;
    private readonly GraphicCharacterSet[] _declared;
    private readonly string[] _problems;
    private readonly bool _isKnown;

    // The code pages provider must be registered before any GB18030, GBK or CJK table is built.
    static DicomCharacterSet() => CodePageEncodings.EnsureRegistered();

    /// <summary>The default repertoire (ISO IR 6, ASCII). Bytes above 0x7F are decoded as Latin-1,
    /// which is what real-world files without (0008,0005) usually mean.</summary>
    public static DicomCharacterSet Default { get; } = new([]);

    /// <summary>The defined terms as given in the data set (values of (0008,0005)).</summary>
    public IReadOnlyList<string> Terms { get; }

    /// <summary>Deviations of the terms from PS3.3 C.12.1.1.2: misspelled or unknown terms, stand-alone
    /// character sets combined with others, multi-byte sets in value 1, ... Empty for a valid declaration.</summary>
    public IReadOnlyList<string> Problems => _problems;

    /// <summary>False if some term names no known character set (it was replaced by the default repertoire).
    /// Misspelled terms that could be read are known.</summary>
    public bool IsKnown => _isKnown;

    /// <summary>Whether escape sequences may switch character sets (ISO 2022 terms or several values).</summary>
    public bool UsesCodeExtensions => _codeExtensions;

    public static DicomCharacterSet FromSpecificCharacterSet(IReadOnlyList<string> terms)
    {
        if (terms.Count == 0 || terms.All(IsEmptyValue)) return Default;
        var key = string.Join('\\', terms);
        if (Cache.TryGetValue(key, out var cached)) return cached;
        var created = new DicomCharacterSet([.. terms]);
        return Cache.Count < MaxCached ? Cache.GetOrAdd(key, created) : created;
    }

    private static bool IsEmptyValue(string term) => term.AsSpan().Trim(" \0").IsEmpty;

    private DicomCharacterSet(string[] terms)
    {
        Terms = terms;
        var problems = new List<string>();
        bool known = true;
        _initialG0 = GraphicCharacterSet.IsoIr6;

        // Value 1 sets the initial state; an empty value 1 followed by others means ISO 2022 IR 6 (PS3.3 C.12.1.1.2).
        DefinedTerm? first = null;
        if (terms.Length > 0)
        {
            if (IsEmptyValue(terms[0])) first = terms.Length > 1 ? SpecificCharacterSetTerms.Iso2022Ir6 : null;
            else
            {
                first = SpecificCharacterSetTerms.Resolve(terms[0], out var problem);
                if (first is null) problems.Add(problem + "; the default repertoire is used");
                else if (problem is not null) problems.Add(problem);
                known &= first is not null;
            }
        }

        if (first?.IsStandAlone == true)
        {
            // Table C.12-5 sets allow no code extensions: the other values cannot take part (PS3.5 §6.1.2.5.4 d).
            _standAloneCodePage = first.StandAloneCodePage;
            _standAlone = CodePageEncodings.Lenient(first.StandAloneCodePage);
            _standAloneStrict = CodePageEncodings.Strict(first.StandAloneCodePage);
            for (int i = 1; i < terms.Length; i++)
                if (!IsEmptyValue(terms[i]))
                    problems.Add($"'{first.Term}' cannot be used with code extensions; value {i + 1} '{terms[i]}' is ignored");
            _declared = [];
        }
        else
        {
            var used = new List<DefinedTerm>();
            if (first is not null) used.Add(first);
            for (int i = 1; i < terms.Length; i++)
            {
                if (IsEmptyValue(terms[i]))
                {
                    problems.Add($"value {i + 1} of Specific Character Set is empty and is ignored");
                    continue;
                }
                var term = SpecificCharacterSetTerms.Resolve(terms[i], out var problem);
                if (term is null)
                {
                    problems.Add($"{problem}; value {i + 1} is ignored");
                    known = false;
                    continue;
                }
                if (problem is not null) problems.Add(problem);
                if (term.IsStandAlone)
                {
                    problems.Add($"'{term.Term}' cannot be used as a code extension (value {i + 1}); it is ignored");
                    continue;
                }
                used.Add(term);
            }

            _codeExtensions = used.Count > 1 || used.Exists(t => t.CodeExtensions);
            if (used.Count > 1)
                foreach (var t in used)
                    if (!t.CodeExtensions)
                        problems.Add($"'{t.Term}' has no code extensions but (0008,0005) has several values; read as its ISO 2022 form (PS3.3 C.12.1.1.2)");

            if (first is not null)
            {
                if (first.G0 is { IsDoubleByte: false } g0) _initialG0 = g0;
                _initialG1 = first.G1;
                if (first.IsMultiByteWithCodeExtensions)
                    problems.Add($"'{first.Term}' is a multi-byte set for values 2 to n (PS3.3 Table C.12-4), not value 1; ISO-IR 6 is assumed in G0");
            }

            var declared = new List<GraphicCharacterSet>();
            foreach (var t in used)
            {
                if (t.G0 is not null && !declared.Contains(t.G0)) declared.Add(t.G0);
                if (t.G1 is not null && !declared.Contains(t.G1)) declared.Add(t.G1);
            }
            if (!declared.Contains(_initialG0)) declared.Insert(0, _initialG0);
            // ISO-IR 6 is the Default Character Repertoire (PS3.5 §6.1.2.1) that every set extends; Japanese
            // data declared as ISO 2022 IR 13 returns to it with ESC ( B as often as with ESC ( J.
            if (!declared.Contains(GraphicCharacterSet.IsoIr6)) declared.Add(GraphicCharacterSet.IsoIr6);
            _declared = [.. declared];
            _fallbackG1 = used.Select(t => t.G1).FirstOrDefault(g => g is not null);
        }

        _problems = [.. problems];
        _isKnown = known;
    }

    /// <summary>Decodes a whole value (all its backslash-separated values) of VR <paramref name="vr"/>.
    /// VRs not affected by Specific Character Set (PS3.5 §6.1.2.3) are decoded as the default repertoire.
    /// Never throws: bytes that the declared sets do not define become U+FFFD or, outside any set, Latin-1.</summary>
    public string Decode(ReadOnlySpan<byte> value, DicomVR vr)
    {
        if (value.IsEmpty) return string.Empty;
        if (!vr.IsCharacterSetDependent() || ReferenceEquals(this, Default)) return Encoding.Latin1.GetString(value);
        if (_standAlone is not null) return _standAlone.GetString(value);
        string? error = null;
        return DecodeGraphic(value, vr, strict: false, ref error);
    }

    /// <summary>Decodes like <see cref="Decode"/> and reports the first byte sequence that is illegal for the
    /// declared character sets: bytes above 0x7F in the default repertoire, invalid UTF-8 or GB18030, undefined
    /// cells, C1 controls, escape sequences to undeclared sets or without code extensions, a G0 set other than
    /// the initial one left active at a delimiter or at the end (PS3.5 §6.1.2.5.3).</summary>
    public bool TryDecodeStrict(ReadOnlySpan<byte> value, DicomVR vr, out string text, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (value.IsEmpty)
        {
            text = string.Empty;
            return true;
        }
        if (!vr.IsCharacterSetDependent() || ReferenceEquals(this, Default))
        {
            text = Encoding.Latin1.GetString(value);
            int bad = value.IndexOfAnyInRange((byte)0x80, (byte)0xFF);
            int esc = value.IndexOf(GraphicCharacterSet.Esc);
            if (esc >= 0 && (bad < 0 || esc < bad))
                error = $"escape sequence at offset {esc}, but the default repertoire has no code extensions (PS3.5 §6.1.2.4)";
            else if (bad >= 0)
                error = $"byte 0x{value[bad]:X2} at offset {bad} is outside the default repertoire ISO-IR 6 (PS3.5 §6.1.2.1)";
            return error is null;
        }
        if (_standAlone is not null)
        {
            text = DecodeStandAloneStrict(value, out error);
            return error is null;
        }
        text = DecodeGraphic(value, vr, strict: true, ref error);
        return error is null;
    }

    /// <summary>Encodes text of VR <paramref name="vr"/> (without padding). Characters that the declared sets
    /// cannot represent become '?'; see <see cref="TryEncode"/> to detect that.</summary>
    public byte[] Encode(string value, DicomVR vr)
    {
        EncodeCore(value, vr, out var bytes);
        return bytes;
    }

    /// <summary>Encodes like <see cref="Encode"/>; false (and no bytes) if some character cannot be represented.</summary>
    public bool TryEncode(string value, DicomVR vr, [NotNullWhen(true)] out byte[]? bytes)
    {
        bool complete = EncodeCore(value, vr, out var encoded);
        bytes = complete ? encoded : null;
        return complete;
    }

    private bool EncodeCore(string value, DicomVR vr, out byte[] bytes)
    {
        if (value.Length == 0)
        {
            bytes = [];
            return true;
        }
        if (!vr.IsCharacterSetDependent() || ReferenceEquals(this, Default)) return EncodeDefault(value, out bytes);
        if (_standAlone is not null) return EncodeStandAlone(value, out bytes);
        return EncodeGraphic(value, vr, out bytes);
    }

    /// <summary>The default repertoire, written as Latin-1 so that what <see cref="Decode"/> read from a
    /// non-conformant file is written back unchanged; only ASCII is conformant (PS3.5 §6.1.2.1).</summary>
    private static bool EncodeDefault(string value, out byte[] bytes)
    {
        bytes = new byte[value.Length];
        bool conformant = true;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            conformant &= c < 0x80 && c != GraphicCharacterSet.Esc;
            bytes[i] = c <= 0xFF ? (byte)c : (byte)'?';
        }
        return conformant;
    }

    private bool EncodeStandAlone(string value, out byte[] bytes)
    {
        // UTF-8 and GB18030 encode every scalar value (only a lone surrogate fails); GBK is a subset.
        try
        {
            bytes = _standAloneStrict!.GetBytes(value);
            return true;
        }
        catch (EncoderFallbackException)
        {
            bytes = _standAlone!.GetBytes(value);
            return false;
        }
    }

    private string DecodeStandAloneStrict(ReadOnlySpan<byte> value, out string? error)
    {
        error = null;
        var fallback = new FirstInvalidBytesFallback();
        // The code page decoders take their fallback from the encoding, not from Decoder.Fallback.
        var encoding = (Encoding)_standAlone!.Clone();
        encoding.DecoderFallback = fallback;
        var text = encoding.GetString(value);
        int invalidLead = _standAloneCodePage == CodePageEncodings.Gbk ? InvalidGbkLeadByte(value) : -1;
        if (fallback.Index >= 0 && (invalidLead < 0 || fallback.Index < invalidLead))
            error = $"bytes {GraphicCharacterSet.Hex(fallback.Bytes)} at offset {fallback.Index} are not valid {encoding.EncodingName}";
        else if (invalidLead >= 0)
            error = $"byte 0x{value[invalidLead]:X2} at offset {invalidLead} is not valid GBK";
        else if (value.IndexOf(GraphicCharacterSet.Esc) is >= 0 and var esc)
            error = $"escape sequence at offset {esc}, but {encoding.EncodingName} allows no code extensions (PS3.3 Table C.12-5)";
        return text;
    }

    /// <summary>Code page 936 reads the single bytes 0x80 and 0xFF as characters (EURO SIGN, a private use
    /// character), but GBK leads its two-byte codes with 0x81..0xFE and has no such single bytes.</summary>
    private static int InvalidGbkLeadByte(ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < value.Length; i++)
        {
            byte b = value[i];
            if (b is 0x80 or 0xFF) return i;
            if (b > 0x80) i++;
        }
        return -1;
    }

    public override string ToString() => Terms.Count == 0 ? "ISO_IR 6" : string.Join('\\', Terms);

    /// <summary>Every character the declared sets can encode (for tests and diagnostics); empty for the
    /// stand-alone Unicode sets, whose repertoire is not enumerated.</summary>
    internal IEnumerable<char> Repertoire() =>
        _standAlone is not null ? [] : _declared.SelectMany(s => s.Repertoire()).Distinct();
}
