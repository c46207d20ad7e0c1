using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Yingyun.Dicom;

/// <summary>The PS3.6 data dictionary. Lookups by tag and by keyword are hash lookups that allocate
/// nothing; the tables are built once from generated code (<c>DicomDictionary.Generated.cs</c>,
/// written by <c>tools/dictgen</c>).</summary>
public static partial class DicomDictionary
{
    private static readonly FrozenDictionary<uint, DicomDictionaryEntry> ByTag;
    private static readonly FrozenDictionary<string, DicomDictionaryEntry>.AlternateLookup<ReadOnlySpan<char>> ByKeywordSpan;
    private static readonly FrozenDictionary<string, DicomDictionaryEntry> ByKeyword;
    private static readonly DicomDictionaryEntry[] Repeating;

    static DicomDictionary()
    {
        var all = CreateEntries();
        ByTag = all.Where(e => e.Mask == 0xFFFFFFFF).ToFrozenDictionary(e => e.Tag.Value);
        Repeating = all.Where(e => e.Mask != 0xFFFFFFFF).ToArray();
        ByKeyword = all.Where(e => e.Keyword.Length > 0)
            .GroupBy(e => e.Keyword, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        ByKeywordSpan = ByKeyword.GetAlternateLookup<ReadOnlySpan<char>>();
        Entries = all;
    }

    /// <summary>Every entry, repeating-group templates included.</summary>
    public static IReadOnlyList<DicomDictionaryEntry> Entries { get; }

    public static bool TryGet(DicomTag tag, [NotNullWhen(true)] out DicomDictionaryEntry? entry)
    {
        if (ByTag.TryGetValue(tag.Value, out entry)) return true;
        foreach (var e in Repeating)
        {
            if ((tag.Value & e.Mask) == e.Tag.Value)
            {
                entry = e;
                return true;
            }
        }
        entry = null;
        return false;
    }

    public static DicomDictionaryEntry? Lookup(DicomTag tag) => TryGet(tag, out var e) ? e : null;

    public static bool TryGetByKeyword(ReadOnlySpan<char> keyword, [NotNullWhen(true)] out DicomDictionaryEntry? entry) =>
        ByKeywordSpan.TryGetValue(keyword, out entry);

    /// <summary>The VR to assume for an element read in implicit VR (PS3.5 Annex A.1): the dictionary's
    /// first VR; UL for group lengths; LO for private creators; UN for anything unknown.</summary>
    public static DicomVR GetImplicitVR(DicomTag tag)
    {
        if (tag.IsGroupLength) return DicomVR.UL;
        if (tag.IsPrivateCreator) return DicomVR.LO;
        if (tag.IsPrivate) return DicomVR.UN;
        return TryGet(tag, out var e) && e.VR != DicomVR.None ? e.VR : DicomVR.UN;
    }

    public static string GetKeyword(DicomTag tag) => TryGet(tag, out var e) ? e.Keyword : "";
}
