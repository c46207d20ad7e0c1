using System.Buffers.Binary;
using System.IO.Compression;

namespace Yingyun.Dicom;

/// <summary>Reads Part 10 files (PS3.10 §7.1) and bare data sets in every uncompressed transfer syntax,
/// keeping encapsulated pixel data as fragments. Damage is worked around where the bytes still make
/// sense, and recorded with its offset and tag in <see cref="DicomFile.Problems"/>; a length that points
/// past the end of the data never causes an allocation of that size.</summary>
public sealed partial class DicomReader
{
    private const uint UndefinedLength = 0xFFFFFFFF;
    private readonly DicomInput _input;
    private readonly DicomReaderOptions _options;
    private readonly List<DicomReadProblem> _problems;
    private readonly IBulkDataSource? _referenceSource;
    private readonly long _referenceOffset;
    private readonly ValueArena _arena = new();
    private bool _stopped;
    private int _depth; // sequences entered and not yet left

    private DicomReader(DicomInput input, DicomReaderOptions options, List<DicomReadProblem> problems, IBulkDataSource? referenceSource, long referenceOffset)
    {
        _input = input;
        _options = options;
        _problems = problems;
        _referenceSource = referenceSource;
        _referenceOffset = referenceOffset;
    }

    /// <summary>How to decode element headers and values at the current nesting level.</summary>
    private readonly record struct Syntax(bool Explicit, bool BigEndian)
    {
        public static readonly Syntax ImplicitLittle = new(false, false);
        public static readonly Syntax ExplicitLittle = new(true, false);
        public static Syntax Of(DicomTransferSyntax ts) => new(ts.IsExplicitVR, ts.IsBigEndian);
    }

    // ---- entry points ------------------------------------------------------------------------

    /// <summary>Opens a file; values over <see cref="DicomReaderOptions.BulkDataThreshold"/> stay on disk as references.</summary>
    public static async Task<DicomFile> OpenAsync(string path, DicomReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        var fs = new FileHandleStream(path);
        await using (fs.ConfigureAwait(false))
        {
            using var input = new DicomInput(fs);
            var file = await ReadFileAsync(input, options ?? DicomReaderOptions.Default, new FileBulkDataSource(path), 0, cancellationToken).ConfigureAwait(false);
            file.Source = path;
            return file;
        }
    }

