using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Yingyun.Dicom.Tests.CharacterSets;

/// <summary>One text element of a pydicom test file: its raw value bytes and pydicom's reading of them.</summary>
public sealed record PydicomElement(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("vr")] string VR,
    [property: JsonPropertyName("terms")] string[] Terms,
    [property: JsonPropertyName("raw")] byte[] Raw,
    [property: JsonPropertyName("values")] string[] Values);

/// <summary>The character set test files that Debian's python3-pydicom ships (pydicom/data/charset_files, described
/// in its FileInfo.txt). Our own file reader is written elsewhere, so pydicom itself extracts, for every text
/// element of every data set and nested item, the raw value bytes, the Specific Character Set in force
/// (the item's own, else the enclosing one, PS3.5 §7.5.3) and its decoded values.</summary>
internal static class PydicomCharsetFiles
{
    // Debian's interpreter, which sees the python3-pydicom package (another python on PATH may not).
    private static string Python => Environment.GetEnvironmentVariable("YINGYUN_PYTHON") ?? "/usr/bin/python3";

    private const string Script = """
        import base64, glob, json, os, sys
        import pydicom
        from pydicom import dcmread
        from pydicom.dataelem import RawDataElement
        from pydicom.multival import MultiValue

        TEXT_VRS = {"SH", "LO", "UC", "ST", "LT", "UT", "PN", "AE", "AS", "CS", "DA", "DT", "TM", "UI", "UR"}

        def walk(ds, parent_terms, path, out):
            terms = parent_terms
            if 0x00080005 in ds:
                v = ds[0x00080005].value
                terms = [] if v is None else ([v] if isinstance(v, str) else [str(t) for t in v])
            for tag in sorted(ds.keys()):
                raw = ds._dict[tag]
                # Read the raw bytes before pydicom converts (and decodes) the element.
                raw_bytes = raw.value if isinstance(raw, RawDataElement) else None
                elem = ds[tag]
                if elem.VR == "SQ":
                    for i, item in enumerate(elem.value):
                        walk(item, terms, "%s%08X[%d]/" % (path, tag, i), out)
                    continue
                if elem.VR not in TEXT_VRS or raw_bytes is None:
                    continue
                value = elem.value
                if value is None or value == "":
                    values = []
                elif isinstance(value, MultiValue):
                    values = [str(v) for v in value]
                else:
                    values = [str(value)]
                out.append({"path": "%s%08X" % (path, tag), "vr": elem.VR, "terms": terms,
                            "raw": base64.b64encode(raw_bytes).decode("ascii"), "values": values})

        folder = os.path.join(os.path.dirname(pydicom.__file__), "data", "charset_files")
        result = {}
        for f in sorted(glob.glob(os.path.join(folder, "*.dcm"))):
            out = []
            walk(dcmread(f, defer_size=None), [], "", out)
            result[os.path.basename(f)] = out
        json.dump(result, sys.stdout)
        """;

    private static readonly Lazy<IReadOnlyDictionary<string, PydicomElement[]>> Files = new(Load);

    public static IReadOnlyDictionary<string, PydicomElement[]> All => Files.Value;

    private static Dictionary<string, PydicomElement[]> Load()
    {
        var start = new ProcessStartInfo(Python, "-")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["PYTHONWARNINGS"] = "ignore";
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"cannot start {Python}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        process.StandardInput.Write(Script);
        process.StandardInput.Close();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"{Python} with pydicom failed ({process.ExitCode}); install Debian's python3-pydicom. {stderr.Result}");
        return JsonSerializer.Deserialize<Dictionary<string, PydicomElement[]>>(stdout.Result)
            ?? throw new InvalidOperationException("pydicom produced no output");
    }
}
