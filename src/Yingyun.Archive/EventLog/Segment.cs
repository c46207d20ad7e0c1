using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Yingyun.Archive.EventLog;

/// <summary>
/// One segment of a partition: <c>&lt;baseoffset&gt;.log</c> holding frames (see <see cref="RecordFrame"/>)
/// and, once sealed, <c>&lt;baseoffset&gt;.index</c> (see <see cref="SegmentIndex.Serialize"/>).
/// <see cref="Size"/> and <see cref="EndOffset"/> only ever cover durable bytes: the writer
/// publishes them after the fsync, and readers never look past them.
/// </summary>
internal sealed class Segment : IDisposable
{
    private readonly Lock _indexLock = new();
    private SegmentIndex? _index;
    private long _size;
    private long _endOffset;
    private long _lastTimestampMs;

    private Segment(string directory, long baseOffset, SafeFileHandle handle)
    {
        BaseOffset = baseOffset;
        LogPath = Path.Combine(directory, FileName(baseOffset, ".log"));
        IndexPath = Path.Combine(directory, FileName(baseOffset, ".index"));
        Handle = handle;
        _endOffset = baseOffset;
    }

    public long BaseOffset { get; }

    public string LogPath { get; }

    public string IndexPath { get; }

    public SafeFileHandle Handle { get; }

    public long Size => Volatile.Read(ref _size);

    /// <summary>The offset after this segment's last durable record.</summary>
    public long EndOffset => Volatile.Read(ref _endOffset);

    public long LastTimestampMs => Volatile.Read(ref _lastTimestampMs);

    public bool IsEmpty => EndOffset == BaseOffset;

    public static string FileName(long baseOffset, string extension) =>
        baseOffset.ToString("D20", CultureInfo.InvariantCulture) + extension;

    /// <summary>
    /// The sparse index. Sealed segments load theirs on first use (most are never read again, so
    /// their entries are not kept in memory from the start); a missing or damaged file is rebuilt
    /// from the segment itself.
    /// </summary>
    public SegmentIndex Index
    {
        get
        {
            var index = Volatile.Read(ref _index);
            if (index is not null)
            {
                return index;
            }

            lock (_indexLock)
            {
                if (_index is null)
                {
                    var size = Size;
                    if (!TryLoadIndexFile(size, out index, out _, out _))
                    {
                        index = Scan(Handle, size, BaseOffset, IndexIntervalForRebuild).Index;
                    }

                    Volatile.Write(ref _index, index);
                }

                return _index;
            }
        }
    }

    /// <summary>Used only when a sealed segment's index has to be rebuilt on demand.</summary>
    internal static int IndexIntervalForRebuild { get; set; } = 4096;

    /// <summary>Creates an empty segment file and makes its name durable.</summary>
    public static Segment CreateNew(string directory, long baseOffset)
    {
        var path = Path.Combine(directory, FileName(baseOffset, ".log"));
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        // The new file's directory entry is not durable until the directory is synced; without it
        // a power loss could drop the whole segment although its records were fsynced.
        FileSync.FlushDirectory(directory);
        var segment = new Segment(directory, baseOffset, handle) { _index = new SegmentIndex() };
        return segment;
    }

    /// <summary>Opens a sealed segment, trusting its index file when it checks out, else scanning it.</summary>
    public static Segment OpenSealed(string directory, long baseOffset, int indexInterval, out ScanResult? rebuilt)
    {
        rebuilt = null;
        var path = Path.Combine(directory, FileName(baseOffset, ".log"));
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var segment = new Segment(directory, baseOffset, handle);
        var length = RandomAccess.GetLength(handle);
        if (segment.TryLoadIndexFile(length, out _, out var endOffset, out var lastTimestampMs))
        {
            // Entries are dropped again and loaded on first read (see Index).
            segment.Publish(length, endOffset, lastTimestampMs);
            return segment;
        }

        var scan = Scan(handle, length, baseOffset, indexInterval);
        rebuilt = scan;
        segment._index = scan.Index;
        // Readers never go past damage in a sealed segment; the bytes stay on disk for inspection.
        segment.Publish(scan.ValidLength, scan.EndOffset, scan.LastTimestampMs);
        segment.TryWriteIndexFile();
        return segment;
    }

    /// <summary>
    /// Opens the active (last) segment: scans every frame, truncates a torn or damaged tail at the
    /// last good record and makes the truncation durable.
    /// </summary>
    public static Segment OpenTail(string directory, long baseOffset, int indexInterval, out ScanResult scan)
    {
        var path = Path.Combine(directory, FileName(baseOffset, ".log"));
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        var segment = new Segment(directory, baseOffset, handle);
        var length = RandomAccess.GetLength(handle);
        scan = Scan(handle, length, baseOffset, indexInterval);
        if (scan.ValidLength < length)
        {
            RandomAccess.SetLength(handle, scan.ValidLength);
            RandomAccess.FlushToDisk(handle);
        }

        segment._index = scan.Index;
        segment.Publish(scan.ValidLength, scan.EndOffset, scan.LastTimestampMs);
        // An index file of the active segment is stale by definition (it is rebuilt by the scan
        // above and rewritten when the segment is sealed).
        File.Delete(segment.IndexPath);
        return segment;
    }

    /// <summary>Writer only: makes newly durable bytes visible to readers.</summary>
    /// <remarks>
    /// The end offset is written last: a reader that sees a new end offset (the high watermark)
    /// then also sees the size and timestamp that go with it.
    /// </remarks>
    public void Publish(long size, long endOffset, long lastTimestampMs)
    {
        Volatile.Write(ref _size, size);
        Volatile.Write(ref _lastTimestampMs, lastTimestampMs);
        Volatile.Write(ref _endOffset, endOffset);
    }

