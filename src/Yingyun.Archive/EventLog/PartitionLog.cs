using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Yingyun.Archive.EventLog;

/// <summary>
/// One topic partition: a directory <c>&lt;topic&gt;-&lt;partition&gt;</c> of segments ordered by base
/// offset. Only the last segment takes appends. The segment list is copy-on-write so readers take
/// a snapshot without locking; the writer thread (rolls) and retention (deletes) change it under a lock.
/// </summary>
internal sealed class PartitionLog : IDisposable
{
    private readonly Lock _segmentsLock = new();
    private Segment[] _segments;

    private PartitionLog(TopicLog topic, int partition, string directory, Segment[] segments, long lastIndexedPosition)
    {
        Topic = topic;
        Partition = partition;
        Directory = directory;
        _segments = segments;
        LastIndexedPosition = lastIndexedPosition;
        // The newest timestamp of any segment: the active one may be empty after a roll.
        LastTimestampMs = segments.Max(s => s.LastTimestampMs);
    }

    public TopicLog Topic { get; }

    public int Partition { get; }

    public string Directory { get; }

    public Segment[] Segments => Volatile.Read(ref _segments);

    public long LogStartOffset => Segments[0].BaseOffset;

    /// <summary>The offset after the last durable record (Kafka's high watermark).</summary>
    public long HighWatermark => Segments[^1].EndOffset;

    public long SizeBytes
    {
        get
        {
            long total = 0;
            foreach (var segment in Segments)
            {
                total += segment.Size;
            }

            return total;
        }
    }

    // ---- writer thread state (touched by the writer only) --------------------------------

    /// <summary>Byte position of the active segment's last index entry.</summary>
    internal long LastIndexedPosition { get; set; }

    /// <summary>Timestamps never go backwards within a partition, so seeks by time can binary-search.</summary>
    internal long LastTimestampMs { get; set; }

    internal List<(AppendRequest Request, int Item)> RoundItems { get; } = [];

    internal List<ReadOnlyMemory<byte>> RoundBuffers { get; } = [];

    internal List<IndexEntry> RoundIndexEntries { get; } = [];

    internal long RoundBytes { get; set; }

    internal long RoundEndPosition { get; set; }

    internal long RoundEndOffset { get; set; }

    internal long RoundTimestampMs { get; set; }

    internal bool InRound { get; set; }

    public static string DirectoryName(string topic, int partition) =>
        topic + "-" + partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>Opens (recovering the active segment) or creates a partition directory.</summary>
    public static PartitionLog Open(TopicLog topic, int partition, string root, EmbeddedEventLogOptions options, ILogger logger)
    {
        var directory = Path.Combine(root, DirectoryName(topic.Name, partition));
        if (!System.IO.Directory.Exists(directory))
        {
            System.IO.Directory.CreateDirectory(directory);
            // Same reason as for a new segment: the partition directory's own entry must be durable.
            FileSync.FlushDirectory(root);
        }

        var baseOffsets = new List<long>();
        foreach (var file in System.IO.Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(file);
            if (name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                File.Delete(file);
            }
            else if (name.EndsWith(".log", StringComparison.Ordinal)
                && long.TryParse(name.AsSpan(0, name.Length - 4), NumberStyles.None, CultureInfo.InvariantCulture, out var baseOffset))
            {
                baseOffsets.Add(baseOffset);
            }
        }

        baseOffsets.Sort();
        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*.index"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (!long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var b) || baseOffsets.BinarySearch(b) < 0)
            {
                // Left by a retention delete that stopped between the two unlinks.
                File.Delete(file);
            }
        }

        if (baseOffsets.Count == 0)
        {
            var fresh = Segment.CreateNew(directory, 0);
            return new PartitionLog(topic, partition, directory, [fresh], 0);
        }

        var segments = new Segment[baseOffsets.Count];
        try
        {
            for (var i = 0; i < baseOffsets.Count - 1; i++)
            {
                segments[i] = Segment.OpenSealed(directory, baseOffsets[i], options.IndexIntervalBytes, out var rebuilt);
                if (rebuilt?.Problem is { } problem)
                {
                    logger.SealedSegmentDamaged(topic.Name, partition, Path.GetFileName(segments[i].LogPath), rebuilt.ValidLength,
                        problem, rebuilt.EndOffset);
                }
            }

            var tail = segments[^1] = Segment.OpenTail(directory, baseOffsets[^1], options.IndexIntervalBytes, out var scan);
            if (scan.ValidLength < scan.FileLength)
            {
                logger.TornTail(topic.Name, partition, Path.GetFileName(tail.LogPath), scan.Problem, scan.ValidLength,
                    scan.FileLength - scan.ValidLength, scan.EndOffset);
            }

            for (var i = 0; i < segments.Length - 1; i++)
            {
                if (segments[i].EndOffset != segments[i + 1].BaseOffset)
                {
                    logger.SegmentGap(topic.Name, partition, Path.GetFileName(segments[i].LogPath), segments[i].EndOffset,
                        segments[i + 1].BaseOffset);
                }
            }

            return new PartitionLog(topic, partition, directory, segments, scan.LastIndexedPosition);
        }
        catch
        {
            foreach (var s in segments)
            {
                s?.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Writer only, between rounds: seals the active segment and starts a new one at its end offset.
    /// Everything in the old segment is already durable (each round fsyncs before the next starts),
    /// so a crash can only ever leave the last segment torn.
    /// </summary>
    public void Roll()
    {
        var old = Segments[^1];
        var fresh = Segment.CreateNew(Directory, old.EndOffset);
        old.TryWriteIndexFile();
        lock (_segmentsLock)
        {
            Volatile.Write(ref _segments, [.. _segments, fresh]);
        }

        LastIndexedPosition = 0;
    }

    /// <summary>
    /// Retention: removes the oldest segment if it is still <paramref name="expected"/> and not the
    /// active one. Its files are unlinked at once; readers holding it finish or see it disposed.
    /// </summary>
    public bool TryRemoveOldest(Segment expected)
    {
        lock (_segmentsLock)
        {
            if (_segments.Length < 2 || !ReferenceEquals(_segments[0], expected))
            {
                return false;
            }

            Volatile.Write(ref _segments, _segments[1..]);
        }

        // The log first: a crash between the two unlinks leaves an orphan index, removed at open.
        File.Delete(expected.LogPath);
        File.Delete(expected.IndexPath);
        expected.Dispose();
        return true;
    }

    /// <summary>The segment holding <paramref name="offset"/>: the last one starting at or before it.</summary>
    public static Segment FindSegment(Segment[] segments, long offset)
    {
        int lo = 0, hi = segments.Length - 1, found = 0;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (segments[mid].BaseOffset <= offset)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return segments[found];
    }

    /// <summary>The first offset whose timestamp is at or after <paramref name="timestampMs"/>, else the end.</summary>
    public long OffsetForTime(long timestampMs)
    {
        var segments = Segments;
        foreach (var segment in segments)
        {
            if (!segment.IsEmpty && segment.LastTimestampMs >= timestampMs
                && segment.FindOffsetAtOrAfter(timestampMs) is { } offset)
            {
                return offset;
            }
        }

        return segments[^1].EndOffset;
    }

    public void Dispose()
    {
        foreach (var segment in Segments)
        {
            segment.Dispose();
        }
    }
}

/// <summary>A topic: its partitions and the signal that wakes its consumers.</summary>
internal sealed class TopicLog
{
    public TopicLog(string name) => Name = name;

    public string Name { get; }

    public PartitionLog[] Partitions { get; set; } = [];

    public AsyncSignal Signal { get; } = new();
}
