using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Yingyun.Dicom.Tests.Support;

/// <summary>Runs Debian's pydicom (package python3-pydicom) over DICOM files and returns what it read, as an
/// independent oracle for the reader. Uses <c>/usr/bin/python3</c> on purpose: a <c>python3</c> earlier on PATH
/// (pyenv, a virtualenv) does not see the Debian package. The dump script is <c>pydicom_dump.py</c>, copied
/// next to the test assembly.</summary>
public static class Pydicom
{
    public const string Python = "/usr/bin/python3";
    private const string InstallHint = "install Debian's pydicom: apt-get install -y python3-pydicom";

    private static readonly Lazy<(string DataDirectory, string Version)> InfoLazy = new(ReadInfo);

    /// <summary>pydicom's bundled test data (test_files/, charset_files/), as the installed package has it.</summary>
    public static string DataDirectory => InfoLazy.Value.DataDirectory;

    public static string Version => InfoLazy.Value.Version;

    public static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "Support", "pydicom_dump.py");

    private static (string, string) ReadInfo()
    {
        var (code, stdout, stderr) = Run(["--data-dir"], stdin: null);
        if (code != 0)
            throw new InvalidOperationException($"{Python} could not import pydicom ({InstallHint}): {stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return (lines[0], lines.Length > 1 ? lines[1] : "?");
    }

    /// <summary>Dumps every file in one Python process (a JSON file each, in a temporary directory that is
    /// removed afterwards). Keys are the paths as given.</summary>
    public static IReadOnlyDictionary<string, PydicomFile> DumpAll(IReadOnlyList<string> paths)
    {
        string outDir = Path.Combine(Path.GetTempPath(), "yingyun-pydicom-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, _, stderr) = Run([outDir], string.Join('\n', paths) + "\n");
            if (code != 0)
                throw new InvalidOperationException($"pydicom dump failed with exit code {code} ({InstallHint}): {stderr}");
            var result = new Dictionary<string, PydicomFile>(StringComparer.Ordinal);
            for (int i = 0; i < paths.Count; i++)
            {
                var json = File.ReadAllBytes(Path.Combine(outDir, i.ToString(CultureInfo.InvariantCulture) + ".json"));
                var file = JsonSerializer.Deserialize<PydicomFile>(json, JsonOptions)
                    ?? throw new InvalidOperationException($"empty pydicom dump for {paths[i]}");
                result[file.Path] = file;
            }
            return result;
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    private static (int Code, string Stdout, string Stderr) Run(IEnumerable<string> args, string? stdin)
    {
        if (!File.Exists(Python))
            throw new InvalidOperationException($"{Python} is missing ({InstallHint})");
        var psi = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-I"); // isolated: no user site-packages, no PYTHON* variables
        psi.ArgumentList.Add(ScriptPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Python}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        p.WaitForExit();
        return (p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}

/// <summary>One file as pydicom read it (see pydicom_dump.py for the fields).</summary>
public sealed class PydicomFile
{
    public string Path { get; init; } = "";
    public bool Ok { get; init; }
    public string? Error { get; init; }
    public bool Preamble { get; init; }
    public bool? IsLittleEndian { get; init; }
    public bool? IsImplicitVr { get; init; }
    public string? TransferSyntax { get; init; }
    public List<PydicomElement> Meta { get; init; } = [];
    public List<PydicomElement> Dataset { get; init; } = [];
    public List<string> Warnings { get; init; } = [];
}

public sealed record PydicomElement
{
    [JsonPropertyName("tag")]
    public string TagHex { get; init; } = "";
    [JsonIgnore]
    public DicomTag Tag => new(uint.Parse(TagHex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
    /// <summary>The VR pydicom settled on; "US or SS" style when it could not decide.</summary>
    public string? Vr { get; init; }
    /// <summary>The VR as encoded; null in implicit VR.</summary>
    public string? RawVr { get; init; }
    /// <summary>The VR(s) of pydicom's dictionary; null for private and unknown tags.</summary>
    public string? DictVr { get; init; }
    public int? Vm { get; init; }
    /// <summary>Whether <see cref="Bytes"/> are little endian (false: as read from a big endian data set).</summary>
    public bool Le { get; init; } = true;
    public bool UndefinedLength { get; init; }
    /// <summary>pydicom had converted the element while reading the file, so its raw bytes were gone and
    /// <see cref="Bytes"/> were encoded again from the value.</summary>
    public bool Converted { get; init; }
    public byte[]? Bytes { get; init; }
    public List<string>? Text { get; init; }
    public List<List<PydicomElement>>? Items { get; init; }
    public PydicomPixel? Pixel { get; init; }
    public string? Error { get; init; }
    public string? TextError { get; init; }

    public override string ToString() => $"{Tag} {Vr}";
}

public sealed class PydicomPixel
{
    public long Length { get; init; }
    public string Sha256 { get; init; } = "";
    /// <summary>Hash of the value swapped to little endian by its VR's unit (equal to <see cref="Sha256"/> for
    /// little endian data sets).</summary>
    public string Sha256Le { get; init; } = "";
    public PydicomBlob? OffsetTable { get; init; }
    public List<PydicomBlob>? Fragments { get; init; }
    public string? FragmentsError { get; init; }
}

public sealed class PydicomBlob
{
    public long Length { get; init; }
    public string Sha256 { get; init; } = "";
}