    /// <summary>
    /// Writes the index file of a segment that takes no more appends. It is not fsynced: the index
    /// is derived data, carries its own CRC, and is rebuilt from the segment if a crash tears it.
    /// </summary>
    public void TryWriteIndexFile()
    {
        try
        {
            File.WriteAllBytes(IndexPath, Index.Serialize(BaseOffset, EndOffset, LastTimestampMs));
        }
        catch (IOException)
        {
            // Derived data: the next open rebuilds it.
        }
    }

    private bool TryLoadIndexFile(long segmentSize, out SegmentIndex index, out long endOffset, out long lastTimestampMs)
    {
        index = null!;
        endOffset = 0;
        lastTimestampMs = 0;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(IndexPath);
        }
        catch (IOException)
        {
            return false;
        }

        return SegmentIndex.TryDeserialize(bytes, BaseOffset, segmentSize, out index, out endOffset, out lastTimestampMs);
    }

    /// <summary>
    /// Reads durable records from byte <paramref name="position"/> (which must start a frame at or
    /// before <paramref name="fromOffset"/>) into <paramref name="output"/>, skipping records before
    /// <paramref name="fromOffset"/>. Returns how many were added; <paramref name="endPosition"/> is
    /// where the next frame starts. Throws <see cref="InvalidDataException"/> on a CRC failure:
    /// durable data that no longer checks out is disk damage an operator must see.
    /// </summary>
    public int Read(long position, long fromOffset, int maxRecords, int maxBytes, string topic, int partition,
        List<EventRecord> output, out long endPosition)
    {
        endPosition = position;
        var limit = Size;
        if (position >= limit)
        {
            return 0;
        }

        // One fresh array per fetch: the records handed out are slices of it, so it cannot be pooled.
        var buffer = new byte[(int)Math.Min(limit - position, maxBytes)];
        var length = FrameCursor.ReadFully(Handle, buffer, position);
        var consumed = 0;
        var added = 0;
        while (added < maxRecords)
        {
            var status = RecordFrame.TryRead(buffer.AsSpan(consumed, length - consumed), out var header, out var frameSize);
            if (status == FrameStatus.Incomplete)
            {
                if (consumed == 0 && frameSize > 0 && position + frameSize <= limit)
                {
                    // A single record larger than the fetch size still has to be delivered.
                    buffer = new byte[frameSize];
                    length = FrameCursor.ReadFully(Handle, buffer, position);
                    continue;
                }

                break;
            }

            if (status == FrameStatus.Corrupt)
            {
                throw new InvalidDataException(
                    $"Event log segment {Path.GetFileName(LogPath)} of {topic}-{partition}: the record at byte {position + consumed} fails its checks.");
            }

            if (header.Offset >= fromOffset)
            {
                var keyStart = consumed + RecordFrame.HeaderSize;
                output.Add(new EventRecord(topic, partition, header.Offset,
                    DateTimeOffset.FromUnixTimeMilliseconds(header.TimestampMs),
                    buffer.AsMemory(keyStart, header.KeyLength),
                    buffer.AsMemory(keyStart + header.KeyLength, header.ValueLength)));
                added++;
            }

            consumed += frameSize;
        }

        endPosition = position + consumed;
        return added;
    }

    /// <summary>The first offset in this segment whose timestamp is at or after <paramref name="timestampMs"/>, or null.</summary>
    public long? FindOffsetAtOrAfter(long timestampMs)
    {
        var start = Index.FloorBeforeTime(timestampMs);
        using var cursor = new FrameCursor(Handle, start.Position, Size);
        while (!cursor.AtEnd)
        {
            if (cursor.Next(out var header) != FrameStatus.Ok)
            {
                throw new InvalidDataException($"Event log segment {Path.GetFileName(LogPath)}: damaged record at byte {cursor.Position}.");
            }

            if (header.TimestampMs >= timestampMs)
            {
                return header.Offset;
            }
        }

        return null;
    }

    /// <summary>
    /// Validates every frame from the start: length sane, CRC good, offsets dense from the base.
    /// Stops at the first frame that fails; everything before it is the segment's valid content.
    /// </summary>
    public static ScanResult Scan(SafeFileHandle handle, long length, long baseOffset, int indexInterval)
    {
        var index = new SegmentIndex();
        var expected = baseOffset;
        var lastTimestamp = 0L;
        var lastIndexed = long.MinValue / 2;
        string? problem = null;
        using var cursor = new FrameCursor(handle, 0, length);
        while (!cursor.AtEnd)
        {
            var start = cursor.Position;
            var status = cursor.Next(out var header);
            if (status == FrameStatus.Incomplete)
            {
                problem = "partial record (torn write)";
                break;
            }

            if (status == FrameStatus.Corrupt)
            {
                problem = "record fails its length/CRC checks";
                break;
            }

            if (header.Offset != expected)
            {
                cursor.Rewind(start);
                problem = $"record has offset {header.Offset} where {expected} was expected";
                break;
            }

            if (start - lastIndexed >= indexInterval)
            {
                index.Add(new IndexEntry(header.Offset, (int)start, header.TimestampMs));
                lastIndexed = start;
            }

            lastTimestamp = Math.Max(lastTimestamp, header.TimestampMs);
            expected++;
        }

        return new ScanResult(index, cursor.Position, expected, lastTimestamp, length, problem, lastIndexed);
    }

    public void Dispose() => Handle.Dispose();
}

/// <summary>What a scan found: the valid prefix and, if it stopped early, why.</summary>
internal sealed record ScanResult(SegmentIndex Index, long ValidLength, long EndOffset, long LastTimestampMs,
    long FileLength, string? Problem, long LastIndexedPosition);
