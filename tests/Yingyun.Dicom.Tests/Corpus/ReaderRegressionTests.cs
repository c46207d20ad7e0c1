using System.Buffers.Binary;

namespace Yingyun.Dicom.Tests.Corpus;

/// <summary>Reader bugs found by the corpus and robustness tests, one regression test each.</summary>
public class ReaderRegressionTests
{
    /// <summary>With <see cref="DicomReaderOptions.MaxInMemoryValueLength"/> above 2 GB, a 4 GB length from a
    /// non-seekable stream was cast to int (negative) and threw ArgumentOutOfRangeException. The limit is now
    /// never above <see cref="Array.MaxLength"/>: the length is reported as a problem.</summary>
    [Fact]
    public async Task A_huge_length_is_a_problem_even_when_the_in_memory_limit_is_lifted()
    {
        var bytes = new byte[12 + 100];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, 0x0009);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), 0x1010);
        bytes[4] = (byte)'O';
        bytes[5] = (byte)'B';
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 0xFFFFFFF0);
        var options = new DicomReaderOptions { TransferSyntax = DicomTransferSyntax.ExplicitVRLittleEndian, MaxInMemoryValueLength = long.MaxValue };
        await using var stream = new NonSeekableStream(bytes);

        var file = await DicomReader.ReadAsync(stream, options);

        var problem = file.Problems.Should().ContainSingle().Subject;
        problem.IsFatal.Should().BeTrue();
        problem.Tag.Should().Be(new DicomTag(0x0009, 0x1010));
        problem.Message.Should().Contain("4294967280");
        file.Dataset.Count.Should().Be(0);
    }

    /// <summary>Bytes of a deflated data set that do not inflate made DeflateStream's InvalidDataException escape
    /// from the reader (found by flipping bytes of image_dfl.dcm). They are now a fatal problem (what inflated before
    /// them is kept).</summary>
    [Fact]
    public async Task A_deflated_data_set_that_does_not_inflate_is_a_problem()
    {
        var bytes = await File.ReadAllBytesAsync(CorpusFiles.FullPath("test_files/image_dfl.dcm"));
        int metaEnd = 132 + 12 + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(132 + 8));
        var whole = DicomReader.Read(bytes);
        whole.TransferSyntax.Should().Be(DicomTransferSyntax.DeflatedExplicitVRLittleEndian);

        // The first deflate block header says BTYPE 11, which RFC 1951 reserves: InvalidDataException. (Damage
        // further in may still inflate, to garbage that the reader then reports as such.)
        foreach (int at in new[] { metaEnd })
        {
            var damaged = (byte[])bytes.Clone();
            damaged[at] = 0xFF;
            damaged[at + 1] ^= 0x5A;
            var fromMemory = DicomReader.Read(damaged);
            var fromStream = await DicomReader.ReadAsync(new NonSeekableStream(damaged));
            var bare = new List<DicomReadProblem>();
            var fromBare = await DicomReader.ReadDatasetAsync(new MemoryStream(damaged, metaEnd, damaged.Length - metaEnd),
                DicomTransferSyntax.DeflatedExplicitVRLittleEndian, problems: bare);

            foreach (var problems in new[] { fromMemory.Problems, fromStream.Problems, bare })
                problems.Should().Contain(p => p.IsFatal && p.Message.Contains("inflate", StringComparison.Ordinal), $"damage at {at}");
            fromMemory.Dataset.Count.Should().Be(0, "nothing inflated");
            fromMemory.FileMetaInformation.Count.Should().Be(whole.FileMetaInformation.Count, "the File Meta Information is not deflated");
            fromBare.Count.Should().Be(0);
        }
    }
}
