using System.Buffers.Binary;

namespace Yingyun.Archive.EventLog;

/// <summary>One sparse index entry: a record's offset, its byte position and its timestamp.</summary>
internal readonly record struct IndexEntry(long Offset, int Position, long TimestampMs);

/// <summary>
/// The sparse index of one segment: an entry for the first record and then one every
/// <c>IndexIntervalBytes</c>. Offsets and (monotonic) timestamps both grow with position, so one
/// index serves seeks by offset and by time. The writer thread appends; readers search at the
/// same time without locks: an entry is stored before the count that exposes it, and a grown
/// array is published before the count passes the old capacity.
/// </summary>
internal sealed class SegmentIndex
{
    public const int EntrySize = 16;

    /// <summary>Trailer of an index file: end offset, last timestamp, entry count, CRC-32C.</summary>
    private const int TrailerSize = 24;

    private IndexEntry[] _entries;
    private int _count;

    public SegmentIndex(int capacity = 16) => _entries = new IndexEntry[Math.Max(capacity, 1)];

    public int Count => Volatile.Read(ref _count);

    public IndexEntry this[int i] => Volatile.Read(ref _entries)[i];

    /// <summary>Writer only.</summary>
    public void Add(IndexEntry entry)
    {
        var count = _count;
        var entries = _entries;
        if (count == entries.Length)
        {
            var grown = new IndexEntry[entries.Length * 2];
            entries.CopyTo(grown, 0);
            Volatile.Write(ref _entries, grown);
            entries = grown;
        }

        entries[count] = entry;
        Volatile.Write(ref _count, count + 1);
    }

    /// <summary>The last entry at or before <paramref name="offset"/>, or the first entry.</summary>
    public IndexEntry FloorByOffset(long offset)
    {
        var count = Count;
        var entries = Volatile.Read(ref _entries);
        int lo = 0, hi = count - 1, found = 0;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (entries[mid].Offset <= offset)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return count == 0 ? default : entries[found];
    }

    /// <summary>The last entry whose timestamp is before <paramref name="timestampMs"/>, or the first entry.</summary>
    public IndexEntry FloorBeforeTime(long timestampMs)
    {
        var count = Count;
        var entries = Volatile.Read(ref _entries);
        int lo = 0, hi = count - 1, found = 0;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (entries[mid].TimestampMs < timestampMs)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return count == 0 ? default : entries[found];
    }

    /// <summary>
    /// The file written when a segment is sealed: entries (relative offset u32, position u32,
    /// timestamp i64) then the trailer (end offset i64, last timestamp i64, entry count u32,
    /// CRC-32C u32 of everything before it). The CRC lets a torn or stale index be detected and
    /// rebuilt from the segment, which is the source of truth.
    /// </summary>
    public byte[] Serialize(long baseOffset, long endOffset, long lastTimestampMs)
    {
        var count = Count;
        var bytes = new byte[(count * EntrySize) + TrailerSize];
        var span = bytes.AsSpan();
        for (var i = 0; i < count; i++)
        {
            var e = _entries[i];
            var at = span[(i * EntrySize)..];
            BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)(e.Offset - baseOffset));
            BinaryPrimitives.WriteUInt32LittleEndian(at[4..], (uint)e.Position);
            BinaryPrimitives.WriteInt64LittleEndian(at[8..], e.TimestampMs);
        }

        var trailer = span[(count * EntrySize)..];
        BinaryPrimitives.WriteInt64LittleEndian(trailer, endOffset);
        BinaryPrimitives.WriteInt64LittleEndian(trailer[8..], lastTimestampMs);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[16..], (uint)count);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[20..], Crc32C.Compute(span[..^4]));
        return bytes;
    }

    /// <summary>Reads an index file; false when it is damaged or does not fit the segment.</summary>
    public static bool TryDeserialize(ReadOnlySpan<byte> bytes, long baseOffset, long segmentSize,
        out SegmentIndex index, out long endOffset, out long lastTimestampMs)
    {
        index = new SegmentIndex();
        endOffset = 0;
        lastTimestampMs = 0;
        if (bytes.Length < TrailerSize || (bytes.Length - TrailerSize) % EntrySize != 0)
        {
            return false;
        }

        var trailer = bytes[^TrailerSize..];
        if (Crc32C.Compute(bytes[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(trailer[20..]))
        {
            return false;
        }

        var count = (bytes.Length - TrailerSize) / EntrySize;
        if (BinaryPrimitives.ReadUInt32LittleEndian(trailer[16..]) != (uint)count)
        {
            return false;
        }

        endOffset = BinaryPrimitives.ReadInt64LittleEndian(trailer);
        lastTimestampMs = BinaryPrimitives.ReadInt64LittleEndian(trailer[8..]);
        index = new SegmentIndex(count);
        var previousPosition = -1L;
        for (var i = 0; i < count; i++)
        {
            var at = bytes[(i * EntrySize)..];
            var entry = new IndexEntry(
                baseOffset + BinaryPrimitives.ReadUInt32LittleEndian(at),
                (int)BinaryPrimitives.ReadUInt32LittleEndian(at[4..]),
                BinaryPrimitives.ReadInt64LittleEndian(at[8..]));
            if (entry.Position <= previousPosition || entry.Position >= segmentSize || entry.Offset >= endOffset)
            {
                return false;
            }

            previousPosition = entry.Position;
            index.Add(entry);
        }

        // A non-empty segment always indexes its first record at position 0.
        return segmentSize == 0 ? count == 0 && endOffset == baseOffset : count > 0 && index[0].Position == 0 && index[0].Offset == baseOffset;
    }
}
