using System.Collections.Frozen;
using System.Text;
using static Yingyun.Dicom.GraphicCharacterSet;

namespace Yingyun.Dicom;

/// <summary>A Defined Term of Specific Character Set (0008,0005) and what it designates.</summary>
/// <param name="Term">The term as PS3.3 spells it.</param>
/// <param name="G0">Set designated to G0, if any.</param>
/// <param name="G1">Set designated to G1, if any.</param>
/// <param name="CodeExtensions">True for the "ISO 2022" terms, which allow escape sequences (PS3.3 C.12.1.1.2).</param>
/// <param name="StandAloneCodePage">Code page of a multi-byte set without code extensions (Table C.12-5), else 0.</param>
internal sealed record DefinedTerm(string Term, GraphicCharacterSet? G0, GraphicCharacterSet? G1, bool CodeExtensions, int StandAloneCodePage = 0)
{
    public bool IsStandAlone => StandAloneCodePage != 0;
    public bool IsMultiByteWithCodeExtensions => G0?.IsDoubleByte == true || G1?.IsDoubleByte == true;
}

/// <summary>The Defined Terms of PS3.3 Tables C.12-2 to C.12-5 as data, plus the misspellings seen in real files.</summary>
internal static class SpecificCharacterSetTerms
{
    /// <summary>ISO 2022 IR 6: the term assumed for an empty value 1 when more values follow (PS3.3 C.12.1.1.2).</summary>
    public static readonly DefinedTerm Iso2022Ir6 = new("ISO 2022 IR 6", GraphicCharacterSet.IsoIr6, null, CodeExtensions: true);

    public static readonly DefinedTerm IsoIr6 = new("ISO_IR 6", GraphicCharacterSet.IsoIr6, null, CodeExtensions: false);

    private static readonly DefinedTerm[] All =
    [
        // Default repertoire. Not in Table C.12-2 (the default is meant by an absent or empty value), but
        // written by many implementations; PS3.2 conformance statements list it.
        IsoIr6,
        // Table C.12-2: single-byte character sets without code extensions.
        new("ISO_IR 100", GraphicCharacterSet.IsoIr6, IsoIr100, false),
        new("ISO_IR 101", GraphicCharacterSet.IsoIr6, IsoIr101, false),
        new("ISO_IR 109", GraphicCharacterSet.IsoIr6, IsoIr109, false),
        new("ISO_IR 110", GraphicCharacterSet.IsoIr6, IsoIr110, false),
        new("ISO_IR 144", GraphicCharacterSet.IsoIr6, IsoIr144, false),
        new("ISO_IR 127", GraphicCharacterSet.IsoIr6, IsoIr127, false),
        new("ISO_IR 126", GraphicCharacterSet.IsoIr6, IsoIr126, false),
        new("ISO_IR 138", GraphicCharacterSet.IsoIr6, IsoIr138, false),
        new("ISO_IR 148", GraphicCharacterSet.IsoIr6, IsoIr148, false),
        new("ISO_IR 203", GraphicCharacterSet.IsoIr6, IsoIr203, false),
        new("ISO_IR 13", IsoIr14, IsoIr13, false),
        new("ISO_IR 166", GraphicCharacterSet.IsoIr6, IsoIr166, false),
        // Table C.12-3: single-byte character sets with code extensions.
        Iso2022Ir6,
        new("ISO 2022 IR 100", GraphicCharacterSet.IsoIr6, IsoIr100, true),
        new("ISO 2022 IR 101", GraphicCharacterSet.IsoIr6, IsoIr101, true),
        new("ISO 2022 IR 109", GraphicCharacterSet.IsoIr6, IsoIr109, true),
        new("ISO 2022 IR 110", GraphicCharacterSet.IsoIr6, IsoIr110, true),
        new("ISO 2022 IR 144", GraphicCharacterSet.IsoIr6, IsoIr144, true),
        new("ISO 2022 IR 127", GraphicCharacterSet.IsoIr6, IsoIr127, true),
        new("ISO 2022 IR 126", GraphicCharacterSet.IsoIr6, IsoIr126, true),
        new("ISO 2022 IR 138", GraphicCharacterSet.IsoIr6, IsoIr138, true),
        new("ISO 2022 IR 148", GraphicCharacterSet.IsoIr6, IsoIr148, true),
        new("ISO 2022 IR 203", GraphicCharacterSet.IsoIr6, IsoIr203, true),
        new("ISO 2022 IR 13", IsoIr14, IsoIr13, true),
        new("ISO 2022 IR 166", GraphicCharacterSet.IsoIr6, IsoIr166, true),
        // Table C.12-4: multi-byte character sets with code extensions (values 2 to n only).
        new("ISO 2022 IR 87", IsoIr87, null, true),
        new("ISO 2022 IR 159", IsoIr159, null, true),
        new("ISO 2022 IR 149", null, IsoIr149, true),
        new("ISO 2022 IR 58", null, IsoIr58, true),
        // Table C.12-5: multi-byte character sets without code extensions.
        new("ISO_IR 192", null, null, false, CodePageEncodings.Utf8),
        new("GB18030", null, null, false, CodePageEncodings.Gb18030),
        new("GBK", null, null, false, CodePageEncodings.Gbk),
    ];

