using Yingyun.Dicom.Fuzz;
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

    /// <summary>10,000 nested sequences: 20 bytes per level (a sequence of undefined length and its first item),
    /// optionally closed by their delimiters.</summary>
    private static byte[] SequenceBomb(int depth, bool close, bool bigEndian = false, bool explicitVR = true)
    {
        var ms = new MemoryStream();
        var b4 = new byte[4];
        void U16(ushort v) { if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b4, v); else BinaryPrimitives.WriteUInt16LittleEndian(b4, v); ms.Write(b4, 0, 2); }
        void U32(uint v) { if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b4, v); else BinaryPrimitives.WriteUInt32LittleEndian(b4, v); ms.Write(b4, 0, 4); }
        for (int i = 0; i < depth; i++)
        {
            U16(0x0008); U16(0x1115);
            if (explicitVR) { ms.WriteByte((byte)'S'); ms.WriteByte((byte)'Q'); U16(0); }
            U32(0xFFFFFFFF);
            U16(0xFFFE); U16(0xE000); U32(0xFFFFFFFF);
        }
        if (close)
        {
            for (int i = 0; i < depth; i++)
            {
                U16(0xFFFE); U16(0xE00D); U32(0);
                U16(0xFFFE); U16(0xE0DD); U32(0);
            }
        }
        return ms.ToArray();
    }

    private static int Depth(DicomDataset ds)
    {
        int depth = 0;
        while (ds.TryGetSequence(new DicomTag(0x0008, 0x1115), out var sq))
        {
            depth++;
            if (sq.Items.Count == 0) break;
            ds = sq.Items[0];
        }
        return depth;
    }

    public static TheoryData<string, bool> Bombs => new()
    {
        { "explicit-le", false }, { "explicit-le", true }, { "explicit-be", true }, { "implicit-le", true },
    };

    /// <summary>10,000 nested sequences of undefined length overflowed the stack (at about 1,600 levels), killing the
    /// process. Nesting is now limited by <see cref="DicomReaderOptions.MaxSequenceDepth"/> (64): the 65th level is a
    /// fatal problem at its offset and the 64 levels above it are kept.</summary>
    [Theory]
    [MemberData(nameof(Bombs))]
    public async Task Ten_thousand_nested_sequences_stop_at_the_depth_limit(string syntax, bool close)
    {
        var ts = syntax switch
        {
            "explicit-be" => DicomTransferSyntax.ExplicitVRBigEndian,
            "implicit-le" => DicomTransferSyntax.ImplicitVRLittleEndian,
            _ => DicomTransferSyntax.ExplicitVRLittleEndian,
        };
        var bytes = SequenceBomb(10_000, close, ts.IsBigEndian, ts.IsExplicitVR);
        var options = new DicomReaderOptions { TransferSyntax = ts };
        int level = ts.IsExplicitVR ? 20 : 16;

        var files = new List<(string, DicomFile)>
        {
            ("memory", DicomReader.Read(bytes, options)),
            ("stream", await DicomReader.ReadAsync(new NonSeekableStream(bytes), options)),
        };
        foreach (var (how, file) in files)
        {
            var problem = file.Problems.Should().ContainSingle(p => p.IsFatal, how).Subject;
            problem.Tag.Should().Be(new DicomTag(0x0008, 0x1115));
            problem.Offset.Should().Be(64L * level, $"{how}: the 65th sequence starts after 64 levels");
            problem.Message.Should().Contain("MaxSequenceDepth");
            Depth(file.Dataset).Should().Be(65, $"{how}: 64 levels read, the 65th kept empty");
        }
    }

    [Fact]
    public void Sequences_nested_up_to_the_limit_read_without_problems_and_the_limit_is_an_option()
    {
        var atLimit = DicomReader.Read(SequenceBomb(64, close: true), new DicomReaderOptions { TransferSyntax = DicomTransferSyntax.ExplicitVRLittleEndian });
        atLimit.Problems.Should().BeEmpty();
        Depth(atLimit.Dataset).Should().Be(64);

        var lower = DicomReader.Read(SequenceBomb(64, close: true), new DicomReaderOptions { TransferSyntax = DicomTransferSyntax.ExplicitVRLittleEndian, MaxSequenceDepth = 5 });
        lower.Problems.Should().ContainSingle(p => p.IsFatal && p.Offset == 5 * 20);
        Depth(lower.Dataset).Should().Be(6);
    }

    /// <summary>The same with sequences and items of defined length (each level's lengths cover the levels below).</summary>
    [Fact]
    public void Ten_thousand_nested_defined_length_sequences_stop_at_the_depth_limit()
    {
        const int depth = 10_000;
        var bytes = new byte[depth * 20 + 10];
        // The innermost item holds one element, Modality "CT"; each level around it adds 20 bytes of headers.
        var cs = new byte[] { 0x08, 0x00, 0x60, 0x00, (byte)'C', (byte)'S', 2, 0, (byte)'C', (byte)'T' };
        cs.CopyTo(bytes, depth * 20);
        for (int i = depth - 1; i >= 0; i--)
        {
            int o = i * 20;
            uint inner = (uint)(bytes.Length - o - 20); // what the item at this level holds
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(o), 0x0008);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(o + 2), 0x1115);
            bytes[o + 4] = (byte)'S';
            bytes[o + 5] = (byte)'Q';
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(o + 8), inner + 8);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(o + 12), 0xFFFE);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(o + 14), 0xE000);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(o + 16), inner);
        }
        // The innermost 30 levels alone read without a problem: the lengths are right.
        var check = DicomReader.Read(bytes.AsMemory((depth - 30) * 20), new DicomReaderOptions { TransferSyntax = DicomTransferSyntax.ExplicitVRLittleEndian });
        check.Problems.Should().BeEmpty();
        Depth(check.Dataset).Should().Be(30);

        var file = DicomReader.Read(bytes, new DicomReaderOptions { TransferSyntax = DicomTransferSyntax.ExplicitVRLittleEndian });
        file.Problems.Should().ContainSingle(p => p.IsFatal && p.Offset == 64 * 20 && p.Tag == new DicomTag(0x0008, 0x1115));
        Depth(file.Dataset).Should().Be(65);
    }
}