    /// <summary>Reads from any stream. Large values become references only when the stream is seekable and
    /// stays open, or when <see cref="DicomReaderOptions.BulkDataSource"/> is given; otherwise they are loaded
    /// (up to <see cref="DicomReaderOptions.MaxInMemoryValueLength"/>).</summary>
    public static async Task<DicomFile> ReadAsync(Stream stream, DicomReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= DicomReaderOptions.Default;
        using var input = new DicomInput(stream);
        return await ReadFileAsync(input, options, options.BulkDataSource, options.BulkDataSourceOffset, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads from a pipe (the DIMSE and HTTP hot paths hand data over this way).</summary>
    public static Task<DicomFile> ReadAsync(System.IO.Pipelines.PipeReader pipe, DicomReaderOptions? options = null, CancellationToken cancellationToken = default) =>
        ReadAsync(pipe.AsStream(leaveOpen: true), options, cancellationToken);

    /// <summary>Reads from bytes in memory; values are slices of <paramref name="bytes"/>, nothing is copied.</summary>
    public static DicomFile Read(ReadOnlyMemory<byte> bytes, DicomReaderOptions? options = null)
    {
        using var input = new DicomInput(bytes);
        var task = ReadFileAsync(input, options ?? DicomReaderOptions.Default, null, 0, CancellationToken.None);
        // Memory mode never awaits anything that does not complete synchronously.
        return task.IsCompleted ? task.GetAwaiter().GetResult() : throw new InvalidOperationException("memory read went asynchronous");
    }

    /// <summary>Reads a bare data set in a known transfer syntax (DIMSE data sets, PS3.7 §6.3.1).</summary>
    public static async Task<DicomDataset> ReadDatasetAsync(Stream stream, DicomTransferSyntax syntax, DicomReaderOptions? options = null, List<DicomReadProblem>? problems = null, CancellationToken cancellationToken = default)
    {
        options ??= DicomReaderOptions.Default;
        problems ??= [];
        using var input = new DicomInput(stream);
        var ds = new DicomDataset();
        if (syntax.IsDeflated)
        {
            await ReadDeflatedAsync(input, ds, options, problems, cancellationToken).ConfigureAwait(false);
            return ds;
        }
        await new DicomReader(input, options, problems, options.BulkDataSource, options.BulkDataSourceOffset)
            .ReadRootAsync(ds, Syntax.Of(syntax), cancellationToken).ConfigureAwait(false);
        return ds;
    }

    /// <summary>For <see cref="DicomHeaderCapture"/>: reads the top level of a data set (never deflated here: the
    /// caller inflates) from an input it owns, so that after a stop at <see cref="DicomReaderOptions.StopBeforeTag"/>
    /// the input is still positioned at the first byte of the stop element with its read-ahead in the window. True
    /// when reading stopped there, false when the data ended (or a fatal problem ended reading).</summary>
    internal static async ValueTask<bool> ReadHeaderAsync(DicomInput input, DicomDataset ds, DicomTransferSyntax encoding, DicomReaderOptions options,
        IBulkDataSource? source, long sourceOffset, List<DicomReadProblem> problems, CancellationToken ct)
    {
        var reader = new DicomReader(input, options, problems, source, sourceOffset);
        await reader.ReadRootAsync(ds, Syntax.Of(encoding), ct).ConfigureAwait(false);
        return reader._stopped;
    }

    private static async Task<DicomFile> ReadFileAsync(DicomInput input, DicomReaderOptions options, IBulkDataSource? source, long sourceOffset, CancellationToken ct)
    {
        var problems = new List<DicomReadProblem>();
        // References need a source we can go back to: the file itself, or one the caller named.
        var reader = new DicomReader(input, options, problems, input.CanSeek ? source : options.BulkDataSource, input.CanSeek ? sourceOffset : options.BulkDataSourceOffset);
        var meta = new DicomDataset();
        var dataset = new DicomDataset();
        var file = new DicomFile(meta, dataset);

        byte[]? preamble = null;
        if (await input.EnsureAsync(132, ct).ConfigureAwait(false) && input.Span.Slice(128, 4).SequenceEqual("DICM"u8))
        {
            preamble = input.Span[..128].ToArray();
            input.Advance(132);
        }
        else if (await input.EnsureAsync(4, ct).ConfigureAwait(false) && input.Span[..4].SequenceEqual("DICM"u8))
        {
            input.Advance(4); // "DICM" without a preamble: seen from some writers.
        }
        file.Preamble = preamble;

        if (!await input.EnsureAsync(8, ct).ConfigureAwait(false))
            throw new DicomReadException(input.Position == 0 ? "empty input: not a DICOM file" : "no data set after the DICM prefix", input.Position);

        // File Meta Information: group 0002, explicit VR little endian (PS3.10 §7.1), read if present even
        // without a preamble (pydicom and DCMTK accept such files).
        bool metaDamaged = false;
        if (BinaryPrimitives.ReadUInt16LittleEndian(input.Span) == 0x0002)
            metaDamaged = await reader.ReadMetaAsync(meta, ct).ConfigureAwait(false);
        else if (preamble is not null)
            problems.Add(new DicomReadProblem(input.Position, null, "no File Meta Information after the DICM prefix"));

        DicomTransferSyntax? ts = null;
        if (meta.TryGetElement(DicomTag.TransferSyntaxUidTag, out var tsElement) && tsElement.Value.IsInMemory)
        {
            var uid = System.Text.Encoding.ASCII.GetString(tsElement.Span).TrimEnd('\0', ' ');
            if (uid.Length > 0) ts = DicomTransferSyntax.Parse(uid);
        }

        // After a fatal problem in the File Meta Information ("stopped") the data set cannot be found: reading
        // on would take the rest of the damaged element for it.
        if (metaDamaged || !await input.EnsureAsync(8, ct).ConfigureAwait(false))
        {
            file.TransferSyntax = ts ?? options.TransferSyntax ?? DicomTransferSyntax.ExplicitVRLittleEndian;
            file.Problems.AddRange(problems);
            return file;
        }

        if (ts is null)
        {
            ts = options.TransferSyntax ?? Guess(input.Span);
            if (meta.Count > 0)
                problems.Add(new DicomReadProblem(input.Position, DicomTag.TransferSyntaxUidTag, $"File Meta Information has no Transfer Syntax UID; the data set looks like {ts.Name}"));
        }
        DicomTransferSyntax encoding = ts;
        if (!ts.IsDeflated && options.TransferSyntax is null)
        {
            // Files that declare one syntax but are written in another are common; trust the bytes.
            var seen = Guess(input.Span);
            if (seen.IsExplicitVR != ts.IsExplicitVR || seen.IsBigEndian != ts.IsBigEndian)
            {
                if (LooksPlausible(input.Span, seen) && !LooksPlausible(input.Span, ts))
                {
                    problems.Add(new DicomReadProblem(input.Position, DicomTag.TransferSyntaxUidTag, $"declared {ts.Name} but the data set is encoded as {seen.Name}; read as encoded"));
                    encoding = seen;
                }
            }
        }
        file.TransferSyntax = ts;

        if (ts.IsDeflated)
        {
            await ReadDeflatedAsync(input, dataset, options, problems, ct).ConfigureAwait(false);
        }
        else
        {
            await reader.ReadRootAsync(dataset, Syntax.Of(encoding), ct).ConfigureAwait(false);
        }
        file.Problems.AddRange(problems);
        return file;
    }

    /// <summary>PS3.5 §A.5: everything after the File Meta Information is one raw deflate stream. Corrupt
    /// deflate data is a fatal problem, and the elements read before it are dropped: the inflater reports the
    /// damage only when its buffer reaches it, so how much came out first depends on how the bytes arrived.</summary>
    private static async ValueTask ReadDeflatedAsync(DicomInput input, DicomDataset ds, DicomReaderOptions options, List<DicomReadProblem> problems, CancellationToken ct)
    {
        long at = input.Position;
        using var inflated = new DicomInput(new DeflateStream(input.DetachRest(), CompressionMode.Decompress));
        try
        {
            await new DicomReader(inflated, options, problems, null, 0).ReadRootAsync(ds, Syntax.ExplicitLittle, ct).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            ds.RemoveAll(_ => true);
            problems.Add(new DicomReadProblem(at, null, $"the deflated data set does not inflate ({e.Message}); its elements are dropped", true));
        }
    }

    /// <summary>Guesses the encoding of a data set from its first element header, as DCMTK does: the
    /// group number tells the byte order, two upper-case letters after the tag tell explicit VR.</summary>
    private static DicomTransferSyntax Guess(ReadOnlySpan<byte> b)
    {
        if (b.Length < 8) return DicomTransferSyntax.ExplicitVRLittleEndian;
        ushort le = BinaryPrimitives.ReadUInt16LittleEndian(b);
        ushort be = BinaryPrimitives.ReadUInt16BigEndian(b);
        bool bigEndian = le > 0x00FF && be <= 0x00FF && be != 0;
        bool explicitVR = DicomVRInfo.FromBytes(b[4], b[5]).IsKnown();
        return (explicitVR, bigEndian) switch
        {
            (true, true) => DicomTransferSyntax.ExplicitVRBigEndian,
            (true, false) => DicomTransferSyntax.ExplicitVRLittleEndian,
            (false, _) => DicomTransferSyntax.ImplicitVRLittleEndian,
        };
    }

    private static bool LooksPlausible(ReadOnlySpan<byte> b, DicomTransferSyntax ts)
    {
        if (b.Length < 8) return true;
        ushort group = ts.IsBigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);
        if (group > 0x7FE0 && group != 0xFFFE) return false;
        bool vrLooksExplicit = DicomVRInfo.FromBytes(b[4], b[5]).IsKnown();
        return ts.IsExplicitVR == vrLooksExplicit || !ts.IsExplicitVR && !vrLooksExplicit;
    }

    // ---- File Meta Information --------------------------------------------------------------

    /// <summary>Reads group 0002; true if it ended with a fatal problem.</summary>
    private async ValueTask<bool> ReadMetaAsync(DicomDataset meta, CancellationToken ct)
    {
        long end = -1;
        while (await _input.EnsureAsync(8, ct).ConfigureAwait(false))
        {
            var span = _input.Span;
            if (BinaryPrimitives.ReadUInt16LittleEndian(span) != 0x0002) break;
            if (end >= 0 && _input.Position >= end) break;
            long at = _input.Position;
            // Some writers put the meta group in implicit VR; accept it (DCMTK does too).
            var syntax = DicomVRInfo.FromBytes(span[4], span[5]).IsKnown() ? Syntax.ExplicitLittle : Syntax.ImplicitLittle;
            if (syntax == Syntax.ImplicitLittle)
                _problems.Add(new DicomReadProblem(at, ReadTag(span, false), "File Meta Information element in implicit VR"));
            var status = await ReadElementAsync(meta, syntax, topLevel: false, ct).ConfigureAwait(false);
            if (status == Step.Damaged) return true;
            if (status != Step.Element) break;
            if (end < 0 && meta.TryGetElement(DicomTag.FileMetaInformationGroupLength, out var gl) && gl.Length == 4 && gl.Value.IsInMemory && meta.Count == 1)
                end = _input.Position + BinaryPrimitives.ReadUInt32LittleEndian(gl.Span);
        }
        return false;
    }

    // ---- data sets ---------------------------------------------------------------------------

    private enum Step { Element, EndOfData, ItemEnd, SequenceEnd, Stopped, Damaged }

    private async ValueTask ReadRootAsync(DicomDataset ds, Syntax syntax, CancellationToken ct)
    {
        var r = await ReadDatasetAsync(ds, syntax, end: -1, topLevel: true, ct).ConfigureAwait(false);
        if (r == Step.Damaged) return;
        ResolveAmbiguousVRs(ds, syntax);
    }

    /// <summary>Reads a deflated data set (PS3.5 §A.5). Bytes that do not inflate are damage like any other: what
    /// was read is kept and the problem says where inflating stopped, instead of DeflateStream's
    /// InvalidDataException escaping to the caller.</summary>
    /// <summary>Reads elements into <paramref name="ds"/> until <paramref name="end"/> (a defined-length item),
    /// an item delimiter (undefined length), the end of the data, or the stop tag.</summary>
    private async ValueTask<Step> ReadDatasetAsync(DicomDataset ds, Syntax syntax, long end, bool topLevel, CancellationToken ct)
    {
        while (true)
        {
            if (end >= 0 && _input.Position >= end)
            {
                if (_input.Position > end)
                    _problems.Add(new DicomReadProblem(_input.Position, null, $"element runs {_input.Position - end} bytes past the end of its item"));
                return Step.EndOfData;
            }
            var step = await ReadElementAsync(ds, syntax, topLevel, ct).ConfigureAwait(false);
            if (step != Step.Element) return step;
        }
    }

    private DicomTag ReadTag(ReadOnlySpan<byte> s, bool bigEndian) => bigEndian
        ? new DicomTag(BinaryPrimitives.ReadUInt16BigEndian(s), BinaryPrimitives.ReadUInt16BigEndian(s[2..]))
        : new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(s), BinaryPrimitives.ReadUInt16LittleEndian(s[2..]));