    /// <summary>Spellings that are no Defined Term but unambiguously mean one (keys as <see cref="Key"/> makes them).</summary>
    private static readonly (string Key, string Term)[] Aliases =
    [
        ("UTF8", "ISO_IR 192"),
        ("ISO88591", "ISO_IR 100"), ("ISO88592", "ISO_IR 101"), ("ISO88593", "ISO_IR 109"), ("ISO88594", "ISO_IR 110"),
        ("ISO88595", "ISO_IR 144"), ("ISO88596", "ISO_IR 127"), ("ISO88597", "ISO_IR 126"), ("ISO88598", "ISO_IR 138"),
        ("ISO88599", "ISO_IR 148"), ("ISO885915", "ISO_IR 203"), ("TIS620", "ISO_IR 166"),
        // pydicom and fo-dicom accept these from a draft of CP-1234.
        ("ISO2022GBK", "GBK"), ("ISO202258", "ISO 2022 IR 58"), ("GB2312", "ISO 2022 IR 58"),
    ];

    private static readonly FrozenDictionary<string, DefinedTerm> ByTerm = All.ToFrozenDictionary(t => t.Term, StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, DefinedTerm> ByKey = All
        .Select(t => KeyValuePair.Create(Key(t.Term), t))
        .Concat(Aliases.Select(a => KeyValuePair.Create(a.Key, ByTerm[a.Term])))
        .ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Looks a value of (0008,0005) up. Leading and trailing spaces are insignificant in CS
    /// (PS3.5 Table 6.2-1) and ignored; any other deviation from the Defined Term is tolerated but
    /// described in <paramref name="problem"/>, as is an unknown term (then null is returned).</summary>
    public static DefinedTerm? Resolve(string value, out string? problem)
    {
        problem = null;
        var trimmed = value.Trim(' ');
        if (ByTerm.TryGetValue(trimmed, out var exact)) return exact;

        // Case, NUL padding and the separators ' ', '_' and '-' vary in the wild: "ISO IR 100", "ISO-IR 100",
        // "ISO_IR100", "iso_ir 100", "ISO_IR 100\0", "ISO 2022-IR 87", "UTF-8".
        var key = Key(trimmed);
        if (!ByKey.TryGetValue(key, out var term)
            // "ISO_IR 149" for "ISO 2022 IR 149", "ISO 2022 IR 192" for "ISO_IR 192" and the like.
            && !(key.StartsWith("ISOIR", StringComparison.Ordinal) && ByKey.TryGetValue(string.Concat("ISO2022IR", key.AsSpan(5)), out term))
            && !(key.StartsWith("ISO2022IR", StringComparison.Ordinal) && ByKey.TryGetValue(string.Concat("ISOIR", key.AsSpan(9)), out term)))
        {
            problem = $"'{Printable(value)}' is not a Defined Term of Specific Character Set (PS3.3 C.12.1.1.2) and names no known character set";
            return null;
        }
        problem = $"'{Printable(value)}' is not a Defined Term of Specific Character Set; read as '{term.Term}'";
        return term;
    }

    internal static string Key(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (char c in value)
            if (char.IsAsciiLetterOrDigit(c)) sb.Append(char.ToUpperInvariant(c));
            else if (c is not (' ' or '_' or '-' or '\0') && !char.IsWhiteSpace(c)) sb.Append(c);
        return sb.ToString();
    }

    private static string Printable(string value) => value.Replace("\0", "\\0", StringComparison.Ordinal);

    internal static IEnumerable<DefinedTerm> DefinedTerms => All;
}
