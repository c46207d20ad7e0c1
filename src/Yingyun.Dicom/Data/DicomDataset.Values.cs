using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Yingyun.Dicom;

// Typed access to values. Values are stored as the raw little-endian bytes read from the file (PS3.5 §7), padding
// included; these members decode them on demand and encode new values the same way.
//
// Conventions: Get* throws when the element is absent (except GetString/GetStrings/GetPersonName, where "absent" is
// an ordinary answer: null or empty), when its VR cannot hold the requested type, or when the value is malformed;
// TryGet* and *OrDefault never throw. A value left on disk (BulkDataReference) must be loaded first.
public sealed partial class DicomDataset
{
    /// <summary>The items in tag order, without an enumerator allocation (for the validator).</summary>
    internal ReadOnlySpan<DicomItem> ItemSpan => CollectionsMarshal.AsSpan(_items);

    // ---------------------------------------------------------------- strings

    /// <summary>The whole value as text — all values with their '\' delimiters — decoded with
    /// <see cref="CharacterSet"/> for the VRs that depend on it (PS3.5 §6.1.2.3), with trailing padding removed, and
    /// leading spaces removed where PS3.5 Table 6.2-1 says they are insignificant (AE, CS, DS, IS, LO, SH).
    /// Null when the element is absent.</summary>
    public string? GetString(DicomTag tag)
    {
        if (!TryGetItem(tag, out var item)) return null;
        return DecodeTrimmed(RequireText(item));
    }

    public bool TryGetString(DicomTag tag, [NotNullWhen(true)] out string? value)
    {
        value = TryGetTextElement(tag, out var e) ? TryDecodeTrimmed(e) : null;
        return value is not null;
    }

    /// <summary>The values, decoded, split on '\' (except LT, ST, UT and UR, which hold one value, PS3.5 §6.4) and
    /// each trimmed as <see cref="GetString"/> trims the whole. Empty when absent or zero length.</summary>
    public string[] GetStrings(DicomTag tag)
    {
        if (!TryGetItem(tag, out var item)) return [];
        var e = RequireText(item);
        return SplitValues(DecodeTrimmed(e), e.VR);
    }

    /// <summary>The value at <paramref name="index"/>, trimmed.</summary>
    public bool TryGetString(DicomTag tag, int index, [NotNullWhen(true)] out string? value)
    {
        value = null;
        if (!TryGetTextElement(tag, out var e) || TryDecodeTrimmed(e) is not { } whole) return false;
        if (!DicomValueText.TryGetValue(whole, e.VR, index, out var v)) return false;
        value = DicomValueText.TrimValue(v, e.VR).ToString();
        return true;
    }

    /// <summary>The first value, or <paramref name="defaultValue"/> when the element is absent, empty, not text, or
    /// on disk. Never throws.</summary>
    public string GetSingleValueOrDefault(DicomTag tag, string defaultValue) =>
        TryGetString(tag, 0, out var v) ? v : defaultValue;

    private static string[] SplitValues(string whole, DicomVR vr)
    {
        if (whole.Length == 0) return [];
        if (vr.IsSingleValuedText()) return [whole];
        var parts = whole.Split(DicomValueText.Delimiter);
        for (int i = 0; i < parts.Length; i++) parts[i] = DicomValueText.TrimValue(parts[i], vr);
        return parts;
    }

    private string DecodeTrimmed(DicomElement e)
    {
        var bytes = DicomValueText.TrimPadding(e.Span, e.VR);
        return bytes.IsEmpty ? "" : CharacterSet.Decode(bytes, e.VR);
    }

    private string? TryDecodeTrimmed(DicomElement e)
    {
        try
        {
            return DecodeTrimmed(e);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // A decoder with a throwing fallback (DecoderFallbackException is an ArgumentException).
            return null;
        }
    }

    private bool TryGetTextElement(DicomTag tag, [NotNullWhen(true)] out DicomElement? element)
    {
        element = TryGetElement(tag, out var e) && e.VR.IsReadableAsText() && e.Value.IsInMemory ? e : null;
        return element is not null;
    }

