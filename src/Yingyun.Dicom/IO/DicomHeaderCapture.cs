using System.Buffers;
using System.IO.Compression;
using System.IO.Hashing;

namespace Yingyun.Dicom;

/// <summary>How <see cref="DicomHeaderCapture"/> parses the data set passing through it.</summary>
public sealed class DicomHeaderCaptureOptions
{
    public static DicomHeaderCaptureOptions Default { get; } = new();

    /// <summary>The header ends before the first top-level element at or after this tag (default Pixel Data
    /// (7FE0,0010)); null parses the whole data set into <see cref="DicomHeaderCaptureResult.Header"/> (its large values
    /// still become references, see <see cref="BulkDataThreshold"/>).</summary>
    public DicomTag? StopBeforeTag { get; init; } = DicomTag.PixelDataTag;

    /// <summary>Values (and fragments) in the header longer than this are not kept in memory: they become a
    /// <see cref="BulkDataReference"/> to their place in <see cref="BulkDataSource"/>, or, without one, a reference that
    /// only records offset and length (a huge private OB costs nothing).</summary>
    public int BulkDataThreshold { get; init; } = 64 * 1024;

    /// <summary>Where the sink's bytes can be read back, typically <c>new FileBulkDataSource(path)</c> of the file the
    /// sink writes; large header values then become references that can be loaded. Null: references that say where
    /// the value was but cannot load it.</summary>
    public IBulkDataSource? BulkDataSource { get; init; }

    /// <summary>Offset in <see cref="BulkDataSource"/> of the data set's first byte (the length of what the caller wrote
    /// to the sink before, e.g. the File Meta Information).</summary>
    public long BulkDataSourceOffset { get; init; }

    /// <summary>How deeply sequences may nest, in the header and after it (see <see cref="DicomReaderOptions.MaxSequenceDepth"/>).</summary>
    public int MaxSequenceDepth { get; init; } = 64;
}

/// <summary>Top-level Pixel Data (7FE0,0010) as it passed: where its element header starts (<paramref name="Offset"/>)
/// and its value starts (<paramref name="ValueOffset"/>), both from the data set's first byte; its value length, or
/// null for encapsulated pixel data (undefined length, PS3.5 §A.4), whose <paramref name="Items"/> counts the items
/// (the Basic Offset Table, then the fragments).</summary>
public readonly record struct DicomPixelDataInfo(long Offset, long ValueOffset, long? Length, int Items)
{
    /// <summary>Encapsulated: fragments after the Basic Offset Table item.</summary>
    public int Fragments => Math.Max(0, Items - 1);
}

/// <summary>What <see cref="DicomHeaderCapture"/> learnt from a data set while passing it on.</summary>
public sealed class DicomHeaderCaptureResult
{
    internal DicomHeaderCaptureResult(DicomDataset header, DicomTransferSyntax syntax, List<DicomReadProblem> problems, long length,
        UInt128 hash, long headerEnd, DicomPixelDataInfo? pixelData)
    {
        Header = header;
        TransferSyntax = syntax;
        Problems = problems;
        Length = length;
        Hash = hash;
        HeaderEnd = headerEnd;
        PixelData = pixelData;
    }

    /// <summary>The elements before <see cref="DicomHeaderCaptureOptions.StopBeforeTag"/>, as
    /// <see cref="DicomReader"/> reads them; values over the threshold are references.</summary>
    public DicomDataset Header { get; }

    public DicomTransferSyntax TransferSyntax { get; }

    /// <summary>Everything found wrong, with offsets from the data set's first byte (for a deflated data set, offsets in
    /// the inflated bytes): the reader's problems for the header, then those of the structure after it.</summary>
    public IReadOnlyList<DicomReadProblem> Problems { get; }

    /// <summary>No fatal problem: the header parsed, every value length fitted the bytes that came, every delimited
    /// sequence and encapsulated Pixel Data was closed, and native Pixel Data is as long as its attributes say
    /// (PS3.5 §8.1.1). As far as bytes can tell, the data set arrived whole.</summary>
    public bool IsComplete => !Problems.Any(p => p.IsFatal);

