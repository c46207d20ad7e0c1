using System.Globalization;
using Yingyun.Dicom;

namespace Yingyun.Archive.Warehouse;

/// <summary>Turns the events' text dates and times into column values. Lenient in (ARCHITECTURE.md §9, STYLE.md
/// "lenient in, strict out"): each reader accepts the form its event documents and the other common one; what none
/// accepts is reported so the writer can store NULL and say which record and field were at fault.</summary>
public static class WarehouseValues
{
    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd HH:mm:ss.FFFFFFF", // the log_queue form, 'yyyy-MM-dd HH:mm:ss.ffffff' (fewer digits accepted)
        "yyyy-MM-ddTHH:mm:ss.FFFFFFF",
        "yyyy-MM-ddTHH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
    ];

    /// <summary>A Doris DATETIME text (UTC): <c>yyyy-MM-dd HH:mm:ss[.ffffff]</c>, or the same with 'T' and an optional
    /// offset (converted to UTC). Absent or empty: true with null.</summary>
    public static bool TryParseTimestamp(string? text, out DateTime? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (DateTime.TryParseExact(text.Trim(), TimestampFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            value = DateTime.SpecifyKind(parsed, DateTimeKind.Utc);
            return true;
        }

        return false;
    }

    /// <summary>A date as <c>yyyy-MM-dd</c> (Doris DATE text, the log_queue form) or as a DICOM DA value
    /// (<c>YYYYMMDD</c>, or ACR-NEMA's <c>YYYY.MM.DD</c> that PS3.5 §6.2 asks readers to accept), the form the
    /// image and state events carry. Absent or empty: true with null.</summary>
    public static bool TryParseDate(string? text, out DateOnly? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var trimmed = text.AsSpan().Trim(" \0");
        if (trimmed.Length == 10 && trimmed[4] == '-' && trimmed[7] == '-')
        {
            if (DateOnly.TryParseExact(trimmed, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var iso))
            {
                value = iso;
                return true;
            }

            return false;
        }

        if (DicomDate.TryParse(trimmed, out var da))
        {
            value = da;
            return true;
        }

        return false;
    }

    /// <summary>A TM value (PS3.5 §6.2) as a time of day. Absent or empty: true with null.</summary>
    public static bool TryParseTime(string? text, out TimeOnly? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (DicomTime.TryParse(text, out var tm))
        {
            value = tm.Time;
            return true;
        }

        return false;
    }

    /// <summary>Study Date + Study Time as one timestamp in the modality's local time (DICOM has no zone here unless
    /// Timezone Offset From UTC (0008,0201) is sent, PS3.3 C.12.1.1.8); null unless both are present and valid.</summary>
    public static DateTime? Combine(DateOnly? date, TimeOnly? time) =>
        date is { } d && time is { } t ? d.ToDateTime(t, DateTimeKind.Unspecified) : null;
}
