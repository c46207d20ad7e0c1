using System.Buffers.Binary;

namespace Yingyun.Archive.EventLog;

/// <summary>
/// One record on disk, little-endian:
/// <code>
/// [length u32][crc32c u32][offset i64][timestamp i64, Unix ms][key length i32][key][value]
/// </code>
/// <c>length</c> counts every byte after itself; the CRC-32C covers every byte after itself
/// (offset through value), so a torn or overwritten frame, or one moved to the wrong place, fails
/// the check. The value's length is what is left of <c>length</c>.
/// </summary>
internal static class RecordFrame
{
    public const int HeaderSize = 28;

    /// <summary>Bytes after the length field that are not key or value.</summary>
    public const int LengthOverhead = HeaderSize - 4;

    private const int CrcStart = 8;

    /// <summary>
    /// No frame is ever bigger; a length field above it is damage. It bounds what a corrupt length
    /// can make a reader allocate, independently of today's configured record limit.
    /// </summary>
    public const int AbsoluteMaxFrameSize = 64 * 1024 * 1024;

    public static int FrameSize(int keyLength, int valueLength) => HeaderSize + keyLength + valueLength;

    /// <summary>Writes key and value; offset, timestamp and CRC are left for <see cref="Seal"/>.</summary>
    public static void WriteBody(Span<byte> frame, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)(frame.Length - 4));
        BinaryPrimitives.WriteInt32LittleEndian(frame[24..], key.Length);
        key.CopyTo(frame[HeaderSize..]);
        value.CopyTo(frame[(HeaderSize + key.Length)..]);
    }

    /// <summary>Stamps offset and timestamp and computes the CRC, when the writer knows them.</summary>
    public static void Seal(Span<byte> frame, long offset, long timestampMs)
    {
        BinaryPrimitives.WriteInt64LittleEndian(frame[8..], offset);
        BinaryPrimitives.WriteInt64LittleEndian(frame[16..], timestampMs);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], Crc32C.Compute(frame[CrcStart..]));
    }

    /// <summary>
    /// Reads the frame header at the start of <paramref name="buffer"/>: <see cref="FrameStatus.Incomplete"/>
    /// when more bytes are needed (<paramref name="frameSize"/> then says how many, if the length was
    /// readable), <see cref="FrameStatus.Corrupt"/> when the bytes cannot be a frame.
    /// </summary>
    public static FrameStatus TryRead(ReadOnlySpan<byte> buffer, out FrameHeader header, out int frameSize)
    {
        header = default;
        frameSize = 0;
        if (buffer.Length < 4)
        {
            return FrameStatus.Incomplete;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
        if (length < LengthOverhead || length > AbsoluteMaxFrameSize - 4)
        {
            return FrameStatus.Corrupt;
        }

        frameSize = (int)length + 4;
        if (buffer.Length < frameSize)
        {
            return FrameStatus.Incomplete;
        }

        var frame = buffer[..frameSize];
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]);
        if (Crc32C.Compute(frame[CrcStart..]) != crc)
        {
            return FrameStatus.Corrupt;
        }

        var keyLength = BinaryPrimitives.ReadInt32LittleEndian(frame[24..]);
        if (keyLength < 0 || keyLength > frameSize - HeaderSize)
        {
            return FrameStatus.Corrupt;
        }

        header = new FrameHeader(
            BinaryPrimitives.ReadInt64LittleEndian(frame[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(frame[16..]),
            keyLength,
            frameSize - HeaderSize - keyLength);
        return FrameStatus.Ok;
    }
}

internal enum FrameStatus
{
    Ok,
    Incomplete,
    Corrupt,
}

internal readonly record struct FrameHeader(long Offset, long TimestampMs, int KeyLength, int ValueLength);