    private static DicomElement RequireText(DicomItem item)
    {
        if (item is not DicomElement e)
            throw new InvalidOperationException($"{Describe(item)} is a sequence, not a value");
        if (!e.VR.IsReadableAsText())
            throw new InvalidOperationException($"{Describe(item)} holds binary values: use GetValues<T>, GetValue<T> or GetAttributeTags");
        return e;
    }

    private static string Describe(DicomItem item) => Describe(item.Tag, item.VR);

    private static string Describe(DicomTag tag, DicomVR vr = DicomVR.None)
    {
        string keyword = DicomDictionary.GetKeyword(tag);
        string v = vr == DicomVR.None ? "" : " " + vr.ToText();
        return keyword.Length > 0 ? $"{tag} {keyword}{v}" : $"{tag}{v}";
    }

    private DicomItem RequireItem(DicomTag tag) =>
        TryGetItem(tag, out var item) ? item : throw new KeyNotFoundException($"{Describe(tag)} is not in the data set");

    // ---------------------------------------------------------------- numbers in text: DS, IS

    /// <summary>The values of a Decimal String (DS) element, read leniently (see <see cref="DicomDecimalString.TryParse{T}"/>).
    /// Empty when absent or zero length; throws <see cref="FormatException"/> naming the first value that is not a number.</summary>
    public decimal[] GetDecimalStrings(DicomTag tag) => GetDecimalStrings<decimal>(tag);

    /// <inheritdoc cref="GetDecimalStrings(DicomTag)"/>
    public T[] GetDecimalStrings<T>(DicomTag tag) where T : struct, INumberBase<T> =>
        GetNumberStrings(tag, static (ReadOnlySpan<char> s, out T v) => DicomDecimalString.TryParse(s, out v), "a decimal string (DS)");

    /// <summary>Reads every value of a DS element without throwing: <paramref name="values"/> has one entry per value,
    /// null where the value is empty or unreadable; <paramref name="invalidValues"/> lists the unreadable ones. True when
    /// the element is present and every non-empty value was read.</summary>
    public bool TryGetDecimalStrings<T>(DicomTag tag, out T?[] values, out DicomInvalidValue[] invalidValues) where T : struct, INumberBase<T> =>
        TryGetNumberStrings(tag, static (ReadOnlySpan<char> s, out T v) => DicomDecimalString.TryParse(s, out v), out values, out invalidValues);

    public bool TryGetDecimalStrings(DicomTag tag, out decimal?[] values, out DicomInvalidValue[] invalidValues) =>
        TryGetDecimalStrings<decimal>(tag, out values, out invalidValues);

    /// <summary>The values of an Integer String (IS) element (see <see cref="DicomIntegerString.TryParse"/>).</summary>
    public long[] GetIntegerStrings(DicomTag tag) => GetIntegerStrings<long>(tag);

    /// <inheritdoc cref="GetIntegerStrings(DicomTag)"/>
    public T[] GetIntegerStrings<T>(DicomTag tag) where T : struct, INumberBase<T> =>
        GetNumberStrings(tag, static (ReadOnlySpan<char> s, out T v) => TryParseIntegerString(s, out v), "an integer string (IS)");

    /// <summary>As <see cref="TryGetDecimalStrings{T}"/>, for IS.</summary>
    public bool TryGetIntegerStrings<T>(DicomTag tag, out T?[] values, out DicomInvalidValue[] invalidValues) where T : struct, INumberBase<T> =>
        TryGetNumberStrings(tag, static (ReadOnlySpan<char> s, out T v) => TryParseIntegerString(s, out v), out values, out invalidValues);

    public bool TryGetIntegerStrings(DicomTag tag, out long?[] values, out DicomInvalidValue[] invalidValues) =>
        TryGetIntegerStrings<long>(tag, out values, out invalidValues);

    private static bool TryParseIntegerString<T>(ReadOnlySpan<char> s, out T value) where T : INumberBase<T>
    {
        value = T.Zero;
        return DicomIntegerString.TryParse(s, out long l) && DicomNumber.TryConvert(l, out value);
    }

    private delegate bool SpanParser<T>(ReadOnlySpan<char> text, out T value);