    private static uint ReadUInt32(ReadOnlySpan<byte> s, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);

    private static ushort ReadUInt16(ReadOnlySpan<byte> s, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);

    private async ValueTask<Step> ReadElementAsync(DicomDataset ds, Syntax syntax, bool topLevel, CancellationToken ct)
    {
        if (_stopped) return Step.Stopped;
        if (!await _input.EnsureAsync(8, ct).ConfigureAwait(false))
        {
            if (_input.Available > 0)
            {
                _problems.Add(new DicomReadProblem(_input.Position, null, $"{_input.Available} stray bytes at the end of the data", true));
                await _input.SkipAsync(_input.Available, ct).ConfigureAwait(false);
            }
            return Step.EndOfData;
        }
        long at = _input.Position;
        var span = _input.Span;
        var tag = ReadTag(span, syntax.BigEndian);

        // Item and delimiter tags have no VR in any syntax (PS3.5 §7.5).
        if (tag.Group == 0xFFFE)
        {
            uint len = ReadUInt32(span[4..], syntax.BigEndian);
            if (tag == DicomTag.ItemDelimitationItem)
            {
                _input.Advance(8);
                if (len != 0) _problems.Add(new DicomReadProblem(at, tag, $"item delimiter with length {len} (should be 0)"));
                if (topLevel) { _problems.Add(new DicomReadProblem(at, tag, "item delimiter outside any item; ignored")); return Step.Element; }
                return Step.ItemEnd;
            }
            if (tag == DicomTag.SequenceDelimitationItem)
            {
                if (topLevel)
                {
                    _input.Advance(8);
                    _problems.Add(new DicomReadProblem(at, tag, "sequence delimiter outside any sequence; ignored"));
                    return Step.Element;
                }
                // An item that ends without its delimiter: leave the sequence delimiter to the sequence.
                return Step.SequenceEnd;
            }
            if (tag == DicomTag.Item && !topLevel) return Step.SequenceEnd; // missing item delimiter before the next item
            _problems.Add(new DicomReadProblem(at, tag, "unexpected item tag in a data set; stopped reading", true));
            return Step.Damaged;
        }

        if (topLevel && _options.StopBeforeTag is { } stop && tag >= stop)
        {
            _stopped = true;
            return Step.Stopped;
        }

        DicomVR vr;
        uint length;
        int headerLength;
        if (syntax.Explicit)
        {
            vr = DicomVRInfo.FromBytes(span[4], span[5]);
            if (vr.HasLongLength() || (!vr.IsKnown() && IsUpperAscii(span[4]) && IsUpperAscii(span[5])))
            {
                if (!await _input.EnsureAsync(12, ct).ConfigureAwait(false))
                    return Truncated(at, tag, "element header");
                span = _input.Span;
                if (!vr.IsKnown())
                {
                    // PS3.5 §6.2: VRs defined later use the 32-bit length form; keep the bytes as UN.
                    _problems.Add(new DicomReadProblem(at, tag, $"unknown VR '{(char)span[4]}{(char)span[5]}'; read as UN"));
                    vr = DicomVR.UN;
                }
                length = ReadUInt32(span[8..], syntax.BigEndian);
                headerLength = 12;
            }
            else if (vr.IsKnown())
            {
                length = ReadUInt16(span[6..], syntax.BigEndian);
                headerLength = 8;
            }
            else
            {
                // Not a VR at all: this element (often a private one) was written in implicit VR.
                _problems.Add(new DicomReadProblem(at, tag, $"bytes {span[4]:X2} {span[5]:X2} are not a VR; read this element as implicit VR"));
                vr = DicomDictionary.GetImplicitVR(tag);
                length = ReadUInt32(span[4..], syntax.BigEndian);
                headerLength = 8;
            }
        }
        else
        {
            vr = DicomDictionary.GetImplicitVR(tag);
            length = ReadUInt32(span[4..], syntax.BigEndian);
            headerLength = 8;
        }
        _input.Advance(headerLength);

        if (length == UndefinedLength)
            return await ReadUndefinedLengthAsync(ds, tag, vr, syntax, at, ct).ConfigureAwait(false);

        if (vr == DicomVR.SQ)
        {
            var items = new List<DicomDataset>();
            long end = _input.Position + length;
            if (_input.Remaining is { } rem && length > rem)
                _problems.Add(new DicomReadProblem(at, tag, $"sequence length {length} exceeds the {rem} bytes that remain"));
            var r = await ReadNestedItemsAsync(tag, at, items, syntax, end, ds, ct).ConfigureAwait(false);
            Add(ds, new DicomSequence(tag, items), at);
            return r == Step.Damaged ? Step.Damaged : Step.Element;
        }

        if ((length & 1) != 0)
            _problems.Add(new DicomReadProblem(at, tag, $"odd value length {length}"));

        var value = await ReadValueAsync(tag, vr, length, syntax, at, ct).ConfigureAwait(false);
        if (value is null) return Step.Damaged;
        Add(ds, new DicomElement(tag, vr, value.Value), at);
        return Step.Element;
    }

