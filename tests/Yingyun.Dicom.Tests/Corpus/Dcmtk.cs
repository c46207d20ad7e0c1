using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Yingyun.Dicom.Tests.Corpus;

/// <summary>DCMTK's dcmdump (Debian package dcmtk) as a second, independent parser of what we write.</summary>
public static partial class Dcmtk
{
    private const string InstallHint = "install DCMTK: apt-get install -y dcmtk";

    /// <summary>One file's part of a dcmdump run.</summary>
    public sealed record DumpResult(string Path, string Output)
    {
        /// <summary>Element lines of the data set (not the File Meta Information), items and delimiters
        /// included, group lengths (gggg,0000) excluded: our writer drops those by design.</summary>
        public int DataSetElementCount => CountDataSetElements(Output);
    }

    /// <summary>Runs one dcmdump over <paramref name="paths"/> (+F: a header line per file) and returns the exit code,
    /// stderr and each file's part of stdout.</summary>
    public static (int ExitCode, string Errors, IReadOnlyList<DumpResult> Files) Dump(IReadOnlyList<string> paths)
    {
        var psi = new ProcessStartInfo("dcmdump")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("+F");
        foreach (var p in paths) psi.ArgumentList.Add(p);
        Process p2;
        try
        {
            p2 = Process.Start(psi) ?? throw new InvalidOperationException("dcmdump did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"dcmdump is missing ({InstallHint})", e);
        }
        using var process = p2;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        var output = stdout.GetAwaiter().GetResult();
        var files = new List<DumpResult>();
        // "# dcmdump (1/3): path" starts each file's part.
        var headers = FileHeader().Matches(output);
        for (int i = 0; i < headers.Count; i++)
        {
            int start = headers[i].Index + headers[i].Length;
            int end = i + 1 < headers.Count ? headers[i + 1].Index : output.Length;
            files.Add(new DumpResult(headers[i].Groups[1].Value.TrimEnd('\r'), output[start..end]));
        }
        if (paths.Count == 1 && headers.Count == 0) files.Add(new DumpResult(paths[0], output));
        return (process.ExitCode, stderr.GetAwaiter().GetResult(), files);
    }

    /// <summary>"E:" lines: what dcmdump calls errors (warnings are "W:").</summary>
    public static IEnumerable<string> ErrorLines(string stderr) =>
        stderr.Split('\n').Where(l => l.StartsWith("E:", StringComparison.Ordinal));

    public static int CountDataSetElements(string dump)
    {
        int at = dump.IndexOf("# Dicom-Data-Set", StringComparison.Ordinal);
        if (at < 0) return 0;
        int n = 0;
        foreach (var line in dump[at..].Split('\n'))
        {
            var m = ElementLine().Match(line);
            if (m.Success && m.Groups[2].Value != "0000") n++;
        }
        return n;
    }

    [GeneratedRegex(@"^# dcmdump \(\d+/\d+\): (.*)$", RegexOptions.Multiline)]
    private static partial Regex FileHeader();

    [GeneratedRegex(@"^\s*\(([0-9a-f]{4}),([0-9a-f]{4})\) ")]
    private static partial Regex ElementLine();
}
