using System.Buffers;

namespace Yingyun.Dicom;

/// <summary>A forward reader over a stream with a pooled window, or over memory with no copying at all.
/// Positions are absolute offsets from the start of the source, for references and error messages.</summary>
internal sealed class DicomInput : IDisposable
{
    private const int InitialWindow = 64 * 1024;
    private const int ReadAhead = 16 * 1024;
    private readonly Stream? _stream;
    private byte[] _buffer;
    private readonly bool _pooled;
    private int _start;
    private int _end;
    private long _bufferOrigin; // absolute position of _buffer[0]
    private bool _eof;
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly bool _memoryMode;

    public DicomInput(Stream stream, long origin = 0)
    {
        _stream = stream;
        _buffer = ArrayPool<byte>.Shared.Rent(InitialWindow);
        _pooled = true;
        _bufferOrigin = origin;
        CanSeek = stream.CanSeek;
        if (CanSeek)
        {
            try { Length = stream.Length - stream.Position + origin; } catch (NotSupportedException) { CanSeek = false; }
        }
    }

    public DicomInput(ReadOnlyMemory<byte> memory)
    {
        _memory = memory;
        _memoryMode = true;
        _buffer = [];
        _end = memory.Length;
        _eof = true;
        Length = memory.Length;
    }

    /// <summary>The stream can seek: skipped values can be read again later.</summary>
    public bool CanSeek { get; }

    /// <summary>Total length if known (seekable stream or memory), else null.</summary>
    public long? Length { get; }

    public bool IsMemory => _memoryMode;

    public long Position => _bufferOrigin + _start;

    public int Available => _end - _start;

    public ReadOnlySpan<byte> Span => _memoryMode ? _memory.Span[_start.._end] : _buffer.AsSpan(_start, _end - _start);

    public long? Remaining => Length - Position;

    /// <summary>Makes at least <paramref name="count"/> bytes available; false if the source ends first.</summary>
    public ValueTask<bool> EnsureAsync(int count, CancellationToken ct)
    {
        if (_end - _start >= count) return ValueTask.FromResult(true);
        if (_eof) return ValueTask.FromResult(false);
        return FillAsync(count, ct);
    }

