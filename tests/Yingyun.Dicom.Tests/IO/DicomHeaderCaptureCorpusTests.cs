using System.IO.Hashing;
using Yingyun.Dicom.Tests.Corpus;
using Yingyun.Dicom.Tests.Support;

namespace Yingyun.Dicom.Tests.IO;

/// <summary>Every file of pydicom's corpus, its data set fed to <see cref="DicomHeaderCapture"/> in chunks of random
/// sizes: the header equals what <see cref="DicomReader"/> reads from the same bytes with StopBeforeTag = Pixel Data,
/// the sink gets exactly the bytes, the hash is XxHash128 of them, and the verdict on completeness is the full
/// reader's.</summary>
public class DicomHeaderCaptureCorpusTests
{
    [Theory]
    [MemberData(nameof(CorpusFiles.Everything), MemberType = typeof(CorpusFiles))]
    public async Task Capture_in_random_chunks_equals_the_reader_and_passes_every_byte(string name)
    {
        var path = CorpusFiles.FullPath(name);
        var (bytes, syntax) = await DataSetOf(path);
        var stop = new DicomReaderOptions { StopBeforeTag = DicomTag.PixelDataTag };
        var readerProblems = new List<DicomReadProblem>();
        // From a forward-only stream, as a DIMSE data set arrives (a seekable one lets the reader check lengths ahead).
        var expected = await DicomReader.ReadDatasetAsync(ForwardOnly(bytes), syntax, stop, readerProblems);

        // Seeds from the name: a failure reproduces.
        var random = new Random(StringComparer.Ordinal.GetHashCode(name) & 0x7FFFFFFF);
        foreach (int maxChunk in new[] { 1, 7, 300, 70_000 })
        {
            if (maxChunk == 1 && bytes.Length > 2_000_000) continue; // a byte at a time through 2 MB proves nothing more
            var sink = new MemoryStream();
            var options = new DicomHeaderCaptureOptions { BulkDataSource = new MemoryStreamBulkData(sink) };
            var source = new ChunkedStream(bytes, random, maxChunk);
            var result = await DicomHeaderCapture.CaptureAsync(source, sink, syntax, options);

            string because = $"{name}, chunks of 1..{maxChunk} bytes";
            sink.ToArray().Should().Equal(bytes, because);
            result.Length.Should().Be(bytes.Length, because);
            result.Hash.Should().Be(XxHash128.HashToUInt128(bytes), because);
            (await DatasetComparer.CompareAsync(expected, result.Header)).Should().BeEmpty(because);
            // The reader's own findings in the header come first, the same, at the same offsets.
            result.Problems.Take(readerProblems.Count).Select(p => p.ToString()).Should().Equal(readerProblems.Select(p => p.ToString()), because);
        }
    }

    [Theory]
    [MemberData(nameof(CorpusFiles.Everything), MemberType = typeof(CorpusFiles))]
    public async Task Capture_calls_a_data_set_complete_when_the_full_reader_finds_nothing_fatal(string name)
    {
        var (bytes, syntax) = await DataSetOf(CorpusFiles.FullPath(name));
        var full = new List<DicomReadProblem>();
        await DicomReader.ReadDatasetAsync(ForwardOnly(bytes), syntax, problems: full);
        var result = await DicomHeaderCapture.CaptureAsync(new ChunkedStream(bytes, new Random(1), 5000), Stream.Null, syntax);

        bool readerFatal = full.Any(p => p.IsFatal);
        if (CorpusFiles.Damaged.Contains(name)) result.IsComplete.Should().BeFalse($"{name} is damaged on purpose");
        else result.IsComplete.Should().Be(!readerFatal, string.Join("\n", result.Problems.Concat(full)));
    }

    private static ChunkedStream ForwardOnly(byte[] bytes) => new(bytes, new Random(0), int.MaxValue - 1);

    /// <summary>The data set bytes of a corpus file and the syntax its File Meta Information declares (implicit VR
    /// little endian without one, as DIMSE would have to be told).</summary>
    internal static async Task<(byte[] Bytes, DicomTransferSyntax Syntax)> DataSetOf(string path)
    {
        var file = await DicomReader.OpenAsync(path, new DicomReaderOptions { StopBeforeTag = new DicomTag(0x0008, 0x0000) });
        var bytes = await File.ReadAllBytesAsync(path);
        int p = 0;
        if (bytes.Length >= 132 && bytes.AsSpan(128, 4).SequenceEqual("DICM"u8)) p = 132;
        else if (bytes.Length >= 4 && bytes.AsSpan(0, 4).SequenceEqual("DICM"u8)) p = 4;
        // Walk group 0002 element by element (explicit VR little endian, or implicit as some writers put it).
        while (p + 8 <= bytes.Length && BitConverter.ToUInt16(bytes, p) == 0x0002)
        {
            var vr = DicomVRInfo.FromBytes(bytes[p + 4], bytes[p + 5]);
            if (!vr.IsKnown()) p += 8 + (int)BitConverter.ToUInt32(bytes, p + 4);
            else if (vr.HasLongLength()) p += 12 + (int)BitConverter.ToUInt32(bytes, p + 8);
            else p += 8 + BitConverter.ToUInt16(bytes, p + 6);
        }
        p = Math.Min(p, bytes.Length);
        var syntax = file.FileMetaInformation.Count > 0 ? file.TransferSyntax : DicomTransferSyntax.ImplicitVRLittleEndian;
        return (bytes[p..], syntax);
    }
}

/// <summary>A forward-only source that hands out its bytes in reads of random sizes, as a network does.</summary>
internal sealed class ChunkedStream(byte[] bytes, Random random, int maxChunk) : ForwardOnlyReadStream
{
    private int _position;

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(Math.Min(buffer.Length, bytes.Length - _position), random.Next(1, maxChunk + 1));
        bytes.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Sometimes really asynchronous, as a socket is.
        if (random.Next(8) == 0) await Task.Yield();
        return Read(buffer.Span);
    }
}

/// <summary>Reads back what a capture wrote to a memory stream, so that large header values can be loaded.</summary>
internal sealed class MemoryStreamBulkData(MemoryStream sink) : IBulkDataSource
{
    public string Description => "the capture's sink";

    public ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var written = sink.GetBuffer().AsSpan(0, (int)sink.Length);
        if (offset >= written.Length) return ValueTask.FromResult(0);
        int n = (int)Math.Min(buffer.Length, written.Length - offset);
        written.Slice((int)offset, n).CopyTo(buffer.Span);
        return ValueTask.FromResult(n);
    }
}
