using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Yingyun.Dicom;

public sealed class DicomWriterOptions
{
    public static DicomWriterOptions Default { get; } = new();

    /// <summary>Write sequences and items with defined lengths instead of delimiters (PS3.5 §7.5.1 allows both).</summary>
    public bool DefinedLengthSequences { get; init; }
}

/// <summary>Writes Part 10 files (PS3.10 §7.1) and bare data sets in any uncompressed transfer syntax, and
/// encapsulated data sets in their own syntax. Values left on disk are streamed from their source in
/// pooled chunks, never loaded whole.</summary>
public sealed class DicomWriter : IAsyncDisposable
{
    /// <summary>Yingyun's Implementation Class UID (PS3.7 §D.3.3.2), under the UUID-derived root 2.25 (PS3.5 §B.2).</summary>
    public const string ImplementationClassUid = "2.25.171390948207640219611378526613856405812";
    public const string ImplementationVersionName = "YINGYUN_0_1";

    private const int BufferSize = 64 * 1024;
    private readonly Stream _output;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _used;
    private bool _explicit;
    private bool _bigEndian;
    private readonly DicomWriterOptions _options;

    private DicomWriter(Stream output, DicomWriterOptions options)
    {
        _output = output;
        _options = options;
    }

    /// <summary>Writes <paramref name="file"/> as Part 10 in <paramref name="syntax"/> (default: the file's own).
    /// The File Meta Information is rebuilt: group length, version, SOP class/instance from the data set,
    /// the syntax, and our implementation UID and version name; other meta elements are kept.</summary>
    public static async Task WriteFileAsync(Stream output, DicomFile file, DicomTransferSyntax? syntax = null, DicomWriterOptions? options = null, CancellationToken cancellationToken = default)
    {
        syntax ??= file.TransferSyntax;
        CheckCanWrite(file.Dataset, file.TransferSyntax, syntax);
        var meta = CreateFileMetaInformation(file.Dataset, syntax, file.FileMetaInformation);
        var writer = new DicomWriter(output, options ?? DicomWriterOptions.Default);
        await using (writer.ConfigureAwait(false))
        {
            writer._used = 128;
            Array.Clear(writer._buffer, 0, 128);
            if (file.Preamble is { Length: 128 } p) p.CopyTo(writer._buffer, 0);
            "DICM"u8.CopyTo(writer._buffer.AsSpan(128));
            writer._used = 132;
            writer._explicit = true;
            writer._bigEndian = false;
            await writer.WriteItemsAsync(meta, cancellationToken).ConfigureAwait(false);
            await writer.WriteBodyAsync(file.Dataset, syntax, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes a bare data set (no preamble or meta), as DIMSE sends it (PS3.7 §6.3.1).</summary>
    public static async Task WriteDatasetAsync(Stream output, DicomDataset dataset, DicomTransferSyntax syntax, DicomWriterOptions? options = null, CancellationToken cancellationToken = default)
    {
        var writer = new DicomWriter(output, options ?? DicomWriterOptions.Default);
        await using (writer.ConfigureAwait(false))
            await writer.WriteBodyAsync(dataset, syntax, cancellationToken).ConfigureAwait(false);
    }

    private static void CheckCanWrite(DicomDataset ds, DicomTransferSyntax from, DicomTransferSyntax to)
    {
        bool encapsulated = ds.TryGetItem(DicomTag.PixelDataTag, out var pd) && pd is DicomFragmentSequence;
        if (encapsulated && !to.IsEncapsulated)
            throw new InvalidOperationException($"Pixel Data is encapsulated ({from.Name}); writing it as {to.Name} needs a codec (transcoding), not the writer");
        if (!encapsulated && to.IsEncapsulated && ds.Contains(DicomTag.PixelDataTag))
            throw new InvalidOperationException($"native Pixel Data cannot be written as {to.Name} without encoding it");
    }

    private async Task WriteBodyAsync(DicomDataset dataset, DicomTransferSyntax syntax, CancellationToken ct)
    {
        if (syntax.IsDeflated)
        {
            await FlushAsync(ct).ConfigureAwait(false);
            // PS3.5 §A.5: the data set is one raw deflate stream (no zlib header).
            var deflate = new DeflateStream(_output, CompressionLevel.Optimal, leaveOpen: true);
            await using (deflate.ConfigureAwait(false))
            {
                var inner = new DicomWriter(deflate, _options) { _explicit = true, _bigEndian = false };
                await using (inner.ConfigureAwait(false))
                    await inner.WriteItemsAsync(dataset, ct, skipGroupLengths: true).ConfigureAwait(false);
            }
            return;
        }
        _explicit = syntax.IsExplicitVR;
        _bigEndian = syntax.IsBigEndian;
        await WriteItemsAsync(dataset, ct, skipGroupLengths: true).ConfigureAwait(false);
        await FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Builds the File Meta Information for <paramref name="dataset"/> in <paramref name="syntax"/> (PS3.10 §7.1).
    /// Elements of <paramref name="existing"/> are kept; sequences and fragments, which group 0002 never holds,
    /// are not (the group length counts elements only).</summary>
    public static DicomDataset CreateFileMetaInformation(DicomDataset dataset, DicomTransferSyntax syntax, DicomDataset? existing = null)
    {
        var meta = new DicomDataset();
        if (existing is not null)
            foreach (var item in existing)
                if (item is DicomElement && item.Tag.Group == 0x0002 && !item.Tag.IsGroupLength) meta.AddOrUpdate(item);
        meta.AddOrUpdate(new DicomElement(new DicomTag(0x0002, 0x0001), DicomVR.OB, new byte[] { 0, 1 }));
        CopyUid(dataset, meta, new DicomTag(0x0008, 0x0016), new DicomTag(0x0002, 0x0002));
        CopyUid(dataset, meta, new DicomTag(0x0008, 0x0018), new DicomTag(0x0002, 0x0003));
        meta.AddOrUpdate(Text(new DicomTag(0x0002, 0x0010), DicomVR.UI, syntax.Uid));
        meta.AddOrUpdate(Text(new DicomTag(0x0002, 0x0012), DicomVR.UI, ImplementationClassUid));
        meta.AddOrUpdate(Text(new DicomTag(0x0002, 0x0013), DicomVR.SH, ImplementationVersionName));
        long length = 0;
        foreach (var item in meta)
            if (item is DicomElement e) length += (e.VR.HasLongLength() ? 12 : 8) + ((e.Length + 1) & ~1L);
        meta.AddOrUpdate(new DicomElement(DicomTag.FileMetaInformationGroupLength, DicomVR.UL, BitConverter.GetBytes((uint)length)));
        return meta;
    }

    private static void CopyUid(DicomDataset from, DicomDataset meta, DicomTag source, DicomTag target)
    {
        if (from.TryGetElement(source, out var e) && e.Value.IsInMemory)
            meta.AddOrUpdate(new DicomElement(target, DicomVR.UI, e.Value));
    }

    private static DicomElement Text(DicomTag tag, DicomVR vr, string value) =>
        new(tag, vr, Encoding.ASCII.GetBytes(value));

    // ---- encoding -----------------------------------------------------------------------------

    private async ValueTask WriteItemsAsync(DicomDataset ds, CancellationToken ct, bool skipGroupLengths = false)
    {
        foreach (var item in ds)
        {
            // Group lengths other than the File Meta Information's are retired (PS3.5 §7.2) and would be
            // wrong after any change; they are not written.
            if (skipGroupLengths && item.Tag.IsGroupLength && item.Tag.Group != 0x0002) continue;
            switch (item)
            {
                case DicomElement e:
                    await WriteElementAsync(e, ct).ConfigureAwait(false);
                    break;
                case DicomSequence sq:
                    await WriteSequenceAsync(sq, ct).ConfigureAwait(false);
                    break;
                case DicomFragmentSequence f:
                    await WriteFragmentsAsync(f, ct).ConfigureAwait(false);
                    break;
            }
        }
    }

    private Span<byte> Reserve(int count)
    {
        if (_used + count > _buffer.Length)
        {
            throw new InvalidOperationException("internal: reserve without flush");
        }
        var s = _buffer.AsSpan(_used, count);
        _used += count;
        return s;
    }

    private async ValueTask EnsureRoomAsync(int count, CancellationToken ct)
    {
        if (_used + count <= _buffer.Length) return;
        await FlushAsync(ct).ConfigureAwait(false);
        if (count > _buffer.Length)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(count);
        }
    }

    private async ValueTask FlushAsync(CancellationToken ct)
    {
        if (_used == 0) return;
        await _output.WriteAsync(_buffer.AsMemory(0, _used), ct).ConfigureAwait(false);
        _used = 0;
    }

    private void WriteTag(Span<byte> s, DicomTag tag)
    {
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(s, tag.Group);
            BinaryPrimitives.WriteUInt16BigEndian(s[2..], tag.Element);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(s, tag.Group);
            BinaryPrimitives.WriteUInt16LittleEndian(s[2..], tag.Element);
        }
    }

    private void WriteUInt32(Span<byte> s, uint v)
    {
        if (_bigEndian) BinaryPrimitives.WriteUInt32BigEndian(s, v); else BinaryPrimitives.WriteUInt32LittleEndian(s, v);
    }

    private void WriteUInt16(Span<byte> s, ushort v)
    {
        if (_bigEndian) BinaryPrimitives.WriteUInt16BigEndian(s, v); else BinaryPrimitives.WriteUInt16LittleEndian(s, v);
    }

    /// <summary>Writes an element header; in explicit VR, a 16-bit-length VR whose value is too long for
    /// it is written as UN (PS3.5 §6.2.2 Note 2) rather than truncated.</summary>
    private async ValueTask WriteHeaderAsync(DicomTag tag, DicomVR vr, uint length, CancellationToken ct)
    {
        await EnsureRoomAsync(12, ct).ConfigureAwait(false);
        if (!_explicit || tag.Group == 0xFFFE)
        {
            var s = Reserve(8);
            WriteTag(s, tag);
            WriteUInt32(s[4..], length);
            return;
        }
        if (vr == DicomVR.None) vr = DicomVR.UN;
        if (!vr.HasLongLength() && length > 0xFFFF) vr = DicomVR.UN;
        if (vr.HasLongLength())
        {
            var s = Reserve(12);
            WriteTag(s, tag);
            s[4] = (byte)((ushort)vr >> 8);
            s[5] = (byte)vr;
            s[6] = 0;
            s[7] = 0;
            WriteUInt32(s[8..], length);
        }
        else
        {
            var s = Reserve(8);
            WriteTag(s, tag);
            s[4] = (byte)((ushort)vr >> 8);
            s[5] = (byte)vr;
            WriteUInt16(s[6..], (ushort)length);
        }
    }

    private async ValueTask WriteElementAsync(DicomElement e, CancellationToken ct)
    {
        long length = e.Length;
        bool pad = (length & 1) != 0;
        if (length + (pad ? 1 : 0) > 0xFFFFFFFE)
            throw new InvalidOperationException($"value of {e.Tag} is {length} bytes, over the 32-bit length limit");
        uint written = (uint)(length + (pad ? 1 : 0));
        await WriteHeaderAsync(e.Tag, e.VR, written, ct).ConfigureAwait(false);
        // Swap by the VR the header says: a value WriteHeaderAsync turned into UN is a byte stream, which readers
        // (ours, DCMTK) never swap, so it must keep its little endian bytes.
        bool asUN = _explicit && !e.VR.HasLongLength() && written > 0xFFFF;
        int swap = _bigEndian && !asUN ? e.VR.UnitSize() : 1;
        if (e.Value.IsInMemory)
        {
            var src = e.Value.Memory;
            while (src.Length > 0)
            {
                await EnsureRoomAsync(Math.Min(src.Length, BufferSize), ct).ConfigureAwait(false);
                int n = Math.Min(src.Length, _buffer.Length - _used);
                if (swap > 1 && n < src.Length) n -= n % swap;
                src.Span[..n].CopyTo(_buffer.AsSpan(_used));
                if (swap > 1) ByteSwap.ToLittleEndian(_buffer.AsSpan(_used, n), swap); // the swap is its own inverse
                _used += n;
                src = src[n..];
            }
        }
        else
        {
            await FlushAsync(ct).ConfigureAwait(false);
            var r = e.Value.Reference!;
            // A reference's bytes come back little endian; turn them big endian again for a BE target.
            if (swap > 1)
            {
                using var ms = new SwappingStream(_output, swap);
                await r.CopyToAsync(ms, ct).ConfigureAwait(false);
            }
            else
            {
                await r.CopyToAsync(_output, ct).ConfigureAwait(false);
            }
        }
        if (pad)
        {
            await EnsureRoomAsync(1, ct).ConfigureAwait(false);
            Reserve(1)[0] = e.VR.PaddingByte();
        }
    }

    private async ValueTask WriteSequenceAsync(DicomSequence sq, CancellationToken ct)
    {
        if (_options.DefinedLengthSequences)
        {
            await WriteHeaderAsync(sq.Tag, DicomVR.SQ, (uint)SequenceLength(sq), ct).ConfigureAwait(false);
            foreach (var item in sq.Items)
            {
                await WriteHeaderAsync(DicomTag.Item, DicomVR.None, (uint)DatasetLength(item), ct).ConfigureAwait(false);
                await WriteItemsAsync(item, ct, skipGroupLengths: true).ConfigureAwait(false);
            }
            return;
        }
        await WriteHeaderAsync(sq.Tag, DicomVR.SQ, 0xFFFFFFFF, ct).ConfigureAwait(false);
        foreach (var item in sq.Items)
        {
            await WriteHeaderAsync(DicomTag.Item, DicomVR.None, 0xFFFFFFFF, ct).ConfigureAwait(false);
            await WriteItemsAsync(item, ct, skipGroupLengths: true).ConfigureAwait(false);
            await WriteHeaderAsync(DicomTag.ItemDelimitationItem, DicomVR.None, 0, ct).ConfigureAwait(false);
        }
        await WriteHeaderAsync(DicomTag.SequenceDelimitationItem, DicomVR.None, 0, ct).ConfigureAwait(false);
    }

    private long SequenceLength(DicomSequence sq) => sq.Items.Sum(i => 8 + DatasetLength(i));

    private long DatasetLength(DicomDataset ds)
    {
        long total = 0;
        foreach (var item in ds)
        {
            if (item.Tag.IsGroupLength && item.Tag.Group != 0x0002) continue;
            total += item switch
            {
                DicomElement e => HeaderLength(e.VR, e.Length) + ((e.Length + 1) & ~1L),
                DicomSequence s => HeaderLength(DicomVR.SQ, 0) + SequenceLength(s),
                DicomFragmentSequence f => HeaderLength(f.VR, 0) + 8 + ((f.OffsetTable.Length + 1) & ~1L) + f.Fragments.Sum(x => 8 + ((x.Length + 1) & ~1L)) + 8,
                _ => 0,
            };
        }
        return total;
    }

    private long HeaderLength(DicomVR vr, long length) =>
        !_explicit ? 8 : vr.HasLongLength() || length > 0xFFFF || vr == DicomVR.None ? 12 : 8;

    private async ValueTask WriteFragmentsAsync(DicomFragmentSequence f, CancellationToken ct)
    {
        // PS3.5 §A.4: always undefined length, OB, items of even length, fragments never byte-swapped.
        bool big = _bigEndian;
        await WriteHeaderAsync(f.Tag, DicomVR.OB, 0xFFFFFFFF, ct).ConfigureAwait(false);
        foreach (var v in (IEnumerable<DicomValue>)[f.OffsetTable, .. f.Fragments])
        {
            long len = (v.Length + 1) & ~1L;
            await WriteHeaderAsync(DicomTag.Item, DicomVR.None, (uint)len, ct).ConfigureAwait(false);
            _bigEndian = false;
            var element = new DicomElement(DicomTag.Item, DicomVR.OB, v);
            await WriteValueOnlyAsync(element, ct).ConfigureAwait(false);
            _bigEndian = big;
        }
        await WriteHeaderAsync(DicomTag.SequenceDelimitationItem, DicomVR.None, 0, ct).ConfigureAwait(false);
    }

    private async ValueTask WriteValueOnlyAsync(DicomElement e, CancellationToken ct)
    {
        if (e.Value.IsInMemory)
        {
            var src = e.Value.Memory;
            while (src.Length > 0)
            {
                await EnsureRoomAsync(Math.Min(src.Length, BufferSize), ct).ConfigureAwait(false);
                int n = Math.Min(src.Length, _buffer.Length - _used);
                src.Span[..n].CopyTo(_buffer.AsSpan(_used));
                _used += n;
                src = src[n..];
            }
        }
        else
        {
            await FlushAsync(ct).ConfigureAwait(false);
            await e.Value.Reference!.CopyToAsync(_output, ct).ConfigureAwait(false);
        }
        if ((e.Length & 1) != 0)
        {
            await EnsureRoomAsync(1, ct).ConfigureAwait(false);
            Reserve(1)[0] = 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await FlushAsync(CancellationToken.None).ConfigureAwait(false);
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    /// <summary>Swaps each unit of the bytes passing through (little endian reference → big endian output).</summary>
    private sealed class SwappingStream(Stream inner, int unit) : ForwardOnlyWriteStream
    {
        public override void Flush() => inner.Flush();

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var copy = buffer.ToArray();
            ByteSwap.ToLittleEndian(copy, unit);
            inner.Write(copy);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var copy = buffer.ToArray();
            ByteSwap.ToLittleEndian(copy, unit);
            await inner.WriteAsync(copy, cancellationToken).ConfigureAwait(false);
        }
    }
}