    private T[] GetNumberStrings<T>(DicomTag tag, SpanParser<T> parse, string what)
    {
        if (!TryGetItem(tag, out var item)) return [];
        var e = RequireText(item);
        using var text = DicomValueTextBuffer.Create(e, CharacterSet, stackalloc char[256]);
        var s = text.Text;
        if (s.IsEmpty) return [];
        var result = new T[DicomValueText.CountValues(s, e.VR)];
        int i = 0;
        foreach (var range in s.Split(DicomValueText.Delimiter))
        {
            if (!parse(s[range], out result[i]))
                throw new FormatException($"{Describe(e)}: value {i + 1} '{s[range]}' is not {what} (PS3.5 §6.2)");
            i++;
        }
        return result;
    }

    private bool TryGetNumberStrings<T>(DicomTag tag, SpanParser<T> parse, out T?[] values, out DicomInvalidValue[] invalid) where T : struct
    {
        values = [];
        invalid = [];
        if (!TryGetTextElement(tag, out var e)) return false;
        using var text = DicomValueTextBuffer.Create(e, CharacterSet, stackalloc char[256]);
        var s = text.Text;
        if (s.IsEmpty) return true;
        values = new T?[DicomValueText.CountValues(s, e.VR)];
        List<DicomInvalidValue>? bad = null;
        int i = 0;
        foreach (var range in s.Split(DicomValueText.Delimiter))
        {
            var v = s[range];
            if (parse(v, out T number)) values[i] = number;
            else if (!v.Trim(" \0").IsEmpty) (bad ??= []).Add(new DicomInvalidValue(i, v.ToString()));
            i++;
        }
        if (bad is null) return true;
        invalid = [.. bad];
        return false;
    }

    // ---------------------------------------------------------------- binary numbers

    /// <summary>The values of a binary element (US, SS, UL, SL, FL, FD, OB, OW, OF, OD, OL, OV, SV, UV, AT, UN) as a
    /// span over the stored little-endian bytes — no copy. <typeparamref name="T"/> must have the VR's size (2 for
    /// US, SS, OW and AT …), or be byte; OB and UN can be viewed as any type that divides their length. Empty when absent.</summary>
    public ReadOnlySpan<T> GetValues<T>(DicomTag tag) where T : unmanaged
    {
        if (!TryGetItem(tag, out var item)) return [];
        if (item is not DicomElement e) throw new InvalidOperationException($"{Describe(item)} is not a value");
        var vr = e.VR;
        if (!IsBinary(vr))
            throw new InvalidOperationException($"{Describe(e)} is text: use GetString, GetDecimalStrings or GetIntegerStrings");
        int size = Unsafe.SizeOf<T>();
        int unit = vr.UnitSize();
        if (unit > 1 && size != unit && size != 1)
            throw new InvalidOperationException($"{Describe(e)} has {unit}-byte values; {typeof(T).Name} is {size} bytes");
        var bytes = e.Span;
        if (bytes.Length % size != 0)
            throw new FormatException($"{Describe(e)}: value length {bytes.Length} is not a multiple of {size} (PS3.5 §6.2)");
        // The stored bytes are little endian (the reader swaps big endian ones), as is every platform .NET runs on.
        return MemoryMarshal.Cast<byte, T>(bytes);
    }

    /// <summary>The value at <paramref name="index"/> converted to <typeparamref name="T"/>, from a binary number VR
    /// or from DS or IS text; throws when absent, malformed, or when the number does not fit <typeparamref name="T"/>.</summary>
    public T GetValue<T>(DicomTag tag, int index = 0) where T : unmanaged, INumberBase<T>
    {
        var item = RequireItem(tag);
        if (item is not DicomElement e) throw new InvalidOperationException($"{Describe(item)} is not a value");
        return TryReadNumber(e, index, out T value, out string? error) ? value : throw new FormatException($"{Describe(e)}: {error}");
    }

    public bool TryGetValue<T>(DicomTag tag, out T value, int index = 0) where T : unmanaged, INumberBase<T>
    {
        value = default;
        return TryGetElement(tag, out var e) && e.Value.IsInMemory && TryReadNumber(e, index, out value, out _);
    }

    /// <summary>The value at <paramref name="index"/>, or <paramref name="defaultValue"/>. Never throws.</summary>
    public T GetValueOrDefault<T>(DicomTag tag, T defaultValue, int index = 0) where T : unmanaged, INumberBase<T> =>
        TryGetValue(tag, out T v, index) ? v : defaultValue;

