namespace Yingyun.Dicom;

/// <summary>One data element of the PS3.6 registry (Table 6-1, 7-1, 8-1), or a repeating-group
/// template such as (60xx,3000) whose <see cref="Mask"/> clears the varying digits.</summary>
public sealed class DicomDictionaryEntry
{
    public DicomDictionaryEntry(uint tag, uint mask, DicomVR vr, DicomVR vr2, DicomVR vr3, string vm, string keyword, string name, bool retired)
    {
        Tag = new DicomTag(tag);
        Mask = mask;
        VR = vr;
        ValueRepresentations = vr3 != DicomVR.None ? [vr, vr2, vr3] : vr2 != DicomVR.None ? [vr, vr2] : vr == DicomVR.None ? [] : [vr];
        ValueMultiplicity = vm;
        Keyword = keyword;
        Name = name;
        IsRetired = retired;
    }

    /// <summary>The tag, with the varying digits zero for a repeating-group template.</summary>
    public DicomTag Tag { get; }

    /// <summary>0xFFFFFFFF for an ordinary element; for (60xx,3000) it is 0xFF00FFFF.</summary>
    public uint Mask { get; }

    /// <summary>The first (default) VR. Ambiguous elements list the others in <see cref="ValueRepresentations"/>
    /// ("US or SS", "OB or OW"); None for items and delimiters.</summary>
    public DicomVR VR { get; }

    public IReadOnlyList<DicomVR> ValueRepresentations { get; }

    /// <summary>PS3.6 value multiplicity such as "1", "1-n", "2-2n", "3".</summary>
    public string ValueMultiplicity { get; }

    public string Keyword { get; }
    public string Name { get; }
    public bool IsRetired { get; }

    public bool IsAmbiguousVR => ValueRepresentations.Count > 1;

    public override string ToString() => $"{Tag} {Keyword}";
}
