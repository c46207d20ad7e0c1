using System.Globalization;

namespace Yingyun.Dicom;

/// <summary>How much of a date or time a DT or TM value gave (PS3.5 §6.2: trailing components may be omitted).</summary>
public enum DicomDateTimePrecision : byte
{
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    /// <summary>Seconds with 1 to 6 fractional digits.</summary>
    Fraction,
}

/// <summary>Date (DA) values, PS3.5 §6.2: "YYYYMMDD".</summary>
public static class DicomDate
{
    /// <summary>Reads one DA value: "YYYYMMDD", or the "YYYY.MM.DD" form of ACR-NEMA that PS3.5 §6.2 recommends
    /// accepting for backward compatibility; surrounding spaces and NULs are ignored.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DateOnly date)
    {
        text = text.Trim(" \0");
        if (text.Length == 10 && text[4] == '.' && text[7] == '.')
            return TryCreate(text[..4], text[5..7], text[8..10], out date);
        return TryParseExact(text, out date);
    }

    /// <summary>Exactly "YYYYMMDD", a date that exists.</summary>
    public static bool TryParseExact(ReadOnlySpan<char> text, out DateOnly date)
    {
        if (text.Length != 8)
        {
            date = default;
            return false;
        }
        return TryCreate(text[..4], text[4..6], text[6..8], out date);
    }

    /// <summary>Whether the text is the legacy "YYYY.MM.DD" form (readable, but not a valid DICOM 3 value).</summary>
    internal static bool IsLegacyForm(ReadOnlySpan<char> text) =>
        text.Length == 10 && text[4] == '.' && text[7] == '.' && TryCreate(text[..4], text[5..7], text[8..10], out _);

    public static DateOnly Parse(string text) =>
        TryParse(text, out var d) ? d : throw new FormatException($"'{text}' is not a DICOM date (DA, PS3.5 §6.2)");

    public static string Format(DateOnly date) => date.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    internal static bool TryFormat(DateOnly date, Span<char> destination, out int written) =>
        date.TryFormat(destination, out written, "yyyyMMdd", CultureInfo.InvariantCulture);

    private static bool TryCreate(ReadOnlySpan<char> y, ReadOnlySpan<char> m, ReadOnlySpan<char> d, out DateOnly date)
    {
        date = default;
        if (!TryDigits(y, out int year) || !TryDigits(m, out int month) || !TryDigits(d, out int day)) return false;
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)) return false;
        date = new DateOnly(year, month, day);
        return true;
    }

    /// <summary>A run of ASCII digits as a number (no sign, no spaces).</summary>
    internal static bool TryDigits(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 9) return false;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }
}

/// <summary>A DA range as used by range matching in queries (PS3.4 C.2.2.2.5): "a-b", "-b" (up to b), "a-"
/// (from a), or a single date (Start == End).</summary>
public readonly record struct DicomDateRange(DateOnly? Start, DateOnly? End)
{
    public static DicomDateRange Single(DateOnly date) => new(date, date);

    public bool Contains(DateOnly date) => (Start is not { } s || date >= s) && (End is not { } e || date <= e);

    /// <summary>Reads "a-b", "-b", "a-" or a single date; each date as <see cref="DicomDate.TryParse"/> reads it.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DicomDateRange range)
    {
        range = default;
        text = text.Trim(" \0");
        if (text.IsEmpty) return false;
        int dash = text.IndexOf('-');
        if (dash < 0)
        {
            if (!DicomDate.TryParse(text, out var d)) return false;
            range = Single(d);
            return true;
        }
        var first = text[..dash].Trim(' ');
        var second = text[(dash + 1)..].Trim(' ');
        if (first.IsEmpty && second.IsEmpty) return false;
        DateOnly? start = null, end = null;
        if (!first.IsEmpty)
        {
            if (!DicomDate.TryParse(first, out var s)) return false;
            start = s;
        }
        if (!second.IsEmpty)
        {
            if (!DicomDate.TryParse(second, out var e)) return false;
            end = e;
        }
        if (start > end) return false;
        range = new DicomDateRange(start, end);
        return true;
    }

    public static DicomDateRange Parse(string text) =>
        TryParse(text, out var r) ? r : throw new FormatException($"'{text}' is not a DICOM date range (DA, PS3.4 C.2.2.2.5)");

    /// <summary>The DICOM form: "YYYYMMDD" for a single date, else "YYYYMMDD-YYYYMMDD" with either side possibly empty.</summary>
    public override string ToString()
    {
        if (Start is { } s && End is { } e && s == e) return DicomDate.Format(s);
        return (Start is { } a ? DicomDate.Format(a) : "") + "-" + (End is { } b ? DicomDate.Format(b) : "");
    }
}
