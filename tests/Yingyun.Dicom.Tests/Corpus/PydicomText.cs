namespace Yingyun.Dicom.Tests.Corpus;

/// <summary>pydicom 2.3's rules for turning a text value into strings (pydicom/values.py, valuerep.py, default
/// configuration), applied to text we decoded with <see cref="DicomCharacterSet.Decode"/>, so that our
/// decoded strings can be compared with pydicom's <c>elem.value</c> one for one.</summary>
public static class PydicomText
{
    /// <summary>The strings pydicom gives for a value of VR <paramref name="vr"/> (one entry per value; an empty
    /// value is one empty string, as pydicom's <c>''</c>).</summary>
    public static List<string> Values(ReadOnlySpan<byte> bytes, DicomVR vr, DicomCharacterSet characterSet)
    {
        if (bytes.Length == 0) return [""];
        string s = characterSet.Decode(bytes, vr);
        switch (vr)
        {
            case DicomVR.AE:
                // convert_AE_string: leading and trailing spaces are not significant.
                return [.. s.Split('\\').Select(PyStrip)];
            case DicomVR.AS or DicomVR.CS or DicomVR.DA or DicomVR.DT or DicomVR.TM:
                // convert_string (DA/DT/TM too: datetime_conversion is off) → MultiString.
                return MultiString(s);
            case DicomVR.UI:
                // convert_UI: rstrip('\0 ') then MultiString.
                return MultiString(s.TrimEnd('\0', ' '));
            case DicomVR.DS:
                // convert_DS_string: strip() the whole, MultiString, DSfloat keeps value.strip() as its string,
                // except that a blank value stays as it is.
                return [.. MultiString(PyStrip(s)).Select(v => PyStrip(v).Length == 0 ? v : PyStrip(v))];
            case DicomVR.IS:
                // convert_IS_string: MultiString, IS keeps value.strip(); a blank value stays as it is.
                return [.. MultiString(s).Select(v => PyStrip(v).Length == 0 ? v : PyStrip(v))];
            case DicomVR.SH or DicomVR.LO or DicomVR.UC:
                // convert_text: split on backslash, each rstrip('\0 ').
                return [.. s.Split('\\').Select(v => v.TrimEnd('\0', ' '))];
            case DicomVR.ST or DicomVR.LT or DicomVR.UT:
                // convert_single_string: one value, rstrip('\0 ').
                return [s.TrimEnd('\0', ' ')];
            case DicomVR.UR:
                // convert_UR_string: rstrip() (whitespace).
                return [PyRStrip(s)];
            case DicomVR.PN:
                // convert_PN: rstrip('\0 '), split on backslash; each name is split into component groups on '=',
                // and empty groups at the end are dropped ('A^B=' is 'A^B').
                return [.. s.TrimEnd('\0', ' ').Split('\\').Select(PersonName)];
            default:
                throw new ArgumentOutOfRangeException(nameof(vr), vr, "not a text VR");
        }
    }

    public static bool IsText(DicomVR vr) => vr.IsString();

    private static string PersonName(string name)
    {
        var groups = name.Split('=').ToList();
        while (groups.Count > 0 && groups[^1].Length == 0) groups.RemoveAt(groups.Count - 1);
        return string.Join('=', groups);
    }

    /// <summary>valuerep.MultiString: trailing spaces and NULs removed, then split on backslash.</summary>
    private static List<string> MultiString(string s) => [.. s.TrimEnd(' ', '\0').Split('\\')];

    /// <summary>Python's str.isspace for the characters a decoded DICOM value can hold.</summary>
    private static bool IsPySpace(char c) =>
        c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r' or '\x1c' or '\x1d' or '\x1e' or '\x1f' or '\x85' or '\xa0'
        || (c > '\xff' && char.IsWhiteSpace(c));

    private static string PyStrip(string s)
    {
        int start = 0, end = s.Length;
        while (start < end && IsPySpace(s[start])) start++;
        while (end > start && IsPySpace(s[end - 1])) end--;
        return s[start..end];
    }

    private static string PyRStrip(string s)
    {
        int end = s.Length;
        while (end > 0 && IsPySpace(s[end - 1])) end--;
        return s[..end];
    }
}
