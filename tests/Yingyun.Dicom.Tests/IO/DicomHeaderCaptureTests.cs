using System.Buffers.Binary;
using System.IO.Hashing;

namespace Yingyun.Dicom.Tests.IO;

/// <summary>What <see cref="DicomHeaderCapture"/> says about data sets cut short or otherwise wrong after the header,
/// and that large values never sit in memory.</summary>
public class DicomHeaderCaptureTests
{
    private static readonly DicomTransferSyntax Explicit = DicomTransferSyntax.ExplicitVRLittleEndian;

    /// <summary>A small CT-like header (explicit VR little endian), without Pixel Data.</summary>
    internal static async Task<byte[]> HeaderAsync(ushort rows = 4, ushort columns = 4, int frames = 1, DicomTransferSyntax? syntax = null, Action<DicomDataset>? more = null)
    {
        var ds = new DicomDataset();
        ds.AddOrUpdate(DicomTags.SOPClassUID, DicomUids.CTImageStorage);
        ds.AddOrUpdate(DicomTags.SOPInstanceUID, "1.2.3.4.5");
        ds.AddOrUpdate(DicomTags.PatientName, "WANG^FANG");
        ds.AddOrUpdate(DicomTags.SamplesPerPixel, (ushort)1);
        ds.AddOrUpdate(DicomTags.PhotometricInterpretation, "MONOCHROME2");
        if (frames > 1) ds.AddOrUpdate(DicomTags.NumberOfFrames, frames.ToString(System.Globalization.CultureInfo.InvariantCulture));
        ds.AddOrUpdate(DicomTags.Rows, rows);
        ds.AddOrUpdate(DicomTags.Columns, columns);
        ds.AddOrUpdate(DicomTags.BitsAllocated, (ushort)16);
        ds.AddOrUpdate(DicomTags.BitsStored, (ushort)16);
        ds.AddOrUpdate(DicomTags.HighBit, (ushort)15);
        ds.AddOrUpdate(DicomTags.PixelRepresentation, (ushort)0);
        more?.Invoke(ds);
        var output = new MemoryStream();
        await DicomWriter.WriteDatasetAsync(output, ds, syntax ?? Explicit);
        return output.ToArray();
    }