    private async ValueTask<bool> FillAsync(int count, CancellationToken ct)
    {
        if (count > _buffer.Length - _start)
        {
            if (_start > 0 && count <= _buffer.Length)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            }
            else
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(count, _buffer.Length * 2));
                Buffer.BlockCopy(_buffer, _start, bigger, 0, _end - _start);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }
            _bufferOrigin += _start;
            _end -= _start;
            _start = 0;
        }
        while (_end - _start < count)
        {
            // Ask for what is needed plus a modest read-ahead: a header-only read of a 500 KB CT slice then
            // touches one small block, while long values bypass the window (ReadValueAsync).
            int want = Math.Min(_buffer.Length - _end, Math.Max(count - (_end - _start), ReadAhead));
            int n = await _stream!.ReadAsync(_buffer.AsMemory(_end, want), ct).ConfigureAwait(false);
            if (n == 0)
            {
                _eof = true;
                return false;
            }
            _end += n;
        }
        return true;
    }

    public void Advance(int count) => _start += count;

    /// <summary>Skips <paramref name="count"/> bytes: seeks where possible, otherwise reads and discards.
    /// Returns the number actually skipped (less at end of data).</summary>
    public async ValueTask<long> SkipAsync(long count, CancellationToken ct)
    {
        int inBuffer = (int)Math.Min(count, _end - _start);
        _start += inBuffer;
        long left = count - inBuffer;
        if (left == 0 || _memoryMode) return inBuffer;
        _bufferOrigin += _end;
        _start = _end = 0;
        if (CanSeek)
        {
            long target = Math.Min(left, Remaining ?? left);
            _stream!.Seek(target, SeekOrigin.Current);
            _bufferOrigin += target;
            if (target < left) _eof = true;
            return inBuffer + target;
        }
        long skipped = inBuffer;
        while (left > 0)
        {
            int n = await _stream!.ReadAsync(_buffer.AsMemory(0, (int)Math.Min(_buffer.Length, left)), ct).ConfigureAwait(false);
            if (n == 0) { _eof = true; break; }
            left -= n;
            skipped += n;
            _bufferOrigin += n;
        }
        return skipped;
    }

    /// <summary>Reads a value of <paramref name="length"/> bytes: a slice of the source in memory mode, else a copy
    /// into <paramref name="arena"/>. Returns fewer bytes if the data ends early. Never allocates more than
    /// what has actually arrived plus one window.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadValueAsync(int length, ValueArena arena, CancellationToken ct)
    {
        if (_memoryMode)
        {
            int n = Math.Min(length, _end - _start);
            var slice = _memory.Slice(_start, n);
            _start += n;
            return slice;
        }
        if (length <= _end - _start || (length <= InitialWindow && await EnsureAsync(length, ct).ConfigureAwait(false)))
        {
            var dest = arena.Allocate(length);
            _buffer.AsSpan(_start, length).CopyTo(dest.Span);
            _start += length;
            return dest;
        }
        if (Remaining is { } remaining && length <= remaining)
        {
            // The source's length is known and covers the value: read straight into an exact array.
            var exact = GC.AllocateUninitializedArray<byte>(length);
            int have = _end - _start;
            _buffer.AsSpan(_start, have).CopyTo(exact);
            _start = _end;
            int filled = have;
            while (filled < length)
            {
                int n = await _stream!.ReadAsync(exact.AsMemory(filled), ct).ConfigureAwait(false);
                if (n == 0) { _eof = true; break; }
                filled += n;
            }
            _bufferOrigin += filled - have + _end;
            _start = _end = 0;
            return exact.AsMemory(0, filled);
        }
        // A long value from a stream of unknown length: grow the copy as bytes arrive, so a lying length
        // field costs at most what was really sent.
        var chunks = new ArrayBufferWriter<byte>(Math.Min(length, 1 << 20));
        int left = length;
        while (left > 0)
        {
            if (_end == _start && !await EnsureAsync(1, ct).ConfigureAwait(false)) break;
            int take = Math.Min(left, _end - _start);
            chunks.Write(_buffer.AsSpan(_start, take));
            _start += take;
            left -= take;
        }
        return chunks.WrittenMemory;
    }

    /// <summary>Switches to reading from a new stream that continues where this one is (a DeflateStream over
    /// the rest): returns a stream of the unread buffered bytes followed by the underlying stream.</summary>
    public Stream DetachRest()
    {
        var rest = _memoryMode ? _memory[_start..].ToArray() : _buffer.AsSpan(_start, _end - _start).ToArray();
        _start = _end;
        return _memoryMode ? new MemoryStream(rest, writable: false) : new ConcatenatedStream(rest, _stream!);
    }

    public void Dispose()
    {
        if (_pooled && _buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private sealed class ConcatenatedStream(byte[] head, Stream tail) : ForwardOnlyReadStream
    {
        private int _headPos;

        public override int Read(Span<byte> buffer)
        {
            if (_headPos < head.Length)
            {
                int n = Math.Min(buffer.Length, head.Length - _headPos);
                head.AsSpan(_headPos, n).CopyTo(buffer);
                _headPos += n;
                return n;
            }
            return tail.Read(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_headPos < head.Length) return Read(buffer.Span);
            return await tail.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Values of one data set read from a stream are copied into a few large chunks rather than
/// one array each: reading allocates per chunk, not per element.</summary>
internal sealed class ValueArena
{
    private const int FirstChunk = 2 * 1024;
    private const int MaxChunk = 16 * 1024;
    private byte[]? _chunk;
    private int _used;

    public Memory<byte> Allocate(int length)
    {
        if (length == 0) return Memory<byte>.Empty;
        if (length > MaxChunk / 4) return GC.AllocateUninitializedArray<byte>(length);
        if (_chunk is null || _used + length > _chunk.Length)
        {
            // Chunks start small (a typical header's text fits in 2 KiB) and double for larger data sets.
            int size = _chunk is null ? FirstChunk : Math.Min(MaxChunk, _chunk.Length * 2);
            _chunk = GC.AllocateUninitializedArray<byte>(Math.Max(size, length));
            _used = 0;
        }
        var m = _chunk.AsMemory(_used, length);
        _used = Math.Min(_chunk.Length, _used + ((length + 1) & ~1));
        return m;
    }
}
