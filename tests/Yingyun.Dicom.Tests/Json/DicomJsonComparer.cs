using System.Globalization;
using System.Text.Json;

namespace Yingyun.Dicom.Tests.Json;

/// <summary>Compares two DICOM JSON documents attribute by attribute, and says where they differ by tag path.</summary>
internal static class DicomJsonComparer
{
    /// <summary>How to compare.</summary>
    /// <param name="ExpectedIsPydicom">The expected side is pydicom 2.3's <c>to_json_dict</c>: its departures from
    /// PS3.18 are mapped to the standard's form first (group lengths, empty values as "", untrimmed values, empty Person Name groups, sequences without items as "Value": []).</param>
    /// <param name="AnyBulkData">Large values: a "BulkDataURI" on either side matches a "BulkDataURI" or an
    /// "InlineBinary" on the other (the two sides chose different thresholds); the actual URI must then satisfy
    /// <paramref name="ActualUriCheck"/>, given the attribute's path.</param>
    /// <param name="PydicomRetypesUN">Skip attributes that the actual side writes as UN and the expected side with
    /// another VR: pydicom re-types elements encoded as UN from its dictionaries (its config.replace_un_with_known_vr,
    /// and its private dictionary for implicit VR private elements); DicomReader keeps the VR as encoded. The count of
    /// skipped attributes is <see cref="Result.SkippedUN"/>.</param>
    public sealed record Options(bool ExpectedIsPydicom, bool AnyBulkData = false, Func<string, string, bool>? ActualUriCheck = null, bool PydicomRetypesUN = false);

    public sealed class Result
    {
        public List<string> Differences { get; } = [];
        public int SkippedUN { get; set; }
    }

    public static List<string> Compare(string expectedJson, string actualJson, Options options) =>
        CompareWithResult(expectedJson, actualJson, options).Differences;

    public static Result CompareWithResult(string expectedJson, string actualJson, Options options)
    {
        using var expected = JsonDocument.Parse(expectedJson);
        using var actual = JsonDocument.Parse(actualJson);
        var result = new Result();
        CompareDataset(expected.RootElement, actual.RootElement, "", options, result);
        return result;
    }

    private static void CompareDataset(JsonElement expected, JsonElement actual, string path, Options options, Result result)
    {
        var e = expected.EnumerateObject().Where(p => !(options.ExpectedIsPydicom && IsGroupLength(p.Name))).ToDictionary(p => p.Name, p => p.Value);
        var a = actual.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        foreach (var key in e.Keys.Except(a.Keys).Order(StringComparer.Ordinal))
            result.Differences.Add($"{path}{key}: missing (expected {Show(e[key])})");
        foreach (var key in a.Keys.Except(e.Keys).Order(StringComparer.Ordinal))
            result.Differences.Add($"{path}{key}: not expected (got {Show(a[key])})");
        // PS3.18 §F.2.2: attributes in ascending tag order.
        var names = actual.EnumerateObject().Select(p => p.Name).ToList();
        if (!names.SequenceEqual(names.Order(StringComparer.Ordinal)))
            result.Differences.Add($"{path}: attributes are not in ascending order");
        foreach (var key in e.Keys.Intersect(a.Keys).Order(StringComparer.Ordinal))
            CompareAttribute(e[key], a[key], path + key, options, result);
    }

    // PS3.18 §F.2.2 leaves group lengths out; pydicom 2.3 writes them.
    private static bool IsGroupLength(string key) => key.Length == 8 && key.EndsWith("0000", StringComparison.Ordinal);

    private static void CompareAttribute(JsonElement expected, JsonElement actual, string path, Options options, Result result)
    {
        string vr = expected.GetProperty("vr").GetString()!;
        string actualVR = actual.TryGetProperty("vr", out var v) ? v.GetString()! : "(none)";
        if (vr != actualVR && actualVR == "UN" && options.PydicomRetypesUN)
        {
            result.SkippedUN++;
            return;
        }
        if (vr != actualVR)
        {
            result.Differences.Add($"{path}: vr {actualVR}, expected {vr} (expected {Show(expected)}, got {Show(actual)})");
            return;
        }
        var (eKind, eValue) = ValueOf(expected, vr, options.ExpectedIsPydicom);
        var (aKind, aValue) = ValueOf(actual, vr, false);
        if (options.AnyBulkData && (eKind == "BulkDataURI" || aKind == "BulkDataURI") && eKind is "BulkDataURI" or "InlineBinary" && aKind is "BulkDataURI" or "InlineBinary")
        {
            if (aKind == "BulkDataURI" && options.ActualUriCheck is { } check && !check(path, aValue.GetString()!))
                result.Differences.Add($"{path} ({vr}): unexpected BulkDataURI {aValue.GetString()}");
            return;
        }
        if (eKind != aKind)
        {
            result.Differences.Add($"{path} ({vr}): {aKind}, expected {eKind} (expected {Show(expected)}, got {Show(actual)})");
            return;
        }
        switch (eKind)
        {
            case "none":
                return;
            case "BulkDataURI" or "InlineBinary":
                if (eValue.GetString() != aValue.GetString())
                    result.Differences.Add($"{path} ({vr}): {eKind} differs: expected {Show(eValue)}, got {Show(aValue)}");
                return;
        }
        var e = eValue.EnumerateArray().ToList();
        var a = aValue.EnumerateArray().ToList();
        if (e.Count != a.Count)
        {
            result.Differences.Add($"{path} ({vr}): {a.Count} values, expected {e.Count} (expected {Show(eValue)}, got {Show(aValue)})");
            return;
        }
        for (int i = 0; i < e.Count; i++)
        {
            if (vr == "SQ")
            {
                if (e[i].ValueKind != JsonValueKind.Object || a[i].ValueKind != JsonValueKind.Object)
                    result.Differences.Add($"{path}/{i}: item is not an object");
                else
                    CompareDataset(e[i], a[i], $"{path}/{i}/", options, result);
                continue;
            }
            if (!SameValue(e[i], a[i], vr, options.ExpectedIsPydicom))
                result.Differences.Add($"{path} ({vr}) value {i}: expected {Show(e[i])}, got {Show(a[i])}");
        }
    }

