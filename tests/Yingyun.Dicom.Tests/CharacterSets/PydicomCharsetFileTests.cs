using Xunit.Abstractions;

namespace Yingyun.Dicom.Tests.CharacterSets;

/// <summary>Decodes every text element of pydicom's character set test files and compares with pydicom.</summary>
public class PydicomCharsetFileTests(ITestOutputHelper output)
{
    private static readonly string[] Names =
    [
        "chrArab.dcm", "chrFren.dcm", "chrFrenMulti.dcm", "chrGerm.dcm", "chrGreek.dcm", "chrH31.dcm", "chrH32.dcm",
        "chrHbrw.dcm", "chrI2.dcm", "chrJapMulti.dcm", "chrJapMultiExplicitIR6.dcm", "chrKoreanMulti.dcm", "chrRuss.dcm",
        "chrSQEncoding.dcm", "chrSQEncoding1.dcm", "chrX1.dcm", "chrX2.dcm",
    ];

    public static TheoryData<string> FileNames => new(Names);

    [Fact]
    public void Every_charset_file_pydicom_ships_is_covered()
    {
        PydicomCharsetFiles.All.Keys.Should().BeEquivalentTo(Names);
    }

    [Theory]
    [MemberData(nameof(FileNames))]
    public void Decodes_like_pydicom(string fileName)
    {
        var elements = PydicomCharsetFiles.All[fileName];
        // Each file has a Patient's Name in a non-ASCII script, so the comparison is never only ASCII.
        elements.Should().Contain(e => e.Path == "00100010" || e.Path.EndsWith("/00100010", StringComparison.Ordinal));
        var mismatches = new List<string>();
        foreach (var e in elements)
        {
            var vr = DicomVRInfo.Parse(e.VR);
            var characterSet = DicomCharacterSet.FromSpecificCharacterSet(e.Terms);
            var text = characterSet.Decode(e.Raw, vr);
            var ours = Normalize(vr.IsSingleValuedText() ? [text] : text.Split('\\'), vr);
            var theirs = Normalize(e.Values, vr);
            if (!ours.SequenceEqual(theirs))
                mismatches.Add($"{e.Path} {e.VR} [{string.Join('\\', e.Terms)}]: ours '{string.Join(" | ", ours)}', pydicom '{string.Join(" | ", theirs)}'");

            // The files are conformant, so strict decoding must agree and find nothing to report.
            if (!characterSet.TryDecodeStrict(e.Raw, vr, out var strictText, out var error) || strictText != text)
                mismatches.Add($"{e.Path} {e.VR}: strict decoding failed: {error}");
        }
        mismatches.Should().BeEmpty();
        output.WriteLine($"{fileName}: {elements.Length} elements decode as pydicom does: {string.Join(", ", elements.Select(e => $"{e.Path} {e.VR}"))}");
    }

    [Theory]
    [MemberData(nameof(FileNames))]
    public void Reencodes_what_it_decoded(string fileName)
    {
        foreach (var e in PydicomCharsetFiles.All[fileName])
        {
            var vr = DicomVRInfo.Parse(e.VR);
            var characterSet = DicomCharacterSet.FromSpecificCharacterSet(e.Terms);
            var text = characterSet.Decode(e.Raw, vr);
            characterSet.TryEncode(text, vr, out var bytes).Should().BeTrue(e.Path);
            characterSet.Decode(bytes, vr).Should().Be(text, e.Path);
        }
    }

    [Fact]
    public void Reproduces_the_escape_sequences_of_the_Japanese_and_Korean_files()
    {
        // These Patient's Names follow PS3.5 Annex H and I exactly; the encoder must write the same bytes
        // (only the trailing padding differs).
        foreach (var fileName in new[] { "chrH31.dcm", "chrH32.dcm", "chrI2.dcm" })
        {
            var name = PydicomCharsetFiles.All[fileName].Single(e => e.Path == "00100010");
            var characterSet = DicomCharacterSet.FromSpecificCharacterSet(name.Terms);
            var text = characterSet.Decode(name.Raw, DicomVR.PN);
            characterSet.Encode(text, DicomVR.PN).Should().Equal(name.Raw.AsSpan().TrimEnd((byte)' ').ToArray(), fileName);
        }
    }

    private static string[] Normalize(IEnumerable<string> values, DicomVR vr)
    {
        // Padding and trailing spaces are insignificant (PS3.5 Table 6.2-1); leading ones too outside the
        // text VRs. pydicom drops empty trailing PN component groups ("Wang^XiaoDong=王^小东=").
        var result = values.Select(v =>
        {
            var s = vr.IsCharacterSetDependent() ? v.TrimEnd(' ', '\0') : v.Trim(' ', '\0');
            return vr == DicomVR.PN ? s.TrimEnd('=') : s;
        }).ToArray();
        return result is [""] ? [] : result;
    }
}
