using System.Globalization;

namespace Yingyun.Dicom;

/// <summary>The unit letter of an Age String (PS3.5 §6.2 AS).</summary>
public enum DicomAgeUnit : byte
{
    Days = (byte)'D',
    Weeks = (byte)'W',
    Months = (byte)'M',
    Years = (byte)'Y',
}

/// <summary>An Age String (AS) value, PS3.5 §6.2: "nnnD", "nnnW", "nnnM" or "nnnY", always 4 characters.</summary>
public readonly record struct DicomAge
{
    public DicomAge(int number, DicomAgeUnit unit)
    {
        if (number is < 0 or > 999) throw new ArgumentOutOfRangeException(nameof(number), number, "an age string has 3 digits (PS3.5 §6.2 AS)");
        if (unit is not (DicomAgeUnit.Days or DicomAgeUnit.Weeks or DicomAgeUnit.Months or DicomAgeUnit.Years))
            throw new ArgumentOutOfRangeException(nameof(unit), unit, "D, W, M or Y");
        Number = number;
        Unit = unit;
    }

    public int Number { get; }
    public DicomAgeUnit Unit { get; }

    /// <summary>Reads an AS value, tolerating surrounding spaces, fewer than 3 digits ("45Y") and a lower-case unit.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DicomAge age) => TryParse(text.Trim(" \0"), strict: false, out age);

    /// <summary>Exactly 3 digits and an upper-case D, W, M or Y.</summary>
    public static bool TryParseExact(ReadOnlySpan<char> text, out DicomAge age) => TryParse(text, strict: true, out age);

    public static DicomAge Parse(string text) =>
        TryParse(text, out var a) ? a : throw new FormatException($"'{text}' is not a DICOM age string (AS, PS3.5 §6.2)");

    private static bool TryParse(ReadOnlySpan<char> text, bool strict, out DicomAge age)
    {
        age = default;
        if (text.Length is < 2 or > 4 || strict && text.Length != 4) return false;
        char u = strict ? text[^1] : char.ToUpperInvariant(text[^1]);
        if (u is not ('D' or 'W' or 'M' or 'Y') || !DicomDate.TryDigits(text[..^1], out int number)) return false;
        age = new DicomAge(number, (DicomAgeUnit)u);
        return true;
    }

    public override string ToString() =>
        Number.ToString("D3", CultureInfo.InvariantCulture) + (char)Unit;
}
