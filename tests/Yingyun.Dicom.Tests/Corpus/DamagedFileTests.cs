namespace Yingyun.Dicom.Tests.Corpus;

/// <summary>The corpus files damaged on purpose (<see cref="CorpusFiles.Damaged"/>): which problems we report, where,
/// and what we still read, compared with what pydicom and DCMTK make of the same bytes.</summary>
public class DamagedFileTests
{
    /// <summary>CT_small.dcm's data set without File Meta Information, starting one byte early (on the last padding
    /// byte of CT_small's meta). Every reader takes the first four bytes as tag (0820,0500) and its length as
    /// 173,228,800: pydicom keeps the rest of the file as that element's value, DCMTK stops, we stop without
    /// keeping anything (and without allocating 173 MB).</summary>
    [Fact]
    public async Task No_meta_reports_the_impossible_length_at_offset_0()
    {
        string path = CorpusFiles.FullPath("test_files/no_meta.dcm");
        var ours = await DicomReader.OpenAsync(path);

        var fatal = ours.Problems.Should().ContainSingle(p => p.IsFatal).Subject;
        fatal.Offset.Should().Be(0);
        fatal.Tag.Should().Be(new DicomTag(0x0820, 0x0500));
        fatal.Message.Should().Contain("173228800");
        ours.Dataset.Count.Should().Be(0);
        ours.FileMetaInformation.Count.Should().Be(0);
        ours.Preamble.Should().BeNull();

        var theirs = CorpusFiles.PydicomDump("test_files/no_meta.dcm");
        theirs.Dataset.Select(e => e.Tag).Should().Equal(new DicomTag(0x0820, 0x0500));
        theirs.Dataset[0].Bytes!.Length.Should().BeLessThan(173228800, "pydicom keeps what there is");

        var (_, errors, _) = Dcmtk.Dump([path]);
        Dcmtk.ErrorLines(errors).Should().Contain(l => l.Contains("(0820,0500)", StringComparison.Ordinal));
    }

    /// <summary>What follows the stray byte is intact: read from there, it is CT_small.dcm's data set, element for
    /// element as pydicom reads CT_small.dcm.</summary>
    [Fact]
    public async Task No_meta_after_its_first_byte_is_CT_small()
    {
        var bytes = await File.ReadAllBytesAsync(CorpusFiles.FullPath("test_files/no_meta.dcm"));
        var ours = DicomReader.Read(bytes.AsMemory(1));

        ours.Problems.Should().BeEmpty();
        ours.TransferSyntax.Should().Be(DicomTransferSyntax.ExplicitVRLittleEndian, "the reader recognises explicit VR little endian from the first element");
        var differences = await PydicomComparison.CompareDatasetAsync(ours.Dataset, CorpusFiles.PydicomDump("test_files/CT_small.dcm").Dataset);
        differences.Should().BeEmpty(string.Join('\n', differences.Take(20)));
    }

    /// <summary>MR_small.dcm cut 62 bytes before the end of Pixel Data. One fatal problem at Pixel Data; every other
    /// element reads as pydicom reads it. pydicom keeps the 8,130 of 8,192 bytes that are there; we keep no part
    /// of a truncated value (a partial image would be taken for a whole one, and written back as one).</summary>
    [Fact]
    public async Task MR_truncated_loses_only_pixel_data()
    {
        string path = CorpusFiles.FullPath("test_files/MR_truncated.dcm");
        var ours = await DicomReader.OpenAsync(path);

        var problem = ours.Problems.Should().ContainSingle().Subject;
        problem.IsFatal.Should().BeTrue();
        problem.Offset.Should().Be(1488);
        problem.Tag.Should().Be(DicomTag.PixelDataTag);
        problem.Message.Should().Contain("8192").And.Contain("8130");
        ours.Dataset.Contains(DicomTag.PixelDataTag).Should().BeFalse();

        var theirs = CorpusFiles.PydicomDump("test_files/MR_truncated.dcm");
        theirs.Dataset.Single(e => e.Tag == DicomTag.PixelDataTag).Pixel!.Length.Should().Be(8130);
        var differences = await PydicomComparison.CompareAsync(ours, new Support.PydicomFile
        {
            Meta = theirs.Meta,
            Dataset = PydicomComparison.Without(theirs.Dataset, DicomTag.PixelDataTag),
        });
        differences.Should().BeEmpty(string.Join('\n', differences.Take(20)));

        // The same elements as the intact file, up to Pixel Data.
        var intact = await DicomReader.OpenAsync(CorpusFiles.FullPath("test_files/MR_small.dcm"));
        intact.Dataset.RemoveAll(i => i.Tag >= DicomTag.PixelDataTag);
        (await Support.DatasetComparer.CompareAsync(intact.Dataset, ours.Dataset)).Should().BeEmpty();

        var (_, errors, _) = Dcmtk.Dump([path]);
        Dcmtk.ErrorLines(errors).Should().Contain(l => l.Contains("(7fe0,0010)", StringComparison.Ordinal));
    }

    /// <summary>rtplan.dcm cut inside Isocenter Position (300A,012C), four sequence levels deep. The enclosing
    /// sequences and items declare lengths that run past the end (reported, not fatal); the cut value is fatal.
    /// Everything pydicom reads we read, equal, except that cut value (pydicom keeps 29 of its 50 bytes).</summary>
    [Fact]
    public async Task Rtplan_truncated_reads_everything_but_the_cut_value()
    {
        string path = CorpusFiles.FullPath("test_files/rtplan_truncated.dcm");
        var ours = await DicomReader.OpenAsync(path);

        ours.Problems.Select(p => (p.Offset, p.Tag, p.IsFatal)).Should().Equal(
            (1410L, new DicomTag(0x300A, 0x00B0), false),  // Beam Sequence: length 976, 711 bytes left
            (1418L, DicomTag.Item, false),                  // its item
            (1770L, new DicomTag(0x300A, 0x0111), false),  // Control Point Sequence
            (1778L, DicomTag.Item, false),                  // its item
            (2092L, new DicomTag(0x300A, 0x012C), true));  // Isocenter Position: 50 bytes declared, 29 left
        ours.Problems[^1].Message.Should().Contain("50").And.Contain("29");

        var theirs = CorpusFiles.PydicomDump("test_files/rtplan_truncated.dcm");
        var isocenter = new DicomTag(0x300A, 0x012C);
        var differences = await PydicomComparison.CompareAsync(ours, new Support.PydicomFile
        {
            Meta = theirs.Meta,
            Dataset = PydicomComparison.Without(theirs.Dataset, isocenter),
        });
        differences.Should().BeEmpty(string.Join('\n', differences.Take(20)));

        // The cut item still holds everything before the cut value.
        var beam = ours.Dataset[new DicomTag(0x300A, 0x00B0)].Should().BeOfType<DicomSequence>().Subject;
        var controlPoint = beam.Items[0][new DicomTag(0x300A, 0x0111)].Should().BeOfType<DicomSequence>().Subject;
        controlPoint.Items[0].Contains(new DicomTag(0x300A, 0x012A)).Should().BeTrue();
        controlPoint.Items[0].Contains(isocenter).Should().BeFalse();

        var (_, errors, _) = Dcmtk.Dump([path]);
        Dcmtk.ErrorLines(errors).Should().Contain(l => l.Contains("(300a,012c)", StringComparison.Ordinal));
    }
}