    /// <summary>The first fatal problem, if any: the reason to refuse the instance.</summary>
    public DicomReadProblem? FirstFatalProblem => Problems.FirstOrDefault(p => p.IsFatal);

    /// <summary>Data set bytes that passed (all written to the sink).</summary>
    public long Length { get; }

    /// <summary>XxHash128 of exactly the data set bytes written to the sink (not of anything the caller wrote
    /// before): equal bytes, equal hash, whatever the chunking; for duplicate detection.</summary>
    public UInt128 Hash { get; }

    /// <summary><see cref="Hash"/> as 32 lower-case hexadecimal digits (the canonical big-endian XxHash128 form).</summary>
    public string HashHex => Hash.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Offset of the first byte not parsed into <see cref="Header"/>: the stop element's header, or
    /// <see cref="Length"/> when the header is the whole data set (for a deflated data set, in inflated bytes).</summary>
    public long HeaderEnd { get; }

    /// <summary>Top-level Pixel Data when it came after the header; null if there was none (or it is in
    /// <see cref="Header"/>).</summary>
    public DicomPixelDataInfo? PixelData { get; }
}

/// <summary>Passes a data set from a source (a C-STORE's data set stream, a request body) to a sink (a temporary
/// file) in one pass, and on the way parses its header into a <see cref="DicomDataset"/>, follows the structure of
/// the rest (Pixel Data and what follows) to tell whether it arrived whole, and hashes every byte (XxHash128).
/// Memory stays bounded whatever the instance size: a 64 KiB read window, the header's elements, and values over
/// <see cref="DicomHeaderCaptureOptions.BulkDataThreshold"/> only as references; Pixel Data is never held.
/// <para>Use: write whatever must precede the data set to the sink (File Meta Information), then
/// <code>
/// var result = await DicomHeaderCapture.CaptureAsync(dataSet, file, transferSyntax,
///     new DicomHeaderCaptureOptions { BulkDataSource = new FileBulkDataSource(path), BulkDataSourceOffset = metaLength }, ct);
/// if (!result.IsComplete) refuse(result.FirstFatalProblem);
/// string? sopInstance = result.Header.GetString(DicomTags.SOPInstanceUID);
/// </code>
/// The source is read to its end even when the data set is damaged (the sink then has every byte, as received); only
/// I/O errors of the source or sink and cancellation throw. The sink is written but not flushed or closed.</para>
/// <para>The header is exactly what <see cref="DicomReader.ReadDatasetAsync"/> reads from the same bytes with the same
/// <see cref="DicomReaderOptions.StopBeforeTag"/>; the bytes reach the sink unchanged and in order.</para></summary>
public static class DicomHeaderCapture
{
    /// <summary>Captures a bare data set (no File Meta Information, as DIMSE carries it, PS3.7 §6.3.1) encoded in
    /// <paramref name="transferSyntax"/>.</summary>
    public static async Task<DicomHeaderCaptureResult> CaptureAsync(Stream source, Stream sink, DicomTransferSyntax transferSyntax,
        DicomHeaderCaptureOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(transferSyntax);
        options ??= DicomHeaderCaptureOptions.Default;
        var problems = new List<DicomReadProblem>();
        var header = new DicomDataset();
        var tee = new TeeStream(source, sink);
        // Without a source to read them back from, large values are still not kept: a reference records where they were.
        IBulkDataSource references = options.BulkDataSource ?? new UnretainedBulkData(transferSyntax.IsDeflated);
        var readerOptions = new DicomReaderOptions
        {
            StopBeforeTag = options.StopBeforeTag,
            BulkDataThreshold = options.BulkDataThreshold,
            MaxSequenceDepth = options.MaxSequenceDepth,
            TransferSyntax = transferSyntax.IsDeflated ? DicomTransferSyntax.ExplicitVRLittleEndian : transferSyntax,
        };

        long headerEnd;
        DicomPixelDataInfo? pixelData = null;
        if (transferSyntax.IsDeflated)
        {
            (headerEnd, pixelData) = await CaptureDeflatedAsync(tee, header, readerOptions, options, problems, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            DicomStructureTracker? tracker = null;
            using (var input = new DicomInput(tee))
            {
                bool stopped = await DicomReader.ReadHeaderAsync(input, header, transferSyntax, readerOptions, references,
                    options.BulkDataSource is null ? 0 : options.BulkDataSourceOffset, problems, cancellationToken).ConfigureAwait(false);
                headerEnd = input.Position;
                if (stopped && !problems.Any(p => p.IsFatal))
                {
                    tracker = new DicomStructureTracker(input.Position, transferSyntax, options.MaxSequenceDepth, problems);
                    // The reader's read-ahead past the stop element has passed the tee already: the tracker starts there.
                    tracker.Feed(input.Span);
                }
            }
            // The rest goes straight from the source to the sink (a DIMSE data set stream hands over its receive buffers).
            await source.CopyToAsync(new PassThrough(tee, tracker), cancellationToken).ConfigureAwait(false);
            if (tracker is not null)
            {
                tracker.Finish();
                pixelData = tracker.PixelData;
            }
        }

        if (tee.Count == 0)
            problems.Add(new DicomReadProblem(0, null, "no data set: 0 bytes", true));
        else if (!problems.Any(p => p.IsFatal))
            CheckPixelDataLength(header, transferSyntax, pixelData, problems);
        return new DicomHeaderCaptureResult(header, transferSyntax, problems, tee.Count, tee.Hash, headerEnd, pixelData);
    }

    /// <summary>PS3.5 §A.5: the data set after the File Meta Information is one raw deflate stream. The header is read
    /// from the inflated bytes, the structure after it is followed in them too, and the raw bytes are what reach the
    /// sink and the hash.</summary>
    private static async Task<(long HeaderEnd, DicomPixelDataInfo? PixelData)> CaptureDeflatedAsync(TeeStream tee, DicomDataset header,
        DicomReaderOptions readerOptions, DicomHeaderCaptureOptions options, List<DicomReadProblem> problems, CancellationToken ct)
    {
        long headerEnd = 0;
        DicomPixelDataInfo? pixelData = null;
        var inflater = new DeflateStream(tee, CompressionMode.Decompress, leaveOpen: true);
        await using (inflater.ConfigureAwait(false))
        {
            try
            {
                using var input = new DicomInput(inflater);
                bool stopped = await DicomReader.ReadHeaderAsync(input, header, DicomTransferSyntax.ExplicitVRLittleEndian,
                    readerOptions,
                    new UnretainedBulkData(inflated: true), 0, problems, ct).ConfigureAwait(false);
                headerEnd = input.Position;
                if (stopped && !problems.Any(p => p.IsFatal))
                {
                    var tracker = new DicomStructureTracker(input.Position, DicomTransferSyntax.ExplicitVRLittleEndian, options.MaxSequenceDepth, problems);
                    tracker.Feed(input.Span);
                    var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
                    try
                    {
                        int n;
                        while ((n = await inflater.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0) tracker.Feed(buffer.AsSpan(0, n));
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                    tracker.Finish();
                    pixelData = tracker.PixelData;
                }
            }
            catch (InvalidDataException e)
            {
                problems.Add(new DicomReadProblem(tee.Count, null, $"the deflated data set does not inflate ({e.Message})", true));
            }
        }
        // Whatever follows the deflate stream (or could not be inflated) still reaches the sink and the hash.
        await tee.DrainAsync(ct).ConfigureAwait(false);
        return (headerEnd, pixelData);
    }

    /// <summary>Native (not encapsulated) Pixel Data holds Rows × Columns × Samples per Pixel × Number of Frames
    /// samples of Bits Allocated bits, padded to an even length (PS3.5 §8.1.1, PS3.3 C.7.6.3); YBR_FULL_422 and
    /// YBR_PARTIAL_422 hold two samples per pixel (PS3.3 C.7.6.3.1.2). Shorter means frames are missing: fatal. Longer is
    /// noted only (some writers pad more).</summary>
    private static void CheckPixelDataLength(DicomDataset header, DicomTransferSyntax syntax, DicomPixelDataInfo? pixelData, List<DicomReadProblem> problems)
    {
        long offset;
        long actual;
        if (pixelData is { Length: { } length } info)
        {
            offset = info.Offset;
            actual = length;
        }
        else if (pixelData is null && header.TryGetElement(DicomTag.PixelDataTag, out var element))
        {
            offset = -1;
            actual = element.Length;
        }
        else
        {
            return;
        }
        if (syntax.IsEncapsulated) return;
        long rows = header.GetValueOrDefault<ushort>(DicomTags.Rows, 0);
        long columns = header.GetValueOrDefault<ushort>(DicomTags.Columns, 0);
        long bitsAllocated = header.GetValueOrDefault<ushort>(DicomTags.BitsAllocated, 0);
        long samples = header.GetValueOrDefault<ushort>(DicomTags.SamplesPerPixel, 1);
        if (rows == 0 || columns == 0 || bitsAllocated == 0) return;
        long frames = Math.Max(1, header.GetValueOrDefault(DicomTags.NumberOfFrames, 1L));
        string photometric = header.GetString(DicomTags.PhotometricInterpretation)?.Trim() ?? "";
        if (photometric is "YBR_FULL_422" or "YBR_PARTIAL_422") samples = 2;
        long bits = rows * columns * samples * frames * bitsAllocated;
        long expected = (bits + 7) / 8;
        long padded = expected + (expected & 1);
        string dimensions = $"{rows} rows × {columns} columns × {samples} samples × {frames} frames × {bitsAllocated} bits";
        long at = offset >= 0 ? offset : 0;
        if (actual < expected)
            problems.Add(new DicomReadProblem(at, DicomTag.PixelDataTag, $"Pixel Data holds {actual} bytes; {dimensions} need {expected}", true));
        else if (actual > padded)
            problems.Add(new DicomReadProblem(at, DicomTag.PixelDataTag, $"Pixel Data holds {actual} bytes; {dimensions} need only {expected}"));
    }

    /// <summary>Reads from the source and passes every byte read to the hash and the sink before handing it on.</summary>
    private sealed class TeeStream(Stream source, Stream sink) : ForwardOnlyReadStream
    {
        private readonly XxHash128 _hash = new();

        public long Count { get; private set; }

        public UInt128 Hash => _hash.GetCurrentHashAsUInt128();

        public override int Read(Span<byte> buffer)
        {
            int n = source.Read(buffer);
            Pass(buffer[..n]);
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n > 0)
            {
                _hash.Append(buffer.Span[..n]);
                Count += n;
                await sink.WriteAsync(buffer[..n], cancellationToken).ConfigureAwait(false);
            }
            return n;
        }

        public void Pass(ReadOnlySpan<byte> bytes)
        {
            _hash.Append(bytes);
            Count += bytes.Length;
            sink.Write(bytes);
        }

        public async ValueTask PassAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
        {
            _hash.Append(bytes.Span);
            Count += bytes.Length;
            await sink.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }

        public async ValueTask DrainAsync(CancellationToken cancellationToken)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                while (await ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0) { }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>The destination of the source's CopyToAsync after the header: hash, structure, sink.</summary>
    private sealed class PassThrough(TeeStream tee, DicomStructureTracker? tracker) : ForwardOnlyWriteStream
    {
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            tracker?.Feed(buffer);
            tee.Pass(buffer);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            tracker?.Feed(buffer.Span);
            return tee.PassAsync(buffer, cancellationToken);
        }
    }

    /// <summary>The source of references to values that were passed on, not kept: the reference still tells where the
    /// value was (offset from the data set's first byte) and how long; loading it says why it cannot be.</summary>
    private sealed class UnretainedBulkData(bool inflated) : IBulkDataSource
    {
        public string Description => inflated
            ? "the inflated data set passed to the capture's sink (not retained; offsets are in the inflated bytes)"
            : "the data set passed to the capture's sink (not retained; give DicomHeaderCaptureOptions.BulkDataSource to load values)";

        public ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException($"the value at offset {offset} of {Description} cannot be loaded");
    }
}
