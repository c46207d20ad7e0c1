using System.Globalization;

namespace Yingyun.Dicom;

/// <summary>A Time (TM) value, PS3.5 §6.2: "HH", "HHMM", "HHMMSS" or "HHMMSS.F" to "HHMMSS.FFFFFF", kept at the
/// precision it was given so that writing it back yields the same text.</summary>
public readonly record struct DicomTime
{
    public DicomTime(TimeOnly time, DicomDateTimePrecision precision = DicomDateTimePrecision.Fraction, int fractionDigits = 6)
    {
        if (precision < DicomDateTimePrecision.Hour)
            throw new ArgumentOutOfRangeException(nameof(precision), precision, "a TM value has at least hours");
        if (precision == DicomDateTimePrecision.Fraction ? fractionDigits is < 1 or > 6 : fractionDigits != 0)
            throw new ArgumentOutOfRangeException(nameof(fractionDigits), fractionDigits, "1 to 6 fractional digits, and only at Fraction precision");
        Time = new TimeOnly(DicomDateTimeText.Truncate(time.Ticks, precision, fractionDigits));
        Precision = precision;
        FractionDigits = fractionDigits;
    }

    /// <summary>The time, with the components beyond <see cref="Precision"/> zero.</summary>
    public TimeOnly Time { get; }
    public DicomDateTimePrecision Precision { get; }
    /// <summary>Number of fractional second digits (1-6) at <see cref="DicomDateTimePrecision.Fraction"/>, else 0.</summary>
    public int FractionDigits { get; }

    /// <summary>Full precision: seconds, plus the fractional digits needed to represent the time to the
    /// microsecond (ticks below a microsecond are dropped, TM has no more digits).</summary>
    public static DicomTime FromTimeOnly(TimeOnly time)
    {
        int micro = (int)(time.Ticks % TimeSpan.TicksPerSecond / 10);
        if (micro == 0) return new DicomTime(time, DicomDateTimePrecision.Second, 0);
        int digits = 6;
        while (micro % 10 == 0) { micro /= 10; digits--; }
        return new DicomTime(time, DicomDateTimePrecision.Fraction, digits);
    }

    /// <summary>Reads one TM value, accepting also the ACR-NEMA forms "HH:MM" and "HH:MM:SS.F" (PS3.5 §6.2 asks
    /// to accept them for backward compatibility), more than 6 fractional digits (truncated), and surrounding
    /// spaces or NULs.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DicomTime time) => TryParse(text.Trim(" \0"), strict: false, out time);

    /// <summary>Exactly the PS3.5 §6.2 form, no padding.</summary>
    public static bool TryParseExact(ReadOnlySpan<char> text, out DicomTime time) => TryParse(text, strict: true, out time);

    public static DicomTime Parse(string text) =>
        TryParse(text, out var t) ? t : throw new FormatException($"'{text}' is not a DICOM time (TM, PS3.5 §6.2)");

    private static bool TryParse(ReadOnlySpan<char> text, bool strict, out DicomTime time)
    {
        time = default;
        if (!DicomDateTimeText.TryParseTime(text, strict, allowColons: !strict, out long ticks, out var precision, out int digits, out int used)
            || used != text.Length)
            return false;
        time = new DicomTime(new TimeOnly(ticks), precision, digits);
        return true;
    }

    public override string ToString()
    {
        Span<char> buffer = stackalloc char[16];
        int n = DicomDateTimeText.FormatTime(Time.Ticks, Precision, FractionDigits, buffer);
        return new string(buffer[..n]);
    }
}

