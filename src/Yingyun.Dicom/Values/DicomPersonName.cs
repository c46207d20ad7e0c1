namespace Yingyun.Dicom;

/// <summary>One component group of a Person Name (PS3.5 §6.2.1.1): five components separated by '^' — family name
/// complex, given name complex, middle name, name prefix, name suffix. Absent components are "".</summary>
public sealed record DicomPersonNameComponentGroup(
    string FamilyName = "", string GivenName = "", string MiddleName = "", string NamePrefix = "", string NameSuffix = "")
{
    public const char ComponentDelimiter = '^';

    public static DicomPersonNameComponentGroup Empty { get; } = new();

    public bool IsEmpty => FamilyName.Length == 0 && GivenName.Length == 0 && MiddleName.Length == 0
        && NamePrefix.Length == 0 && NameSuffix.Length == 0;

    /// <summary>Splits a component group. Trailing spaces of each component are dropped (they are padding, not
    /// name). A sixth or later component is not allowed (PS3.5 §6.2.1.1); it is kept in the suffix with its
    /// delimiters so that nothing is lost.</summary>
    public static DicomPersonNameComponentGroup Parse(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return Empty;
        Span<string> parts = ["", "", "", "", ""];
        int k = 0;
        while (k < 4)
        {
            int caret = text.IndexOf(ComponentDelimiter);
            if (caret < 0) break;
            parts[k++] = Component(text[..caret]);
            text = text[(caret + 1)..];
        }
        parts[k] = Component(text);
        return new DicomPersonNameComponentGroup(parts[0], parts[1], parts[2], parts[3], parts[4]);
    }

    private static string Component(ReadOnlySpan<char> text) => text.TrimEnd(' ').ToString();

    /// <summary>The DICOM form: components joined by '^', trailing empty components (and their delimiters) left out
    /// as PS3.5 §6.2.1.1 allows.</summary>
    public override string ToString()
    {
        int last = NameSuffix.Length > 0 ? 5 : NamePrefix.Length > 0 ? 4 : MiddleName.Length > 0 ? 3 : GivenName.Length > 0 ? 2 : FamilyName.Length > 0 ? 1 : 0;
        return last switch
        {
            0 => "",
            1 => FamilyName,
            2 => string.Concat(FamilyName, "^", GivenName),
            3 => string.Join(ComponentDelimiter, FamilyName, GivenName, MiddleName),
            4 => string.Join(ComponentDelimiter, FamilyName, GivenName, MiddleName, NamePrefix),
            _ => string.Join(ComponentDelimiter, FamilyName, GivenName, MiddleName, NamePrefix, NameSuffix),
        };
    }
}

/// <summary>A Person Name (PN) value, PS3.5 §6.2.1: up to three component groups separated by '=' — alphabetic,
/// ideographic and phonetic — each of five '^'-separated components.</summary>
public sealed record DicomPersonName(
    DicomPersonNameComponentGroup Alphabetic, DicomPersonNameComponentGroup Ideographic, DicomPersonNameComponentGroup Phonetic)
{
    public const char ComponentGroupDelimiter = '=';

    /// <summary>An alphabetic name only.</summary>
    public DicomPersonName(string familyName, string givenName = "", string middleName = "", string namePrefix = "", string nameSuffix = "")
        : this(new DicomPersonNameComponentGroup(familyName, givenName, middleName, namePrefix, nameSuffix),
            DicomPersonNameComponentGroup.Empty, DicomPersonNameComponentGroup.Empty)
    {
    }

    public static DicomPersonName Empty { get; } = new(DicomPersonNameComponentGroup.Empty, DicomPersonNameComponentGroup.Empty, DicomPersonNameComponentGroup.Empty);

    public bool IsEmpty => Alphabetic.IsEmpty && Ideographic.IsEmpty && Phonetic.IsEmpty;

    public string FamilyName => Alphabetic.FamilyName;
    public string GivenName => Alphabetic.GivenName;

    /// <summary>Splits one PN value (no backslash) into its groups. A fourth group is not allowed; its text is kept in
    /// the phonetic group's last component rather than dropped.</summary>
    public static DicomPersonName Parse(ReadOnlySpan<char> text)
    {
        text = text.TrimEnd(" \0");
        if (text.IsEmpty) return Empty;
        int first = text.IndexOf(ComponentGroupDelimiter);
        if (first < 0) return new DicomPersonName(DicomPersonNameComponentGroup.Parse(text), DicomPersonNameComponentGroup.Empty, DicomPersonNameComponentGroup.Empty);
        var alphabetic = DicomPersonNameComponentGroup.Parse(text[..first]);
        text = text[(first + 1)..];
        int second = text.IndexOf(ComponentGroupDelimiter);
        if (second < 0) return new DicomPersonName(alphabetic, DicomPersonNameComponentGroup.Parse(text), DicomPersonNameComponentGroup.Empty);
        return new DicomPersonName(alphabetic, DicomPersonNameComponentGroup.Parse(text[..second]), DicomPersonNameComponentGroup.Parse(text[(second + 1)..]));
    }

    public static DicomPersonName Parse(string text) => Parse(text.AsSpan());

    /// <summary>The DICOM form, e.g. "Yamada^Tarou=山田^太郎=やまだ^たろう"; trailing empty groups are left out with their
    /// '=' (PS3.5 §6.2.1.1), inner empty groups keep theirs ("Wang^XiaoDong==…").</summary>
    public override string ToString()
    {
        if (!Phonetic.IsEmpty) return string.Join(ComponentGroupDelimiter, Alphabetic.ToString(), Ideographic.ToString(), Phonetic.ToString());
        if (!Ideographic.IsEmpty) return string.Concat(Alphabetic.ToString(), "=", Ideographic.ToString());
        return Alphabetic.ToString();
    }
}