    private static bool IsUpperAscii(byte b) => b is >= (byte)'A' and <= (byte)'Z';

    private void Add(DicomDataset ds, DicomItem item, long at)
    {
        if (!ds.TryAdd(item))
            _problems.Add(new DicomReadProblem(at, item.Tag, "element appears twice; the first is kept"));
    }

    private Step Truncated(long at, DicomTag tag, string what)
    {
        _problems.Add(new DicomReadProblem(at, tag, $"data ends inside the {what}", true));
        return Step.Damaged;
    }

    private async ValueTask<DicomValue?> ReadValueAsync(DicomTag tag, DicomVR vr, uint length, Syntax syntax, long at, CancellationToken ct)
    {
        int swap = syntax.BigEndian ? vr.UnitSize() : 1;
        if (_input.Remaining is { } rem && length > rem)
        {
            _problems.Add(new DicomReadProblem(at, tag, $"value length {length} exceeds the {rem} bytes that remain; value truncated", true));
            // Keep nothing of a truncated value: its meaning is lost, and writing it back would corrupt.
            await _input.SkipAsync(rem, ct).ConfigureAwait(false);
            return null;
        }
        if (length > _options.BulkDataThreshold && _referenceSource is not null && !_input.IsMemory)
        {
            var reference = new BulkDataReference(_referenceSource, _referenceOffset + _input.Position, length, swap);
            long skipped = await _input.SkipAsync(length, ct).ConfigureAwait(false);
            if (skipped < length)
            {
                _problems.Add(new DicomReadProblem(at, tag, $"value length {length} but only {skipped} bytes follow; value dropped", true));
                return null;
            }
            return new DicomValue(reference);
        }
        // No array can be longer than Array.MaxLength, whatever the option says.
        long limit = Math.Min(_options.MaxInMemoryValueLength, Array.MaxLength);
        if (length > limit)
        {
            _problems.Add(new DicomReadProblem(at, tag, $"value of {length} bytes is over the in-memory limit of {limit} and cannot be referenced; stopped", true));
            return null;
        }
        var bytes = await _input.ReadValueAsync((int)length, _arena, ct).ConfigureAwait(false);
        if (bytes.Length < length)
        {
            _problems.Add(new DicomReadProblem(at, tag, $"value length {length} but only {bytes.Length} bytes follow; value dropped", true));
            return null;
        }
        if (swap > 1)
        {
            // Big endian values are kept little endian in memory; slices of the caller's memory must not be
            // changed in place, so they are copied first.
            var copy = bytes.ToArray();
            ByteSwap.ToLittleEndian(copy, swap);
            bytes = copy;
        }
        return new DicomValue(bytes);
    }