    private static bool IsBinary(DicomVR vr) => vr.UnitSize() > 1 || vr is DicomVR.OB or DicomVR.UN;

    private bool TryReadNumber<T>(DicomElement e, int index, out T value, out string? error) where T : unmanaged, INumberBase<T>
    {
        value = default;
        error = null;
        var vr = e.VR;
        if (vr is DicomVR.DS or DicomVR.IS)
        {
            using var text = DicomValueTextBuffer.Create(e, CharacterSet, stackalloc char[256]);
            if (!DicomValueText.TryGetValue(text.Text, vr, index, out var s))
            {
                error = $"has no value {index + 1}";
                return false;
            }
            bool ok = vr == DicomVR.IS
                ? TryParseIntegerString(s, out value)
                : typeof(T) == typeof(double) || typeof(T) == typeof(float) || typeof(T) == typeof(Half)
                    ? DicomDecimalString.TryParse(s, out double d) && DicomNumber.TryConvert(d, out value)
                    : DicomDecimalString.TryParse(s, out decimal m) && DicomNumber.TryConvert(m, out value);
            if (!ok) error = $"value {index + 1} '{s}' is not a number that fits {typeof(T).Name}";
            return ok;
        }
        int unit = vr.UnitSize();
        if (!IsBinary(vr) || vr == DicomVR.AT)
        {
            error = vr == DicomVR.AT ? "is AT: use GetAttributeTags" : "does not hold numbers";
            return false;
        }
        var bytes = e.Span;
        if (bytes.Length % unit != 0)
        {
            error = $"value length {bytes.Length} is not a multiple of {unit} (PS3.5 §6.2)";
            return false;
        }
        if (index < 0 || index >= bytes.Length / unit)
        {
            error = $"has {bytes.Length / unit} values, no value {index + 1}";
            return false;
        }
        var b = bytes.Slice(index * unit, unit);
        bool converted = vr switch
        {
            DicomVR.US or DicomVR.OW => DicomNumber.TryConvert(BinaryPrimitives.ReadUInt16LittleEndian(b), out value),
            DicomVR.SS => DicomNumber.TryConvert(BinaryPrimitives.ReadInt16LittleEndian(b), out value),
            DicomVR.UL or DicomVR.OL => DicomNumber.TryConvert(BinaryPrimitives.ReadUInt32LittleEndian(b), out value),
            DicomVR.SL => DicomNumber.TryConvert(BinaryPrimitives.ReadInt32LittleEndian(b), out value),
            DicomVR.FL or DicomVR.OF => DicomNumber.TryConvert(BinaryPrimitives.ReadSingleLittleEndian(b), out value),
            DicomVR.FD or DicomVR.OD => DicomNumber.TryConvert(BinaryPrimitives.ReadDoubleLittleEndian(b), out value),
            DicomVR.SV => DicomNumber.TryConvert(BinaryPrimitives.ReadInt64LittleEndian(b), out value),
            DicomVR.UV or DicomVR.OV => DicomNumber.TryConvert(BinaryPrimitives.ReadUInt64LittleEndian(b), out value),
            _ => DicomNumber.TryConvert(b[0], out value), // OB, UN
        };
        if (!converted) error = $"value {index + 1} does not fit {typeof(T).Name}";
        return converted;
    }

    // ---------------------------------------------------------------- AT

