using System.Globalization;
using System.Text;
using Yingyun.Dicom;

namespace Yingyun.Archive.Index;

/// <summary>A parsed matching key, independent of the SQL dialect: the SQLite builder turns it into GLOB and
/// comparisons, a MySQL one would use LIKE. Columns are those of <see cref="IndexAttribute.MatchColumns"/>.</summary>
internal abstract record IndexCondition;

/// <summary>column = value.</summary>
internal sealed record EqualCondition(string Column, object Value) : IndexCondition;

/// <summary>column IN (values): list of UID matching (PS3.4 §C.2.2.2.2).</summary>
internal sealed record InCondition(string Column, IReadOnlyList<string> Values) : IndexCondition;

/// <summary>Wildcard matching (PS3.4 §C.2.2.2.4): <paramref name="Pattern"/> keeps DICOM's '*' and '?'.</summary>
internal sealed record WildcardCondition(string Column, string Pattern) : IndexCondition;

/// <summary>Range matching (PS3.4 §C.2.2.2.5) over a normalised column: lower ≤ column ≤ upper, either bound open.</summary>
internal sealed record RangeCondition(string Column, string? Lower, string? Upper) : IndexCondition;

internal sealed record AnyCondition(IReadOnlyList<IndexCondition> Conditions) : IndexCondition;

internal sealed record AllCondition(IReadOnlyList<IndexCondition> Conditions) : IndexCondition;

/// <summary>Some series of the study satisfies <paramref name="Condition"/> (Modalities in Study).</summary>
internal sealed record StudyHasSeriesCondition(IndexCondition Condition) : IndexCondition;