    private async ValueTask<Step> ReadUndefinedLengthAsync(DicomDataset ds, DicomTag tag, DicomVR vr, Syntax syntax, long at, CancellationToken ct)
    {
        bool looksEncapsulated = tag == DicomTag.PixelDataTag || (vr is DicomVR.OB or DicomVR.OW && tag.Element == 0x0010 && tag.Group is 0x7FE0);
        if (looksEncapsulated || (vr is DicomVR.OB or DicomVR.OW && syntax.Explicit))
        {
            var step = await ReadFragmentsAsync(ds, tag, vr == DicomVR.UN ? DicomVR.OB : vr, syntax, at, ct).ConfigureAwait(false);
            return step;
        }
        if (vr != DicomVR.SQ && vr != DicomVR.UN)
            _problems.Add(new DicomReadProblem(at, tag, $"undefined length with VR {vr.ToText()}; read as a sequence"));
        // UN of undefined length holds a sequence in implicit VR little endian (PS3.5 §6.2.2 Note 3).
        var inner = vr == DicomVR.UN ? Syntax.ImplicitLittle : syntax;
        var items = new List<DicomDataset>();
        var r = await ReadNestedItemsAsync(tag, at, items, inner, -1, ds, ct).ConfigureAwait(false);
        Add(ds, new DicomSequence(tag, items), at);
        return r == Step.Damaged ? Step.Damaged : Step.Element;
    }