    /// <summary>The values of an Attribute Tag (AT) element: each is a group then an element number, 16 bits each,
    /// little endian (PS3.5 §6.2). Empty when absent.</summary>
    public DicomTag[] GetAttributeTags(DicomTag tag)
    {
        if (!TryGetItem(tag, out var item)) return [];
        if (item is not DicomElement { VR: DicomVR.AT or DicomVR.UN } e)
            throw new InvalidOperationException($"{Describe(item)} is not an attribute tag (AT) element");
        var bytes = e.Span;
        if (bytes.Length % 4 != 0)
            throw new FormatException($"{Describe(e)}: value length {bytes.Length} is not a multiple of 4 (PS3.5 §6.2 AT)");
        var tags = new DicomTag[bytes.Length / 4];
        for (int i = 0; i < tags.Length; i++)
            tags[i] = new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(4 * i)..]), BinaryPrimitives.ReadUInt16LittleEndian(bytes[(4 * i + 2)..]));
        return tags;
    }

    // ---------------------------------------------------------------- DA, TM, DT

    private delegate bool TextParser<T>(ReadOnlySpan<char> text, out T value);

    /// <summary>Parses the value at <paramref name="index"/> of a text element without throwing.</summary>
    private bool TryParseValue<T>(DicomTag tag, int index, TextParser<T> parse, out T value)
    {
        value = default!;
        if (!TryGetTextElement(tag, out var e)) return false;
        using var text = DicomValueTextBuffer.Create(e, CharacterSet, stackalloc char[128]);
        return DicomValueText.TryGetValue(text.Text, e.VR, index, out var s) && parse(s, out value);
    }

    private T ParseValue<T>(DicomTag tag, int index, TextParser<T> parse, string what)
    {
        var e = RequireText(RequireItem(tag));
        using var text = DicomValueTextBuffer.Create(e, CharacterSet, stackalloc char[128]);
        if (!DicomValueText.TryGetValue(text.Text, e.VR, index, out var s))
            throw new FormatException($"{Describe(e)} has no value {index + 1}");
        return parse(s, out var value) ? value : throw new FormatException($"{Describe(e)}: '{s}' is not {what} (PS3.5 §6.2)");
    }

    private T[] ParseValues<T>(DicomTag tag, TextParser<T> parse, string what)
    {
        if (!TryGetItem(tag, out var item)) return [];
        var e = RequireText(item);
        using var text = DicomValueTextBuffer.Create(e, CharacterSet, stackalloc char[256]);
        var s = text.Text;
        var result = new T[DicomValueText.CountValues(s, e.VR)];
        if (result.Length == 0) return result;
        int i = 0;
        foreach (var range in s.Split(DicomValueText.Delimiter))
        {
            if (!parse(s[range], out result[i]))
                throw new FormatException($"{Describe(e)}: value {i + 1} '{s[range]}' is not {what} (PS3.5 §6.2)");
            i++;
        }
        return result;
    }

    /// <summary>A Date (DA) value, "YYYYMMDD" or the legacy "YYYY.MM.DD".</summary>
    public DateOnly GetDate(DicomTag tag, int index = 0) => ParseValue<DateOnly>(tag, index, DicomDate.TryParse, "a date (DA)");
    public bool TryGetDate(DicomTag tag, out DateOnly value, int index = 0) => TryParseValue(tag, index, DicomDate.TryParse, out value);
    public DateOnly[] GetDates(DicomTag tag) => ParseValues<DateOnly>(tag, DicomDate.TryParse, "a date (DA)");

    /// <summary>A DA query value: a single date or a range "a-b", "-b", "a-" (PS3.4 C.2.2.2.5).</summary>
    public DicomDateRange GetDateRange(DicomTag tag) => ParseValue<DicomDateRange>(tag, 0, DicomDateRange.TryParse, "a date range (DA)");
    public bool TryGetDateRange(DicomTag tag, out DicomDateRange value) => TryParseValue(tag, 0, DicomDateRange.TryParse, out value);

    /// <summary>A Time (TM) value as a time of day; components the value left out are zero.</summary>
    public TimeOnly GetTime(DicomTag tag, int index = 0) => GetDicomTime(tag, index).Time;

    public bool TryGetTime(DicomTag tag, out TimeOnly value, int index = 0)
    {
        bool ok = TryGetDicomTime(tag, out var t, index);
        value = t.Time;
        return ok;
    }

    /// <summary>A Time (TM) value with the precision it was written in.</summary>
    public DicomTime GetDicomTime(DicomTag tag, int index = 0) => ParseValue<DicomTime>(tag, index, DicomTime.TryParse, "a time (TM)");
    public bool TryGetDicomTime(DicomTag tag, out DicomTime value, int index = 0) => TryParseValue(tag, index, DicomTime.TryParse, out value);

    /// <summary>A Date Time (DT) value with its precision and its UTC offset, if it had one.</summary>
    public DicomDateTime GetDateTime(DicomTag tag, int index = 0) => ParseValue<DicomDateTime>(tag, index, DicomDateTime.TryParse, "a date time (DT)");
    public bool TryGetDateTime(DicomTag tag, out DicomDateTime value, int index = 0) => TryParseValue(tag, index, DicomDateTime.TryParse, out value);

    /// <summary>A DT value as an instant: its own offset, else Timezone Offset From UTC (0008,0201) of the data set
    /// (PS3.3 C.12.1.1.8), else <paramref name="defaultOffset"/>.</summary>
    public DateTimeOffset GetDateTimeOffset(DicomTag tag, TimeSpan defaultOffset, int index = 0)
    {
        var dt = GetDateTime(tag, index);
        if (dt.Offset is null && TryGetTimezoneOffsetFromUtc(out var tz)) defaultOffset = tz;
        return dt.ToDateTimeOffset(defaultOffset);
    }

    private bool TryGetTimezoneOffsetFromUtc(out TimeSpan offset)
    {
        offset = default;
        // (0008,0201) is SH "&ZZXX"; parse it through DT's offset syntax on a dummy year.
        if (!TryGetString(DicomTags.TimezoneOffsetFromUTC, 0, out var s) || s.Length != 5) return false;
        if (!DicomDateTime.TryParse("2000" + s, out var dt) || dt.Offset is not { } o) return false;
        offset = o;
        return true;
    }

    /// <summary>Combines a DA element and a TM element (e.g. Study Date and Study Time) into one local date and time;
    /// a missing or unreadable time counts as midnight. False when the date is missing or unreadable.</summary>
    public bool TryGetDateTime(DicomTag dateTag, DicomTag timeTag, out DateTime value)
    {
        value = default;
        if (!TryGetDate(dateTag, out var date)) return false;
        TryGetTime(timeTag, out var time);
        value = date.ToDateTime(time);
        return true;
    }

    // ---------------------------------------------------------------- AS, PN

    /// <summary>An Age String (AS) value.</summary>
    public DicomAge GetAge(DicomTag tag) => ParseValue<DicomAge>(tag, 0, DicomAge.TryParse, "an age string (AS)");
    public bool TryGetAge(DicomTag tag, out DicomAge value) => TryParseValue(tag, 0, DicomAge.TryParse, out value);

    /// <summary>A Person Name (PN) value split into component groups and components; null when absent.</summary>
    public DicomPersonName? GetPersonName(DicomTag tag, int index = 0)
    {
        if (!TryGetItem(tag, out var item)) return null;
        var e = RequireText(item);
        string whole = DecodeTrimmed(e);
        if (whole.Length == 0 && index == 0) return DicomPersonName.Empty;
        return DicomValueText.TryGetValue(whole, e.VR, index, out var v)
            ? DicomPersonName.Parse(v)
            : throw new FormatException($"{Describe(e)} has no value {index + 1}");
    }

    public bool TryGetPersonName(DicomTag tag, [NotNullWhen(true)] out DicomPersonName? value, int index = 0)
    {
        value = null;
        if (!TryGetTextElement(tag, out var e) || TryDecodeTrimmed(e) is not { } whole) return false;
        if (whole.Length == 0 && index == 0) value = DicomPersonName.Empty;
        else if (DicomValueText.TryGetValue(whole, e.VR, index, out var v)) value = DicomPersonName.Parse(v);
        return value is not null;
    }

    public DicomPersonName[] GetPersonNames(DicomTag tag)
    {
        if (!TryGetItem(tag, out var item)) return [];
        var e = RequireText(item);
        string whole = DecodeTrimmed(e);
        if (whole.Length == 0) return [];
        var names = new DicomPersonName[DicomValueText.CountValues(whole, e.VR)];
        int i = 0;
        foreach (var range in whole.AsSpan().Split(DicomValueText.Delimiter)) names[i++] = DicomPersonName.Parse(whole.AsSpan()[range]);
        return names;
    }

    // ---------------------------------------------------------------- setters

    /// <summary>Sets a text element: the values joined with '\', encoded with <see cref="CharacterSet"/> (which uses
    /// the default repertoire for VRs that do not depend on it, PS3.5 §6.1.2.3) and padded to even length with the VR's
    /// padding byte (PS3.5 §6.2). LT, ST, UT and UR take at most one value; other values must not contain '\'.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DicomVR vr, params string[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!vr.IsReadableAsText())
            throw new ArgumentException($"{vr.ToText()} is not a character string VR: use AddOrUpdate<T> for numbers or the DicomTag[] overload for AT", nameof(vr));
        if (vr.IsSingleValuedText() && values.Length > 1)
            throw new ArgumentException($"{vr.ToText()} holds a single value (PS3.5 §6.4), {values.Length} given", nameof(values));
        if (!vr.IsSingleValuedText())
        {
            foreach (var v in values)
                if (v is not null && v.Contains(DicomValueText.Delimiter, StringComparison.Ordinal))
                    throw new ArgumentException($"value '{v}' contains '\\', the value delimiter of PS3.5 §6.4", nameof(values));
        }
        string joined = values.Length == 1 ? values[0] ?? "" : string.Join(DicomValueText.Delimiter, values);
        byte[] bytes = joined.Length == 0 ? [] : CharacterSet.Encode(joined, vr);
        return AddOrUpdate(new DicomElement(tag, vr, PadToEven(bytes, vr.PaddingByte())));
    }

    /// <summary>Sets a text element with the VR of the data dictionary (PS3.6).</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, params string[] values) => AddOrUpdate(tag, DictionaryVR(tag), values);

    /// <summary>Sets numbers: binary VRs get the little-endian encoding of each value, converted with a range check
    /// when <typeparamref name="T"/> is not the VR's own type (so <c>AddOrUpdate(Rows, DicomVR.US, 512)</c> works);
    /// OB, OW, OL and OV also take any type of their unit size as raw bits (signed pixel data in OW, say). DS and IS get
    /// the numbers as text (DS in at most 16 characters, PS3.5 §6.2).</summary>
    public DicomDataset AddOrUpdate<T>(DicomTag tag, DicomVR vr, params T[] values) where T : unmanaged, INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(values);
        if (vr == DicomVR.DS || vr == DicomVR.IS)
        {
            var text = new string[values.Length];
            for (int i = 0; i < values.Length; i++)
                text[i] = vr == DicomVR.DS ? DicomDecimalString.Format(values[i]) : DicomIntegerString.Format(values[i]);
            return AddOrUpdate(tag, vr, text);
        }
        if (!IsBinary(vr) || vr == DicomVR.AT)
            throw new ArgumentException($"{vr.ToText()} does not hold numbers{(vr == DicomVR.AT ? ": use the DicomTag[] overload" : "")}", nameof(vr));
        return AddOrUpdate(new DicomElement(tag, vr, DicomNumber.Encode(values, vr)));
    }

    /// <summary>Sets numbers with the VR of the data dictionary; where the dictionary allows several ("US or SS"), the
    /// one that matches <typeparamref name="T"/>.</summary>
    public DicomDataset AddOrUpdate<T>(DicomTag tag, params T[] values) where T : unmanaged, INumberBase<T>
    {
        if (!DicomDictionary.TryGet(tag, out var entry) || entry.VR == DicomVR.None)
            throw new ArgumentException($"{tag} is not in the data dictionary: give its VR", nameof(tag));
        var vr = entry.VR;
        foreach (var candidate in entry.ValueRepresentations)
            if (DicomNumber.IsNativeType<T>(candidate)) vr = candidate;
        return AddOrUpdate(tag, vr, values);
    }

    /// <summary>Sets an Attribute Tag (AT) element: group then element, 16 bits each, little endian.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DicomVR vr, DicomTag[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (vr != DicomVR.AT) throw new ArgumentException($"tags are written as AT, not {vr.ToText()}", nameof(vr));
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4 * i), values[i].Group);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4 * i + 2), values[i].Element);
        }
        return AddOrUpdate(new DicomElement(tag, vr, bytes));
    }

    /// <summary>Sets a DA element ("YYYYMMDD").</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DateOnly value) => AddOrUpdate(tag, DicomVR.DA, DicomDate.Format(value));

    /// <summary>Sets a DA query value: a date range (PS3.4 C.2.2.2.5).</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DicomDateRange value) => AddOrUpdate(tag, DicomVR.DA, value.ToString());

    /// <summary>Sets a TM element: "HHMMSS", with the fractional digits the time needs (at most 6).</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, TimeOnly value) => AddOrUpdate(tag, DicomTime.FromTimeOnly(value));

    /// <summary>Sets a TM element at the value's precision.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DicomTime value) => AddOrUpdate(tag, DicomVR.TM, value.ToString());

    /// <summary>Sets a DT element with the UTC offset of <paramref name="value"/> ("YYYYMMDDHHMMSS.FFFFFF&amp;ZZXX").</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DateTimeOffset value) => AddOrUpdate(tag, DicomDateTime.FromDateTimeOffset(value));

    /// <summary>Sets a DT element at the value's precision, with its offset if it has one.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DicomDateTime value) => AddOrUpdate(tag, DicomVR.DT, value.ToString());

    /// <summary>Sets an AS element ("nnnY" …).</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DicomAge value) => AddOrUpdate(tag, DicomVR.AS, value.ToString());

    /// <summary>Sets a PN element.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DicomPersonName value) => AddOrUpdate(tag, DicomVR.PN, value.ToString());

    /// <summary>Sets a multi-valued PN element.</summary>
    public DicomDataset AddOrUpdate(DicomTag tag, DicomPersonName[] values) =>
        AddOrUpdate(tag, DicomVR.PN, Array.ConvertAll(values, static v => v.ToString()));

    private static DicomVR DictionaryVR(DicomTag tag)
    {
        if (tag.IsPrivateCreator) return DicomVR.LO;
        if (!DicomDictionary.TryGet(tag, out var entry) || entry.VR == DicomVR.None)
            throw new ArgumentException($"{tag} is not in the data dictionary: give its VR", nameof(tag));
        return entry.VR;
    }

    internal static byte[] PadToEven(byte[] bytes, byte padding)
    {
        if ((bytes.Length & 1) == 0) return bytes;
        var padded = new byte[bytes.Length + 1];
        bytes.CopyTo(padded, 0);
        padded[^1] = padding;
        return padded;
    }

    // ---------------------------------------------------------------- private data elements

    /// <summary>The tag of private element <paramref name="elementOffset"/> (00-FF) in the block that
    /// <paramref name="creator"/> reserved in <paramref name="group"/>: (gggg,xxee) where (gggg,00xx) holds the creator
    /// (PS3.5 §7.8.1). With <paramref name="reserveIfMissing"/>, reserves the first free block (adds the creator element)
    /// when the creator has none; otherwise throws <see cref="KeyNotFoundException"/>.</summary>
    public DicomTag GetPrivateTag(ushort group, string creator, byte elementOffset, bool reserveIfMissing)
    {
        if (TryGetPrivateTag(group, creator, elementOffset, out var tag)) return tag;
        if (!reserveIfMissing)
            throw new KeyNotFoundException($"no private creator '{creator}' in group {group:X4}");
        for (int block = 0x10; block <= 0xFF; block++)
        {
            var creatorTag = new DicomTag(group, (ushort)block);
            if (Contains(creatorTag)) continue;
            AddOrUpdate(creatorTag, DicomVR.LO, creator);
            return new DicomTag(group, (ushort)(block << 8 | elementOffset));
        }
        throw new InvalidOperationException($"all private blocks (gggg,0010-00FF) of group {group:X4} are reserved (PS3.5 §7.8.1)");
    }

    public bool TryGetPrivateTag(ushort group, string creator, byte elementOffset, out DicomTag tag)
    {
        ArgumentNullException.ThrowIfNull(creator);
        var first = new DicomTag(group, 0x0010);
        if (!first.IsPrivate)
            throw new ArgumentOutOfRangeException(nameof(group), $"{group:X4} is not a private group (odd, above 0007, PS3.5 §7.8)");
        tag = default;
        // Creator values are LO: leading and trailing spaces are not significant (PS3.5 Table 6.2-1).
        var wanted = creator.AsSpan().Trim(' ');
        int i = IndexOf(first);
        if (i < 0) i = ~i;
        var last = new DicomTag(group, 0x00FF);
        for (; i < _items.Count && _items[i].Tag <= last; i++)
        {
            if (_items[i] is DicomElement e && e.Value.IsInMemory && e.VR.IsReadableAsText()
                && TryDecodeTrimmed(e) is { } found && found.AsSpan().Trim(' ').SequenceEqual(wanted))
            {
                tag = new DicomTag(group, (ushort)(e.Tag.Element << 8 | elementOffset));
                return true;
            }
        }
        return false;
    }
}