/// <summary>PS3.4 §C.2.2.2 matching rules, and the normal forms the index stores so that the rules become plain
/// comparisons: DA as YYYYMMDD, TM as HHMMSS.FFFFFF, person names as upper-cased component groups.</summary>
public static class IndexMatching
{
    /// <summary>Parses the matching key <paramref name="value"/> of <paramref name="attribute"/>; null means
    /// universal matching (empty, or only '*': PS3.4 §C.2.2.2.3, §C.2.2.2.4) or a key that is never matched.
    /// A value with '\' is a list: UID list matching for UIDs (§C.2.2.2.2), and, leniently, "any of these" for the
    /// other kinds (SCUs send Modality "CT\MR").</summary>
    internal static IndexCondition? Parse(IndexAttribute attribute, string value)
    {
        value = value.Trim();
        if (value.Length == 0 || attribute.Kind == IndexMatchKind.Count) return null;
        string[] values = attribute.VR.IsSingleValuedText() ? [value] : value.Split('\\');
        if (Array.Exists(values, v => IsUniversal(v.Trim()))) return null;
        if (attribute.Kind == IndexMatchKind.Uid)
        {
            var uids = values.Select(v => v.Trim()).Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).ToList();
            return uids.Count == 1 ? new EqualCondition(attribute.MatchColumns[0], uids[0]) : new InCondition(attribute.MatchColumns[0], uids);
        }
        var each = new List<IndexCondition>(values.Length);
        foreach (var v in values)
        {
            if (v.Trim().Length == 0) continue;
            each.Add(ParseOne(attribute, v));
        }
        if (each.Count == 0) return null;
        return each.Count == 1 ? each[0] : new AnyCondition(each);
    }

    private static bool IsUniversal(string value) => value.Length > 0 && value.AsSpan().IndexOfAnyExcept('*') < 0;

    private static bool HasWildcard(string value) => value.AsSpan().IndexOfAny('*', '?') >= 0;

    private static IndexCondition ParseOne(IndexAttribute attribute, string raw)
    {
        string value = raw.Trim();
        string column = attribute.MatchColumns[0];
        switch (attribute.Kind)
        {
            case IndexMatchKind.Text:
                return HasWildcard(value) ? new WildcardCondition(column, value) : new EqualCondition(column, value);
            case IndexMatchKind.ModalitiesInStudy:
                return new StudyHasSeriesCondition(HasWildcard(value) ? new WildcardCondition(column, value) : new EqualCondition(column, value));
            case IndexMatchKind.PersonName:
                return PersonNameCondition(attribute, raw);
            case IndexMatchKind.Integer:
                if (HasWildcard(value)) return new WildcardCondition(column, value);
                if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
                    throw new IndexQueryException($"{Describe(attribute)}: '{value}' is not an integer (PS3.5 §6.2 {attribute.VR.ToText()})");
                return new EqualCondition(column, number);
            case IndexMatchKind.Date:
                return DateCondition(attribute, column, value);
            case IndexMatchKind.Time:
                return TimeCondition(attribute, column, value);
            default:
                throw new IndexQueryException($"{Describe(attribute)} cannot be matched");
        }
    }

    private static IndexCondition DateCondition(IndexAttribute attribute, string column, string value)
    {
        int dash = value.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0) return new EqualCondition(column, NormalizeDate(value) ?? throw BadValue(attribute, value, "a date YYYYMMDD"));
        string lower = value[..dash].Trim(), upper = value[(dash + 1)..].Trim();
        if (lower.Length == 0 && upper.Length == 0) throw BadValue(attribute, value, "a date range with at least one bound");
        return new RangeCondition(column,
            lower.Length == 0 ? null : NormalizeDate(lower) ?? throw BadValue(attribute, value, "a date range YYYYMMDD-YYYYMMDD"),
            upper.Length == 0 ? null : NormalizeDate(upper) ?? throw BadValue(attribute, value, "a date range YYYYMMDD-YYYYMMDD"));
    }

    private static RangeCondition TimeCondition(IndexAttribute attribute, string column, string value)
    {
        // A time names the interval its precision spans (PS3.4 §C.2.2.2.5.1 compares "all times in the range"):
        // "1030" is 10:30:00.000000–10:30:59.999999, so a single value is a range too.
        int dash = value.IndexOf('-', StringComparison.Ordinal);
        string lower = dash < 0 ? value : value[..dash].Trim(), upper = dash < 0 ? value : value[(dash + 1)..].Trim();
        if (lower.Length == 0 && upper.Length == 0) throw BadValue(attribute, value, "a time range with at least one bound");
        return new RangeCondition(column,
            lower.Length == 0 ? null : TimeBound(lower, upper: false) ?? throw BadValue(attribute, value, "a time HHMMSS.FFFFFF or a range of them"),
            upper.Length == 0 ? null : TimeBound(upper, upper: true) ?? throw BadValue(attribute, value, "a time HHMMSS.FFFFFF or a range of them"));
    }

    private static IndexCondition PersonNameCondition(IndexAttribute attribute, string raw)
    {
        // PS3.5 §6.2.1: up to three component groups (alphabetic=ideographic=phonetic). A key without '=' matches a
        // name when any of its groups matches; a key with '=' matches group by group, an empty group universally.
        // Case-insensitive, as most archives match names (the standard leaves PN case sensitivity open, §C.2.2.2.1).
        var columns = attribute.MatchColumns;
        if (!raw.Contains('=', StringComparison.Ordinal))
        {
            string key = NormalizeNameGroup(raw);
            if (key.Length == 0) return new EqualCondition(columns[0], "");
            return new AnyCondition([.. columns.Select(c => Compare(c, key))]);
        }
        var groups = raw.Split('=');
        var all = new List<IndexCondition>();
        for (int g = 0; g < Math.Min(groups.Length, columns.Length); g++)
        {
            string key = NormalizeNameGroup(groups[g]);
            if (key.Length == 0 || IsUniversal(key)) continue;
            all.Add(Compare(columns[g], key));
        }
        return all.Count switch
        {
            0 => new WildcardCondition(columns[0], "*"),
            1 => all[0],
            _ => new AllCondition(all),
        };

        static IndexCondition Compare(string column, string key) => HasWildcard(key) ? new WildcardCondition(column, key) : new EqualCondition(column, key);
    }

    // ---------------------------------------------------------------- normal forms

    /// <summary>A DA value as YYYYMMDD (also from the ACR-NEMA form YYYY.MM.DD that PS3.5 §6.2 still lists for
    /// queries); null when it is not a date.</summary>
    public static string? NormalizeDate(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var text = value.Trim();
        if (text.Length == 10 && text[4] == '.' && text[7] == '.') text = string.Concat(text.AsSpan(0, 4), text.AsSpan(5, 2), text.AsSpan(8, 2));
        return text.Length == 8 && DateOnly.TryParseExact(text, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) ? text : null;
    }

    /// <summary>A TM value as HHMMSS.FFFFFF, missing parts as zeros; null when it is not a time.</summary>
    public static string? NormalizeTime(string? value) => string.IsNullOrWhiteSpace(value) ? null : TimeBound(value.Trim(), upper: false);

    /// <summary>The first (or last) instant a TM of any precision names: "10" → 100000.000000 (or 105959.999999).
    /// Accepts HH, HHMM, HHMMSS, HHMMSS.F{1-6} and the ACR-NEMA HH:MM:SS.</summary>
    internal static string? TimeBound(string value, bool upper)
    {
        var text = value.Replace(":", "", StringComparison.Ordinal);
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        string whole = dot < 0 ? text : text[..dot], fraction = dot < 0 ? "" : text[(dot + 1)..];
        if (whole.Length is not (2 or 4 or 6) || !whole.All(char.IsAsciiDigit) || fraction.Length > 6 || !fraction.All(char.IsAsciiDigit)) return null;
        if (fraction.Length > 0 && whole.Length != 6) return null;
        if (int.Parse(whole.AsSpan(0, 2), CultureInfo.InvariantCulture) > 23) return null;
        if (whole.Length >= 4 && int.Parse(whole.AsSpan(2, 2), CultureInfo.InvariantCulture) > 59) return null;
        if (whole.Length == 6 && int.Parse(whole.AsSpan(4, 2), CultureInfo.InvariantCulture) > 60) return null;
        var sb = new StringBuilder(13).Append(whole);
        while (sb.Length < 6) sb.Append(upper ? "59" : "00");
        sb.Append('.').Append(fraction);
        while (sb.Length < 13) sb.Append(upper ? '9' : '0');
        return sb.ToString();
    }

    /// <summary>The three component groups of a PN value (alphabetic, ideographic, phonetic), each upper-cased and
    /// without trailing empty components, for case-insensitive matching.</summary>
    public static (string? Alphabetic, string? Ideographic, string? Phonetic) NameGroups(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return (null, null, null);
        var groups = name.Split('=');
        string? At(int i) => i < groups.Length && NormalizeNameGroup(groups[i]) is { Length: > 0 } g ? g : null;
        return (At(0), At(1), At(2));
    }

    internal static string NormalizeNameGroup(string group) => group.Trim().TrimEnd('^', ' ').ToUpperInvariant();

    private static IndexQueryException BadValue(IndexAttribute attribute, string value, string expected) =>
        new($"{Describe(attribute)}: '{value}' is not {expected} (PS3.4 §C.2.2.2, PS3.5 §6.2 {attribute.VR.ToText()})");

    internal static string Describe(IndexAttribute attribute) => $"{attribute.Tag} {attribute.Keyword}";
}