    /// <summary>Reads the items of the sequence <paramref name="tag"/> (at <paramref name="at"/>) one level deeper. Each
    /// level costs a few stack frames (sequence → item → element → sequence), so nesting is limited by
    /// <see cref="DicomReaderOptions.MaxSequenceDepth"/>: 10,000 nested sequences of undefined length (a 200 KB input)
    /// overflowed the stack (at about 1,600 levels with an 8 MB stack), which no caller can catch.</summary>
    private async ValueTask<Step> ReadNestedItemsAsync(DicomTag tag, long at, List<DicomDataset> items, Syntax syntax, long end, DicomDataset parent, CancellationToken ct)
    {
        if (_depth >= _options.MaxSequenceDepth)
        {
            _problems.Add(new DicomReadProblem(at, tag, $"sequence nested more than {_options.MaxSequenceDepth} levels deep (DicomReaderOptions.MaxSequenceDepth); stopped", true));
            return Step.Damaged;
        }
        _depth++;
        try
        {
            return await ReadItemsAsync(items, syntax, end, parent, ct).ConfigureAwait(false);
        }
        finally
        {
            _depth--;
        }
    }

    /// <summary>Reads the items of a sequence until <paramref name="end"/> or the sequence delimiter.</summary>
    private async ValueTask<Step> ReadItemsAsync(List<DicomDataset> items, Syntax syntax, long end, DicomDataset parent, CancellationToken ct)
    {
        while (true)
        {
            if (end >= 0 && _input.Position >= end) return Step.EndOfData;
            if (!await _input.EnsureAsync(8, ct).ConfigureAwait(false))
            {
                if (end >= 0 || _input.Available > 0)
                    _problems.Add(new DicomReadProblem(_input.Position, null, "data ends inside a sequence"));
                // A missing sequence delimiter at the very end of a file is common and harmless.
                return Step.EndOfData;
            }
            long at = _input.Position;
            var span = _input.Span;
            var tag = ReadTag(span, syntax.BigEndian);
            uint len = ReadUInt32(span[4..], syntax.BigEndian);
            if (tag == DicomTag.SequenceDelimitationItem)
            {
                _input.Advance(8);
                if (end >= 0) _problems.Add(new DicomReadProblem(at, tag, "sequence delimiter in a defined-length sequence"));
                return Step.SequenceEnd;
            }
            if (tag != DicomTag.Item)
            {
                if (end >= 0)
                {
                    _problems.Add(new DicomReadProblem(at, tag, "expected an item in a sequence; skipped to the end of the sequence"));
                    await _input.SkipAsync(end - at, ct).ConfigureAwait(false);
                    return Step.EndOfData;
                }
                // An undefined-length sequence without its delimiter: the element belongs to the parent.
                _problems.Add(new DicomReadProblem(at, tag, "sequence delimiter missing; the sequence ends here"));
                return Step.SequenceEnd;
            }
            _input.Advance(8);
            var item = new DicomDataset { Parent = parent };
            items.Add(item);
            Step r;
            if (len == UndefinedLength)
            {
                r = await ReadDatasetAsync(item, syntax, -1, topLevel: false, ct).ConfigureAwait(false);
                if (r == Step.EndOfData) _problems.Add(new DicomReadProblem(_input.Position, DicomTag.Item, "data ends inside an item"));
            }
            else
            {
                if (_input.Remaining is { } rem && len > rem)
                    _problems.Add(new DicomReadProblem(at, DicomTag.Item, $"item length {len} exceeds the {rem} bytes that remain"));
                r = await ReadDatasetAsync(item, syntax, _input.Position + len, topLevel: false, ct).ConfigureAwait(false);
            }
            if (r is Step.Damaged) return r;
            if (r == Step.SequenceEnd)
            {
                // Item delimiter missing: the next tag was an item or the sequence delimiter; let the loop see it.
                continue;
            }
            if (r == Step.EndOfData && (_input.Remaining ?? 1) == 0 && end < 0) return Step.EndOfData;
        }
    }

