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

    /// <summary>Files whose text in a character set other than Latin-1 our <see cref="DicomCharacterSet"/> cannot
    /// decode yet (it is a Latin-1 stub until the character set work lands). For these, everything is compared
    /// with pydicom except the decoded strings of the charset-dependent VRs (SH, LO, ST, LT, UT, UC, PN): their
    /// bytes are still compared. Empty this list when the character set work is merged: the comparison is then
    /// strict for every file.</summary>
    public static readonly IReadOnlySet<string> PendingCharsetFiles = new HashSet<string>(StringComparer.Ordinal)
    {
        "charset_files/chrArab.dcm",                // ISO_IR 127 (Arabic)
        "charset_files/chrGreek.dcm",               // ISO_IR 126 (Greek)
        "charset_files/chrH31.dcm",                 // \ISO 2022 IR 87 (Japanese, escape sequences)
        "charset_files/chrH32.dcm",                 // ISO 2022 IR 13\ISO 2022 IR 87
        "charset_files/chrHbrw.dcm",                // ISO_IR 138 (Hebrew)
        "charset_files/chrI2.dcm",                  // \ISO 2022 IR 149 (Korean)
        "charset_files/chrJapMulti.dcm",            // ISO 2022 IR 87 and 159
        "charset_files/chrJapMultiExplicitIR6.dcm", // ISO 2022 IR 6\ISO 2022 IR 87\ISO 2022 IR 159
        "charset_files/chrKoreanMulti.dcm",         // \ISO 2022 IR 149
        "charset_files/chrRuss.dcm",                // ISO_IR 144 (Cyrillic)
        "charset_files/chrSQEncoding.dcm",          // ISO_IR 192, a sequence item in ISO 2022 IR 13\ISO 2022 IR 87
        "charset_files/chrSQEncoding1.dcm",         // ISO 2022 IR 13\ISO 2022 IR 87, inherited by a sequence item
        "charset_files/chrX1.dcm",                  // ISO_IR 192 (UTF-8)
        "charset_files/chrX2.dcm",                  // GB18030
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