/// <summary>A Date Time (DT) value, PS3.5 §6.2: "YYYYMMDDHHMMSS.FFFFFF&amp;ZZXX" where every component after the year may
/// be omitted from the right and the UTC offset is optional. The precision and offset are kept as given.</summary>
public readonly record struct DicomDateTime
{
    public DicomDateTime(DateTime dateTime, DicomDateTimePrecision precision = DicomDateTimePrecision.Fraction, int fractionDigits = 6, TimeSpan? offset = null)
    {
        if (precision == DicomDateTimePrecision.Fraction ? fractionDigits is < 1 or > 6 : fractionDigits != 0)
            throw new ArgumentOutOfRangeException(nameof(fractionDigits), fractionDigits, "1 to 6 fractional digits, and only at Fraction precision");
        if (offset is { } o && (o < TimeSpan.FromHours(-14) || o > TimeSpan.FromHours(14) || o.Ticks % TimeSpan.TicksPerMinute != 0))
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "a UTC offset is whole minutes within ±14 hours");
        DateTime = precision switch
        {
            DicomDateTimePrecision.Year => new DateTime(dateTime.Year, 1, 1, 0, 0, 0, DateTimeKind.Unspecified),
            DicomDateTimePrecision.Month => new DateTime(dateTime.Year, dateTime.Month, 1, 0, 0, 0, DateTimeKind.Unspecified),
            _ => new DateTime(dateTime.Date.Ticks + DicomDateTimeText.Truncate(dateTime.TimeOfDay.Ticks, precision, fractionDigits), DateTimeKind.Unspecified),
        };
        Precision = precision;
        FractionDigits = fractionDigits;
        Offset = offset;
    }

    /// <summary>The date and time as written (local to <see cref="Offset"/> when there is one); components beyond
    /// <see cref="Precision"/> are at their minimum.</summary>
    public DateTime DateTime { get; }
    public DicomDateTimePrecision Precision { get; }
    public int FractionDigits { get; }
    /// <summary>The "&amp;ZZXX" suffix, if the value had one.</summary>
    public TimeSpan? Offset { get; }

    /// <summary>Full precision with the offset of <paramref name="value"/>.</summary>
    public static DicomDateTime FromDateTimeOffset(DateTimeOffset value)
    {
        var t = DicomTime.FromTimeOnly(TimeOnly.FromTimeSpan(value.TimeOfDay));
        return new DicomDateTime(value.DateTime, t.Precision, t.FractionDigits, value.Offset);
    }

    /// <summary>The instant, using the value's own offset, else <paramref name="defaultOffset"/> (PS3.5 §6.2: without
    /// an offset the time is local to the creator, see Timezone Offset From UTC (0008,0201)).</summary>
    public DateTimeOffset ToDateTimeOffset(TimeSpan defaultOffset) => new(DateTime, Offset ?? defaultOffset);

    public static bool TryParse(ReadOnlySpan<char> text, out DicomDateTime value) => TryParse(text.Trim(" \0"), strict: false, out value);

    /// <summary>Exactly the PS3.5 §6.2 form, no padding, offset within -1200 to +1400.</summary>
    public static bool TryParseExact(ReadOnlySpan<char> text, out DicomDateTime value) => TryParse(text, strict: true, out value);

    public static DicomDateTime Parse(string text) =>
        TryParse(text, out var t) ? t : throw new FormatException($"'{text}' is not a DICOM date time (DT, PS3.5 §6.2)");

    private static bool TryParse(ReadOnlySpan<char> text, bool strict, out DicomDateTime value)
    {
        value = default;
        TimeSpan? offset = null;
        int sign = text.LastIndexOfAny('+', '-');
        if (sign >= 0)
        {
            var z = text[(sign + 1)..];
            if (z.Length != 4 || !DicomDate.TryDigits(z[..2], out int hh) || !DicomDate.TryDigits(z[2..], out int mm) || mm > 59)
                return false;
            var o = new TimeSpan(hh, mm, 0);
            if (text[sign] == '-') o = -o;
            // PS3.5 §6.2: offsets run from -1200 to +1400.
            if (o < TimeSpan.FromHours(-12) && strict || o < TimeSpan.FromHours(-14) || o > TimeSpan.FromHours(14)) return false;
            offset = o;
            text = text[..sign];
        }
        if (text.Length < 4 || !DicomDate.TryDigits(text[..4], out int year) || year < 1) return false;
        int month = 1, day = 1;
        var precision = DicomDateTimePrecision.Year;
        int i = 4;
        if (text.Length >= 6)
        {
            if (!DicomDate.TryDigits(text[4..6], out month) || month is < 1 or > 12) return false;
            precision = DicomDateTimePrecision.Month;
            i = 6;
            if (text.Length >= 8)
            {
                if (!DicomDate.TryDigits(text[6..8], out day) || day < 1 || day > DateTime.DaysInMonth(year, month)) return false;
                precision = DicomDateTimePrecision.Day;
                i = 8;
            }
        }
        long ticks = 0;
        int digits = 0;
        if (i < text.Length)
        {
            if (precision != DicomDateTimePrecision.Day) return false;
            if (!DicomDateTimeText.TryParseTime(text[i..], strict, allowColons: false, out ticks, out precision, out digits, out int used)) return false;
            i += used;
        }
        if (i != text.Length) return false;
        value = new DicomDateTime(new DateTime(year, month, day).AddTicks(ticks), precision, digits, offset);
        return true;
    }

    public override string ToString()
    {
        Span<char> buffer = stackalloc char[32];
        int n = DateTime.Year.TryFormat(buffer, out int w, "D4", CultureInfo.InvariantCulture) ? w : 0;
        if (Precision >= DicomDateTimePrecision.Month) { DateTime.Month.TryFormat(buffer[n..], out w, "D2", CultureInfo.InvariantCulture); n += w; }
        if (Precision >= DicomDateTimePrecision.Day) { DateTime.Day.TryFormat(buffer[n..], out w, "D2", CultureInfo.InvariantCulture); n += w; }
        if (Precision >= DicomDateTimePrecision.Hour) n += DicomDateTimeText.FormatTime(DateTime.TimeOfDay.Ticks, Precision, FractionDigits, buffer[n..]);
        if (Offset is { } o)
        {
            buffer[n++] = o < TimeSpan.Zero ? '-' : '+';
            var a = o.Duration();
            a.Hours.TryFormat(buffer[n..], out w, "D2", CultureInfo.InvariantCulture); n += w;
            a.Minutes.TryFormat(buffer[n..], out w, "D2", CultureInfo.InvariantCulture); n += w;
        }
        return new string(buffer[..n]);
    }
}