    /// <summary>Encapsulated pixel data (PS3.5 §A.4): Basic Offset Table item, fragment items, delimiter.</summary>
    private async ValueTask<Step> ReadFragmentsAsync(DicomDataset ds, DicomTag tag, DicomVR vr, Syntax syntax, long at, CancellationToken ct)
    {
        DicomValue? offsetTable = null;
        var fragments = new List<DicomValue>();
        while (true)
        {
            if (!await _input.EnsureAsync(8, ct).ConfigureAwait(false))
            {
                _problems.Add(new DicomReadProblem(_input.Position, tag, "data ends inside encapsulated pixel data (no sequence delimiter)"));
                break;
            }
            long itemAt = _input.Position;
            var span = _input.Span;
            var itemTag = ReadTag(span, syntax.BigEndian);
            uint len = ReadUInt32(span[4..], syntax.BigEndian);
            if (itemTag == DicomTag.SequenceDelimitationItem)
            {
                _input.Advance(8);
                break;
            }
            if (itemTag != DicomTag.Item || len == UndefinedLength)
            {
                _problems.Add(new DicomReadProblem(itemAt, itemTag, "expected a fragment item in encapsulated pixel data; stopped", true));
                Add(ds, new DicomFragmentSequence(tag, vr, offsetTable ?? new DicomValue(ReadOnlyMemory<byte>.Empty), fragments), at);
                return Step.Damaged;
            }
            _input.Advance(8);
            // Fragments are byte streams: never swapped, whatever the syntax.
            var value = await ReadValueAsync(itemTag, DicomVR.OB, len, syntax with { BigEndian = false }, itemAt, ct).ConfigureAwait(false);
            if (value is null)
            {
                Add(ds, new DicomFragmentSequence(tag, vr, offsetTable ?? new DicomValue(ReadOnlyMemory<byte>.Empty), fragments), at);
                return Step.Damaged;
            }
            if (offsetTable is null) offsetTable = value;
            else fragments.Add(value.Value);
        }
        Add(ds, new DicomFragmentSequence(tag, vr, offsetTable ?? new DicomValue(ReadOnlyMemory<byte>.Empty), fragments), at);
        return Step.Element;
    }

    /// <summary>In implicit VR the dictionary's first VR was assumed; PS3.5 Annex A and PS3.3 say which one
    /// applies for the ambiguous elements: Pixel Data is OW, and "US or SS" follows Pixel Representation.</summary>
    private static void ResolveAmbiguousVRs(DicomDataset ds, Syntax syntax)
    {
        if (syntax.Explicit) return;
        bool signed = ds.GetValueOrDefault<ushort>(DicomTags.PixelRepresentation, 0) == 1;
        List<DicomItem>? changes = null;
        foreach (var item in ds)
        {
            if (item is not DicomElement e || e.VR is not (DicomVR.US or DicomVR.OB)) continue;
            if (e.Tag == DicomTag.PixelDataTag && e.VR == DicomVR.OB) (changes ??= []).Add(e.WithVR(DicomVR.OW));
            else if (signed && e.VR == DicomVR.US && DicomDictionary.TryGet(e.Tag, out var entry) && entry.ValueRepresentations.Contains(DicomVR.SS) && e.Tag.Group == 0x0028)
                (changes ??= []).Add(e.WithVR(DicomVR.SS));
        }
        if (changes is null) return;
        foreach (var c in changes) ds.AddOrUpdate(c);
    }
}
