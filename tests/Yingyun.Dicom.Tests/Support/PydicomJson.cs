using System.Diagnostics;
using System.Text.Json;

namespace Yingyun.Dicom.Tests.Support;

/// <summary>What Debian's pydicom (package python3-pydicom, 2.3) makes of a file with
/// <c>Dataset.to_json_dict(bulk_data_threshold=1024, bulk_data_element_handler=lambda e: "bulk")</c>, the reference
/// for <see cref="DicomJsonWriter"/>. Runs Debian's interpreter, <see cref="Python"/>: the <c>python3</c> first on
/// PATH may be another one without pydicom. One process answers for many files.</summary>
internal static class PydicomJson
{
    public const string Python = "/usr/bin/python3";

    /// <summary>What pydicom's handler returns for every value over the threshold.</summary>
    public const string BulkDataUri = "bulk";

    /// <summary>Base64 length over which pydicom calls the handler (its threshold applies to the base64 text).</summary>
    public const int BulkDataThreshold = 1024;

    // One JSON line per file: {"file": ..., "json": {...}} or {"file": ..., "error": "..."}. pydicom writes NaN and
    // infinite floats as the bare words NaN / Infinity, which JSON does not have; they become the strings that
    // DicomJsonWriter writes for them, so that a comparison can still be made.
    private const string Script = """
        import sys, json, math, traceback
        import pydicom

        def finite(v):
            if isinstance(v, float) and not math.isfinite(v):
                return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
            if isinstance(v, dict):
                return {k: finite(x) for k, x in v.items()}
            if isinstance(v, list):
                return [finite(x) for x in v]
            return v

        if sys.argv[1] == "--data-dir":
            import os
            print(os.path.join(os.path.dirname(pydicom.__file__), "data"))
            sys.exit(0)
        for path in sys.argv[1:]:
            try:
                ds = pydicom.dcmread(path, force=True)
                d = ds.to_json_dict(bulk_data_threshold=1024, bulk_data_element_handler=lambda e: "bulk")
                print(json.dumps({"file": path, "json": finite(d)}))
            except Exception as e:
                print(json.dumps({"file": path, "error": "".join(traceback.format_exception_only(type(e), e)).strip()}))
        """;

    /// <summary>pydicom's data folder (holding test_files/ and charset_files/), asked of pydicom itself.</summary>
    public static string DataDirectory => DataDirectoryLazy.Value;

    private static readonly Lazy<string> DataDirectoryLazy = new(() => Run(["--data-dir"]).Trim());

    /// <summary>The corpus: every .dcm of pydicom's test_files/ and charset_files/, as (folder/name, full path).</summary>
    public static IReadOnlyList<(string Name, string Path)> CorpusFiles => CorpusLazy.Value;

    private static readonly Lazy<IReadOnlyList<(string, string)>> CorpusLazy = new(() =>
        new[] { "test_files", "charset_files" }
            .SelectMany(folder => Directory.GetFiles(System.IO.Path.Combine(DataDirectory, folder), "*.dcm")
                .Select(p => (folder + "/" + System.IO.Path.GetFileName(p), p)))
            .OrderBy(f => f.Item1, StringComparer.Ordinal)
            .ToList());

    /// <summary>pydicom's JSON for every corpus file, or its error message, by corpus name.</summary>
    public static IReadOnlyDictionary<string, PydicomResult> Corpus => CorpusResults.Value;

    private static readonly Lazy<IReadOnlyDictionary<string, PydicomResult>> CorpusResults = new(() =>
    {
        var byPath = ToJsonDicts(CorpusFiles.Select(f => f.Path).ToList());
        return CorpusFiles.ToDictionary(f => f.Name, f => byPath[f.Path]);
    });

    /// <summary>Runs pydicom once over <paramref name="paths"/>.</summary>
    public static Dictionary<string, PydicomResult> ToJsonDicts(IReadOnlyList<string> paths)
    {
        var output = Run(paths);
        var results = new Dictionary<string, PydicomResult>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            string file = root.GetProperty("file").GetString()!;
            results[file] = root.TryGetProperty("json", out var json)
                ? new PydicomResult(json.GetRawText(), null)
                : new PydicomResult(null, root.GetProperty("error").GetString());
        }
        foreach (var p in paths)
            if (!results.ContainsKey(p)) throw new InvalidOperationException($"pydicom gave no answer for {p}");
        return results;
    }

    private static string Run(IReadOnlyList<string> args)
    {
        if (!File.Exists(Python))
            throw new InvalidOperationException($"{Python} is missing: these tests need Debian's python3 and python3-pydicom (apt-get install python3-pydicom)");
        var psi = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // pydicom logs warnings about odd files on stderr; read both streams so that neither pipe fills up.
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Python} with pydicom failed ({process.ExitCode}): {stderr.Result.Trim()} (is python3-pydicom installed?)");
        return stdout;
    }
}

/// <summary>pydicom's JSON text for a file, or the error it raised.</summary>
internal sealed record PydicomResult(string? Json, string? Error);