/// <summary>The time-of-day part shared by TM and DT (PS3.5 §6.2).</summary>
internal static class DicomDateTimeText
{
    public static long Truncate(long ticks, DicomDateTimePrecision precision, int fractionDigits) => precision switch
    {
        DicomDateTimePrecision.Year or DicomDateTimePrecision.Month or DicomDateTimePrecision.Day => 0,
        DicomDateTimePrecision.Hour => ticks - ticks % TimeSpan.TicksPerHour,
        DicomDateTimePrecision.Minute => ticks - ticks % TimeSpan.TicksPerMinute,
        DicomDateTimePrecision.Second => ticks - ticks % TimeSpan.TicksPerSecond,
        _ => ticks - ticks % Pow10(7 - fractionDigits),
    };

    private static long Pow10(int n)
    {
        long r = 1;
        while (n-- > 0) r *= 10;
        return r;
    }

    /// <summary>Parses "HH[MM[SS[.F{1,6}]]]" from the start of <paramref name="text"/>; with
    /// <paramref name="allowColons"/> also "HH:MM[:SS[.F]]". Reports how many chars were used.</summary>
    public static bool TryParseTime(ReadOnlySpan<char> text, bool strict, bool allowColons, out long ticks,
        out DicomDateTimePrecision precision, out int fractionDigits, out int used)
    {
        ticks = 0;
        precision = DicomDateTimePrecision.Hour;
        fractionDigits = 0;
        used = 0;
        if (text.Length < 2 || !DicomDate.TryDigits(text[..2], out int hour) || hour > 23) return false;
        int i = 2;
        int minute = 0, second = 0;
        bool colons = allowColons && text.Length > 2 && text[2] == ':';
        if (colons) i++;
        if (text.Length >= i + 2 && char.IsAsciiDigit(text[i]))
        {
            if (!DicomDate.TryDigits(text.Slice(i, 2), out minute) || minute > 59) return false;
            precision = DicomDateTimePrecision.Minute;
            i += 2;
            if (colons && text.Length > i && text[i] == ':') i++;
            if (text.Length >= i + 2 && char.IsAsciiDigit(text[i]))
            {
                // PS3.5 §6.2 allows 60 for a leap second; TimeOnly cannot hold it, so it reads as the last
                // microsecond of the minute.
                if (!DicomDate.TryDigits(text.Slice(i, 2), out second) || second > 60) return false;
                precision = DicomDateTimePrecision.Second;
                i += 2;
                if (text.Length > i && text[i] == '.')
                {
                    int start = ++i;
                    int fraction = 0;
                    while (i < text.Length && char.IsAsciiDigit(text[i]))
                    {
                        if (i - start < 6) fraction = fraction * 10 + (text[i] - '0');
                        i++;
                    }
                    int n = i - start;
                    if (n == 0 && strict || n > 6 && strict) return false;
                    if (n > 0)
                    {
                        fractionDigits = Math.Min(n, 6);
                        for (int k = fractionDigits; k < 7; k++) fraction *= 10;
                        ticks = fraction;
                        precision = DicomDateTimePrecision.Fraction;
                    }
                }
            }
        }
        else if (colons)
        {
            return false;
        }
        if (second == 60)
        {
            second = 59;
            ticks = TimeSpan.TicksPerSecond - 10;
            if (precision == DicomDateTimePrecision.Second) { precision = DicomDateTimePrecision.Fraction; fractionDigits = 6; }
        }
        ticks += hour * TimeSpan.TicksPerHour + minute * TimeSpan.TicksPerMinute + second * TimeSpan.TicksPerSecond;
        used = i;
        return true;
    }

    /// <summary>Writes "HH", "HHMM", "HHMMSS" or "HHMMSS.F…" for the precision; returns the length.</summary>
    public static int FormatTime(long ticks, DicomDateTimePrecision precision, int fractionDigits, Span<char> destination)
    {
        var t = new TimeSpan(ticks);
        int n = 0;
        Write2(t.Hours, destination, ref n);
        if (precision >= DicomDateTimePrecision.Minute) Write2(t.Minutes, destination, ref n);
        if (precision >= DicomDateTimePrecision.Second) Write2(t.Seconds, destination, ref n);
        if (precision == DicomDateTimePrecision.Fraction)
        {
            destination[n++] = '.';
            long fraction = ticks % TimeSpan.TicksPerSecond; // 7 digits of 100 ns
            for (int k = 0; k < fractionDigits; k++)
            {
                fraction *= 10;
                destination[n++] = (char)('0' + fraction / TimeSpan.TicksPerSecond);
                fraction %= TimeSpan.TicksPerSecond;
            }
        }
        return n;
    }

    private static void Write2(int value, Span<char> destination, ref int n)
    {
        destination[n++] = (char)('0' + value / 10);
        destination[n++] = (char)('0' + value % 10);
    }
}
