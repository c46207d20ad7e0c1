using Yingyun.Dicom.Tests.Support;

namespace Yingyun.Dicom.Tests.Corpus;

/// <summary>pydicom's bundled files (test_files/*.dcm, test_files/dicomdirtests/**, charset_files/*.dcm): DICOM
/// written by many tools that nobody here wrote. Names are relative to pydicom's data directory, with '/'.</summary>
public static class CorpusFiles
{
    /// <summary>Files damaged on purpose: each has its own assertions in <see cref="DamagedFileTests"/>, and the
    /// element-by-element comparison with pydicom skips them (both readers give up somewhere, in different ways).</summary>
    public static readonly IReadOnlySet<string> Damaged = new HashSet<string>(StringComparer.Ordinal)
    {
        // CT_small.dcm without File Meta Information, and with a stray byte at the start: every reader
        // (pydicom, DCMTK, ours) sees an element (0820,0500) whose length runs far past the end.
        "test_files/no_meta.dcm",
        // MR_small.dcm cut inside Pixel Data.
        "test_files/MR_truncated.dcm",
        // rtplan.dcm cut inside a nested sequence.
        "test_files/rtplan_truncated.dcm",
    };

    /// <summary>Files whose text our <see cref="DicomCharacterSet"/> cannot decode as pydicom does yet. For these,
    /// everything is compared with pydicom except the decoded strings of the charset-dependent VRs (SH, LO, ST, LT,
    /// UT, UC, PN), whose bytes are still compared. It held the 14 non-Latin-1 files of charset_files/ while
    /// DicomCharacterSet was a Latin-1 stub; since the character set work merged it is empty and every file,
    /// every string, is compared strictly. Add a file here only with the reason, until the decoder catches up.</summary>
    public static readonly IReadOnlySet<string> PendingCharsetFiles = new HashSet<string>(StringComparer.Ordinal)
    {
    };

    private static readonly Lazy<IReadOnlyList<string>> AllLazy = new(List);
    private static readonly Lazy<IReadOnlyDictionary<string, PydicomFile>> DumpsLazy = new(DumpAll);

    public static IReadOnlyList<string> All => AllLazy.Value;

    public static string FullPath(string name) => Path.Combine(Pydicom.DataDirectory, name.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>What pydicom read from <paramref name="name"/>; all files are dumped by one Python process, once
    /// per test run.</summary>
    public static PydicomFile PydicomDump(string name) => DumpsLazy.Value[FullPath(name)];

    public static TheoryData<string> Intact => Data(All.Where(n => !Damaged.Contains(n)));

    public static TheoryData<string> Everything => Data(All);

    private static TheoryData<string> Data(IEnumerable<string> names)
    {
        var data = new TheoryData<string>();
        foreach (var n in names) data.Add(n);
        return data;
    }

    private static List<string> List()
    {
        string root = Pydicom.DataDirectory;
        var files = new List<string>();
        files.AddRange(Directory.GetFiles(Path.Combine(root, "test_files"), "*.dcm"));
        // Every file under dicomdirtests is DICOM (DICOMDIRs and the instances they list) except the READMEs
        // (TINY_ALPHA/README is the Python script that made that file-set).
        files.AddRange(Directory.GetFiles(Path.Combine(root, "test_files", "dicomdirtests"), "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith("README", StringComparison.Ordinal)));
        files.AddRange(Directory.GetFiles(Path.Combine(root, "charset_files"), "*.dcm"));
        var names = files.Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (names.Count < 150)
            throw new InvalidOperationException($"only {names.Count} files in pydicom's data at {root}: is python3-pydicom complete?");
        return names;
    }

    private static IReadOnlyDictionary<string, PydicomFile> DumpAll() =>
        Pydicom.DumpAll([.. All.Select(FullPath)]);
}
