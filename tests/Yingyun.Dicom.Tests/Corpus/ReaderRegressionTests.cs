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
}
