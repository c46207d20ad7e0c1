using System.Globalization;
using System.Numerics;

namespace Yingyun.Dicom;

/// <summary>A value of an element that could not be read as its VR: its 0-based position among the element's
/// values and its text as found.</summary>
public readonly record struct DicomInvalidValue(int Index, string Value)
{
    public override string ToString() => $"value {Index + 1} '{Value}'";
}

/// <summary>Decimal String (DS), PS3.5 §6.2: a fixed or floating point number of at most 16 bytes, made of
/// 0-9, '+', '-', 'E', 'e', '.', and leading or trailing spaces.</summary>
public static class DicomDecimalString
{
    public const int MaxLength = 16;

    /// <summary>Reads one value, tolerating what real files contain: surrounding spaces or NULs, a '+' sign, a comma
    /// as decimal separator ("1,5"), an exponent ("1.0e+03"). Empty text is not a number.</summary>
    public static bool TryParse<T>(ReadOnlySpan<char> text, out T value) where T : INumberBase<T>
    {
        value = T.Zero;
        text = text.Trim(" \0");
        if (text.IsEmpty || text.Length > 64) return false;
        int commas = 0, points = 0;
        foreach (char c in text)
        {
            switch (c)
            {
                case >= '0' and <= '9' or '+' or '-' or 'e' or 'E': break;
                case '.': points++; break;
                case ',': commas++; break;
                default: return false; // "NaN", "Infinity", embedded spaces: not a DS
            }
        }
        if (commas > 0)
        {
            // A comma is a decimal separator only when it is the only separator ("1,5"); "1,000.5" is ambiguous junk.
            if (commas > 1 || points > 0) return false;
            Span<char> copy = stackalloc char[text.Length];
            text.CopyTo(copy);
            copy[copy.IndexOf(',')] = '.';
            return Parse(copy, out value);
        }
        return Parse(text, out value);

        static bool Parse(ReadOnlySpan<char> s, out T result)
        {
            bool ok = T.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed);
            result = ok ? parsed! : T.Zero;
            return ok;
        }
    }

    public static bool TryParse(ReadOnlySpan<char> text, out decimal value) => TryParse<decimal>(text, out value);

    /// <summary>Whether <paramref name="text"/> is a DS value exactly as PS3.5 §6.2 allows (spaces around, an
    /// optional sign, digits with an optional '.', an optional exponent). Length is checked separately.</summary>
    public static bool IsValid(ReadOnlySpan<char> text)
    {
        int i = 0, n = text.Length;
        while (i < n && text[i] == ' ') i++;
        while (n > i && text[n - 1] == ' ') n--;
        if (i == n) return false;
        if (text[i] is '+' or '-') i++;
        int digits = 0;
        while (i < n && char.IsAsciiDigit(text[i])) { i++; digits++; }
        if (i < n && text[i] == '.')
        {
            i++;
            while (i < n && char.IsAsciiDigit(text[i])) { i++; digits++; }
        }
        if (digits == 0) return false;
        if (i < n && text[i] is 'e' or 'E')
        {
            i++;
            if (i < n && text[i] is '+' or '-') i++;
            int exponentDigits = 0;
            while (i < n && char.IsAsciiDigit(text[i])) { i++; exponentDigits++; }
            if (exponentDigits == 0) return false;
        }
        return i == n;
    }

    /// <summary>Formats a number as a DS value of at most 16 characters (PS3.5 §6.2): the shortest text that reads
    /// back as the same number when it fits, else the most significant digits that fit.</summary>
    public static string Format<T>(T value) where T : INumberBase<T>
    {
        if (T.IsNaN(value) || T.IsInfinity(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "a Decimal String (DS) holds finite numbers only (PS3.5 §6.2)");
        string text = value.ToString(null, CultureInfo.InvariantCulture);
        if (text.Length <= MaxLength) return text;
        double d = double.CreateSaturating(value);
        for (int precision = 15; precision > 0; precision--)
        {
            text = d.ToString("G" + precision.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            if (text.Length <= MaxLength) return text;
        }
        throw new ArgumentOutOfRangeException(nameof(value), value, "cannot be written in 16 characters");
    }
}

/// <summary>Integer String (IS), PS3.5 §6.2: a base-10 integer of at most 12 bytes, -2^31 ≤ n ≤ 2^31 - 1,
/// optionally signed, with leading or trailing spaces.</summary>
public static class DicomIntegerString
{
    public const int MaxLength = 12;

    /// <summary>Reads one value, tolerating surrounding spaces or NULs, a '+' sign, and a decimal point with only
    /// zeros after it ("512.0", written by some DS-minded software). The result may exceed the IS range.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out long value)
    {
        text = text.Trim(" \0");
        value = 0;
        if (text.IsEmpty) return false;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value)) return true;
        if (DicomDecimalString.TryParse(text, out decimal d) && decimal.IsInteger(d) && d >= long.MinValue && d <= long.MaxValue)
        {
            value = (long)d;
            return true;
        }
        return false;
    }

    /// <summary>Whether <paramref name="text"/> is an IS value as PS3.5 §6.2 allows, range included.</summary>
    public static bool IsValid(ReadOnlySpan<char> text)
    {
        text = text.Trim(' ');
        if (text.IsEmpty) return false;
        int i = text[0] is '+' or '-' ? 1 : 0;
        if (i == text.Length) return false;
        for (int j = i; j < text.Length; j++)
            if (!char.IsAsciiDigit(text[j])) return false;
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
            && v is >= int.MinValue and <= int.MaxValue;
    }

    public static string Format<T>(T value) where T : INumberBase<T>
    {
        if (!T.IsInteger(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "an Integer String (IS) holds whole numbers only (PS3.5 §6.2)");
        return long.CreateChecked(value).ToString(CultureInfo.InvariantCulture);
    }
}
