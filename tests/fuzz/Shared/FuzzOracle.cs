namespace Yingyun.Fuzz;

/// <summary>An invariant of a fuzz target does not hold (not an exception the library threw).</summary>
internal sealed class FuzzOracleException : Exception
{
    public FuzzOracleException() { }
    public FuzzOracleException(string message) : base(message) { }
    public FuzzOracleException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Names a crash for grouping, the same way in the harnesses (tests/fuzz) and the regression tests.</summary>
internal static class CrashSignature
{
    /// <summary>The exception type (or the broken invariant's first words) and the first stack frame in the library
    /// under test, i.e. in a namespace starting with one of <paramref name="libraryPrefixes"/> but not in a
    /// harness (".Fuzz."); line numbers dropped, since an instrumented assembly has none. A broken invariant that
    /// wraps an exception is placed by that exception's frames.</summary>
    public static string Of(Exception e, params string[] libraryPrefixes)
    {
        var inner = e is FuzzOracleException { InnerException: { } i } ? i : e;
        string frame = "";
        foreach (var raw in (inner.StackTrace ?? "").Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith("at ", StringComparison.Ordinal) || line.Contains(".Fuzz.", StringComparison.Ordinal)) continue;
            if (!libraryPrefixes.Any(p => line.AsSpan(3).StartsWith(p, StringComparison.Ordinal))) continue;
            int cut = line.IndexOf(" in ", StringComparison.Ordinal);
            frame = (cut > 0 ? line[..cut] : line)[3..];
            break;
        }
        string what = e is FuzzOracleException ? $"{nameof(FuzzOracleException)}: {FirstLine(e.Message)}" : inner.GetType().FullName ?? "?";
        return frame.Length > 0 ? $"{what} at {frame}" : what;
    }

    private static string FirstLine(string s)
    {
        int n = s.IndexOfAny(['\r', '\n', ':']);
        return n < 0 ? s : s[..n];
    }
}
