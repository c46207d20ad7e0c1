using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Yingyun.Archive.EventLog;

/// <summary>
/// Walks the frames of a segment file front to back through one pooled buffer, for recovery,
/// index rebuilds and seeks by time. Each frame is CRC-checked as it is read.
/// </summary>
internal sealed class FrameCursor : IDisposable
{
    private const int ChunkSize = 256 * 1024;

    private readonly SafeFileHandle _handle;
    private readonly long _limit;
    private byte[] _buffer;
    private long _bufferFilePosition;
    private int _bufferLength;

    public FrameCursor(SafeFileHandle handle, long startPosition, long limit)
    {
        _handle = handle;
        _limit = limit;
        Position = startPosition;
        _buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
    }

    /// <summary>Where the next frame starts (after <see cref="Next"/> returned Ok, past that frame).</summary>
    public long Position { get; private set; }

    public bool AtEnd => Position >= _limit;

    /// <summary>Goes back to a frame start already passed (the buffer still covers it or is refilled).</summary>
    public void Rewind(long position) => Position = position;

    /// <summary>
    /// Reads the frame at <see cref="Position"/>. Ok advances past it; Incomplete means the file
    /// ends inside it (a torn write); Corrupt means its bytes fail the checks.
    /// </summary>
    public FrameStatus Next(out FrameHeader header)
    {
        var refilled = false;
        while (true)
        {
            var available = _bufferFilePosition + _bufferLength - Position;
            var status = FrameStatus.Incomplete;
            var frameSize = 0;
            header = default;
            if (Position >= _bufferFilePosition && available > 0)
            {
                status = RecordFrame.TryRead(
                    _buffer.AsSpan((int)(Position - _bufferFilePosition), (int)available), out header, out frameSize);
            }

            if (status == FrameStatus.Ok)
            {
                Position += frameSize;
                return status;
            }

            if (status == FrameStatus.Corrupt)
            {
                return status;
            }

            var needed = frameSize > 0 ? frameSize : 4;
            if (refilled || Position + needed > _limit)
            {
                return FrameStatus.Incomplete;
            }

            Refill(needed);
            refilled = true;
        }
    }

    private void Refill(int needed)
    {
        if (needed > _buffer.Length)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(needed);
        }

        var length = (int)Math.Min(_buffer.Length, _limit - Position);
        _bufferFilePosition = Position;
        _bufferLength = ReadFully(_handle, _buffer.AsSpan(0, length), Position);
    }

    internal static int ReadFully(SafeFileHandle handle, Span<byte> destination, long fileOffset)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var n = RandomAccess.Read(handle, destination[total..], fileOffset + total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