    /// <summary>(7FE0,0010) OW with a 32-bit length, explicit VR little endian (PS3.5 §7.1.2).</summary>
    internal static byte[] PixelDataHeader(uint length)
    {
        var h = new byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(h, 0x7FE0);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(2), 0x0010);
        h[4] = (byte)'O';
        h[5] = (byte)'W';
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(8), length);
        return h;
    }

    private static byte[] Item(ushort element, uint length)
    {
        var h = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(h, 0xFFFE);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(2), element);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), length);
        return h;
    }

    private static Task<DicomHeaderCaptureResult> CaptureAsync(byte[] bytes, DicomTransferSyntax? syntax = null, DicomHeaderCaptureOptions? options = null) =>
        DicomHeaderCapture.CaptureAsync(new ChunkedStream(bytes, new Random(3), 997), Stream.Null, syntax ?? Explicit, options);

    [Fact]
    public async Task A_whole_instance_is_complete_and_its_pixel_data_is_located()
    {
        var header = await HeaderAsync();
        byte[] bytes = [.. header, .. PixelDataHeader(32), .. new byte[32]];
        var result = await CaptureAsync(bytes);

        result.IsComplete.Should().BeTrue(string.Join("\n", result.Problems));
        result.Problems.Should().BeEmpty();
        result.HeaderEnd.Should().Be(header.Length);
        result.PixelData.Should().Be(new DicomPixelDataInfo(header.Length, header.Length + 12, 32, 0));
        result.Header.Contains(DicomTag.PixelDataTag).Should().BeFalse();
        result.Header.GetString(DicomTags.SOPInstanceUID).Should().Be("1.2.3.4.5");
        result.Length.Should().Be(bytes.Length);
        result.HashHex.Should().Be(Convert.ToHexStringLower(XxHash128.Hash(bytes)));
    }

    [Fact]
    public async Task A_data_set_cut_inside_pixel_data_is_incomplete_and_says_where()
    {
        var header = await HeaderAsync();
        byte[] bytes = [.. header, .. PixelDataHeader(32), .. new byte[20]];
        var result = await CaptureAsync(bytes);

        result.IsComplete.Should().BeFalse();
        result.FirstFatalProblem!.Tag.Should().Be(DicomTag.PixelDataTag);
        result.FirstFatalProblem.Offset.Should().Be(header.Length);
        result.FirstFatalProblem.Message.Should().Contain("only 20 bytes follow");
        result.Length.Should().Be(bytes.Length, "every byte still reaches the sink");
    }

    [Fact]
    public async Task A_data_set_cut_inside_an_element_header_after_pixel_data_is_incomplete()
    {
        var header = await HeaderAsync();
        byte[] bytes = [.. header, .. PixelDataHeader(32), .. new byte[32], 0xFC, 0xFF, 0xFC];
        var result = await CaptureAsync(bytes);

        result.IsComplete.Should().BeFalse();
        result.FirstFatalProblem!.Offset.Should().Be(header.Length + 12 + 32);
    }

    [Fact]
    public async Task Native_pixel_data_shorter_than_rows_columns_and_frames_need_is_incomplete()
    {
        var header = await HeaderAsync(rows: 4, columns: 4, frames: 3);
        byte[] bytes = [.. header, .. PixelDataHeader(64), .. new byte[64]];
        var result = await CaptureAsync(bytes);

        result.IsComplete.Should().BeFalse();
        result.FirstFatalProblem!.Message.Should().Be("Pixel Data holds 64 bytes; 4 rows × 4 columns × 1 samples × 3 frames × 16 bits need 96");

        byte[] whole = [.. header, .. PixelDataHeader(96), .. new byte[96]];
        (await CaptureAsync(whole)).IsComplete.Should().BeTrue();
    }

    [Fact]
    public async Task Encapsulated_pixel_data_without_its_delimiter_is_incomplete()
    {
        var header = await HeaderAsync();
        var encapsulated = new byte[12];
        PixelDataHeader(0xFFFFFFFF).CopyTo(encapsulated, 0);
        encapsulated[4] = (byte)'O';
        encapsulated[5] = (byte)'B';
        byte[] fragments = [.. Item(0xE000, 0), .. Item(0xE000, 6), 1, 2, 3, 4, 5, 6, .. Item(0xE000, 4), 7, 8, 9, 10];
        var syntax = DicomTransferSyntax.Parse(DicomUids.JPEGBaseline8Bit);

        var whole = await CaptureAsync([.. header, .. encapsulated, .. fragments, .. Item(0xE0DD, 0)], syntax);
        whole.IsComplete.Should().BeTrue(string.Join("\n", whole.Problems));
        whole.PixelData.Should().Be(new DicomPixelDataInfo(header.Length, header.Length + 12, null, 3));
        whole.PixelData!.Value.Fragments.Should().Be(2);

        var cut = await CaptureAsync([.. header, .. encapsulated, .. fragments], syntax);
        cut.IsComplete.Should().BeFalse();
        cut.FirstFatalProblem!.Message.Should().Contain("no sequence delimiter");
    }

    [Fact]
    public async Task Elements_after_pixel_data_are_followed_through_sequences()
    {
        var header = await HeaderAsync();
        // (FFFA,FFFA) Digital Signatures Sequence, undefined length, one undefined-length item holding an UL, then
        // (FFFC,FFFC) Data Set Trailing Padding.
        byte[] sequence = [0xFA, 0xFF, 0xFA, 0xFF, (byte)'S', (byte)'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
            .. Item(0xE000, 0xFFFFFFFF), 0x00, 0x04, 0x10, 0x01, (byte)'U', (byte)'L', 4, 0, 1, 2, 3, 4, .. Item(0xE00D, 0), .. Item(0xE0DD, 0)];
        byte[] padding = [0xFC, 0xFF, 0xFC, 0xFF, (byte)'O', (byte)'B', 0, 0, 4, 0, 0, 0, 0, 0, 0, 0];
        byte[] pixels = [.. PixelDataHeader(32), .. new byte[32]];

        (await CaptureAsync([.. header, .. pixels, .. sequence, .. padding])).IsComplete.Should().BeTrue();
        var unclosedItem = await CaptureAsync([.. header, .. pixels, .. sequence[..^16], .. padding]);
        // The padding is read as part of the item; delimiters missing at the very end are noted, not fatal (as the reader).
        unclosedItem.Problems.Select(p => p.Message).Should().Equal("data ends inside an item", "data ends inside a sequence");
        unclosedItem.IsComplete.Should().BeTrue();
        var cut = await CaptureAsync([.. header, .. pixels, .. sequence, .. padding[..^2]]);
        cut.IsComplete.Should().BeFalse();
        cut.FirstFatalProblem!.Tag.Should().Be(new DicomTag(0xFFFC, 0xFFFC));
    }

    [Fact]
    public async Task An_empty_data_set_is_not_complete()
    {
        var result = await CaptureAsync([]);
        result.IsComplete.Should().BeFalse();
        result.Length.Should().Be(0);
    }

    [Fact]
    public async Task A_large_value_in_the_header_becomes_a_reference_with_its_offset()
    {
        const int size = 3_000_000;
        var header = await HeaderAsync(more: ds => ds.AddOrUpdate(new DicomElement(new DicomTag(0x0009, 0x1010), DicomVR.OB, new byte[size])));
        // The private creator is missing: the element is still read, as DicomReader does.
        byte[] bytes = [.. header, .. PixelDataHeader(32), .. new byte[32]];
        byte[] elementHeader = [0x09, 0x00, 0x10, 0x10, (byte)'O', (byte)'B'];
        int valueAt = bytes.AsSpan().IndexOf(elementHeader) + 12;

        var unretained = await CaptureAsync(bytes);
        unretained.Header.TryGetElement(new DicomTag(0x0009, 0x1010), out var element).Should().BeTrue();
        element!.Value.IsInMemory.Should().BeFalse();
        element.Value.Reference!.Offset.Should().Be(valueAt);
        element.Value.Reference.Length.Should().Be(size);
        await FluentActions.Awaiting(async () => await element.Value.Reference.LoadAsync()).Should().ThrowAsync<InvalidOperationException>();

        // With the sink readable, the reference loads, at the sink's offset (here after 100 bytes written first).
        var sink = new MemoryStream();
        sink.Write(new byte[100]);
        var options = new DicomHeaderCaptureOptions { BulkDataSource = new MemoryStreamBulkData(sink), BulkDataSourceOffset = 100 };
        var retained = await DicomHeaderCapture.CaptureAsync(new ChunkedStream(bytes, new Random(5), 65536), sink, Explicit, options);
        retained.Header.TryGetElement(new DicomTag(0x0009, 0x1010), out var kept).Should().BeTrue();
        (await kept!.Value.Reference!.LoadAsync()).Should().HaveCount(size);
        kept.Value.Reference.Offset.Should().Be(100 + valueAt);
    }

    [Fact]
    public async Task A_deflated_data_set_is_captured_raw_and_read_inflated()
    {
        var header = await HeaderAsync();
        var inflated = new MemoryStream();
        inflated.Write(header);
        inflated.Write(PixelDataHeader(32));
        inflated.Write(new byte[32]);
        var deflated = new MemoryStream();
        await using (var deflater = new System.IO.Compression.DeflateStream(deflated, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            await deflater.WriteAsync(inflated.ToArray());
        var bytes = deflated.ToArray();
        var syntax = DicomTransferSyntax.Parse(DicomUids.DeflatedExplicitVRLittleEndian);

        var sink = new MemoryStream();
        var result = await DicomHeaderCapture.CaptureAsync(new ChunkedStream(bytes, new Random(9), 13), sink, syntax);
        result.IsComplete.Should().BeTrue(string.Join("\n", result.Problems));
        sink.ToArray().Should().Equal(bytes);
        result.Header.GetString(DicomTags.SOPInstanceUID).Should().Be("1.2.3.4.5");
        result.PixelData!.Value.Length.Should().Be(32);

        var cut = await DicomHeaderCapture.CaptureAsync(new MemoryStream(bytes[..^4]), Stream.Null, syntax);
        cut.IsComplete.Should().BeFalse();
    }
}

/// <summary>Runs alone: it measures what the whole process allocates.</summary>
[CollectionDefinition(nameof(AllocationMeasurements), DisableParallelization = true)]
public sealed class AllocationMeasurements;

[Collection(nameof(AllocationMeasurements))]
public class DicomHeaderCaptureMemoryTests
{
    [Fact]
    public async Task A_one_gibibyte_instance_passes_without_being_held_in_memory()
    {
        const uint pixelLength = 1u << 30;
        var header = await DicomHeaderCaptureTests.HeaderAsync(rows: 16384, columns: 16384, frames: 2);
        var source = new SyntheticInstance([.. header, .. DicomHeaderCaptureTests.PixelDataHeader(pixelLength)], pixelLength);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await DicomHeaderCapture.CaptureAsync(source, Stream.Null, DicomTransferSyntax.ExplicitVRLittleEndian);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        result.IsComplete.Should().BeTrue(string.Join("\n", result.Problems));
        result.Length.Should().Be(header.Length + 12 + pixelLength);
        allocated.Should().BeLessThan(8L << 20, "a window, the header and the hash state: nothing grows with the instance");
    }

    /// <summary>A header, then <c>length</c> bytes made up as they are read (never held).</summary>
    private sealed class SyntheticInstance(byte[] head, long length) : ForwardOnlyReadStream
    {
        private long _position;

        public override int Read(Span<byte> buffer)
        {
            long total = head.Length + length;
            int n = (int)Math.Min(buffer.Length, total - _position);
            int fromHead = (int)Math.Clamp(head.Length - _position, 0, n);
            head.AsSpan((int)Math.Min(_position, head.Length), fromHead).CopyTo(buffer);
            buffer[fromHead..n].Fill(0x5A);
            _position += n;
            return n;
        }
    }
}