    /// <summary>Which of "Value", "InlineBinary", "BulkDataURI" (or "none") the attribute has.</summary>
    private static (string Kind, JsonElement Value) ValueOf(JsonElement attribute, string vr, bool pydicom)
    {
        foreach (var kind in (string[])["Value", "InlineBinary", "BulkDataURI"])
        {
            if (!attribute.TryGetProperty(kind, out var value)) continue;
            // pydicom writes a sequence without items as "Value": []; PS3.18 §F.2.5 leaves "Value" out.
            if (pydicom && kind == "Value" && vr == "SQ" && value.GetArrayLength() == 0) return ("none", default);
            return (kind, value);
        }
        return ("none", default);
    }

    private static bool SameValue(JsonElement expected, JsonElement actual, string vr, bool pydicom)
    {
        if (vr == "PN") return NormalizePersonName(expected, pydicom) == NormalizePersonName(actual, false);
        if (pydicom && expected.ValueKind == JsonValueKind.String)
        {
            string s = PydicomString(vr, expected.GetString()!);
            // pydicom writes an empty value among several as ""; PS3.18 §F.2.5 says null.
            if (s.Length == 0) return actual.ValueKind == JsonValueKind.Null;
            return actual.ValueKind == JsonValueKind.String && actual.GetString() == s;
        }
        if (expected.ValueKind == JsonValueKind.Number && actual.ValueKind == JsonValueKind.Number)
        {
            double e = expected.GetDouble(), a = actual.GetDouble();
            // FL: pydicom widens the float to a double and prints all its digits ("0.30000001192092896"),
            // DicomJsonWriter prints the float's own shortest form ("0.3"); both are the same float.
            if (vr is "FL") return (float)e == (float)a;
            // DS: each side may format the decimal differently; the values must agree to double precision.
            return e == a || Math.Abs(e - a) <= 1e-15 * Math.Max(Math.Abs(e), Math.Abs(a));
        }
        if (expected.ValueKind != actual.ValueKind) return false;
        return expected.ValueKind switch
        {
            JsonValueKind.String => expected.GetString() == actual.GetString(),
            JsonValueKind.Null => true,
            _ => expected.GetRawText() == actual.GetRawText(),
        };
    }

    /// <summary>pydicom trims only the padding of the whole value (and of each SH, LO and UC value); PS3.5 Table 6.2-1
    /// makes trailing spaces of every value insignificant, and leading spaces too for AE, CS, DS, IS, SH and LO, and
    /// DicomJsonWriter trims them per value.</summary>
    private static string PydicomString(string vr, string s)
    {
        if (vr is "LT" or "ST" or "UT" or "UR") return s;
        s = s.TrimEnd(' ');
        return vr is "AE" or "CS" or "DS" or "IS" or "SH" or "LO" ? s.TrimStart(' ') : s;
    }

    /// <summary>A Person Name as "A=I=P" with empty groups left out; null for an empty name. pydicom writes empty
    /// groups as "" (PS3.18 §F.2.2 leaves them out).</summary>
    private static string? NormalizePersonName(JsonElement value, bool pydicom)
    {
        if (value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String) return pydicom && value.GetString()!.Length == 0 ? null : "string:" + value.GetString();
        if (value.ValueKind != JsonValueKind.Object) return "?" + value.GetRawText();
        var groups = new List<string>();
        foreach (var name in (string[])["Alphabetic", "Ideographic", "Phonetic"])
            if (value.TryGetProperty(name, out var g) && g.GetString() is { Length: > 0 } s) groups.Add(name + ":" + s);
        foreach (var p in value.EnumerateObject())
            if (p.Name is not ("Alphabetic" or "Ideographic" or "Phonetic")) groups.Add("unknown:" + p.Name);
        return groups.Count == 0 ? null : string.Join("=", groups);
    }

    private static string Show(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Undefined) return "nothing";
        string s = e.GetRawText();
        return s.Length > 160 ? s[..160] + "…" : s;
    }

    public static string Format(string file, IReadOnlyList<string> differences, int max = 25) =>
        $"{file}: {differences.Count} difference(s)\n  " + string.Join("\n  ", differences.Take(max)) +
        (differences.Count > max ? string.Create(CultureInfo.InvariantCulture, $"\n  … and {differences.Count - max} more") : "");
}
