namespace Yingyun.Archive.EventLog;

/// <summary>Settings of the embedded event log (configuration section <c>Yingyun:EventLog</c>).</summary>
public sealed class EmbeddedEventLogOptions
{
    /// <summary>The log's root, normally <c>&lt;data&gt;/eventlog</c>.</summary>
    public required string Directory { get; init; }

    /// <summary>Partitions of a topic not listed in <see cref="PartitionCounts"/>.</summary>
    public int DefaultPartitionCount { get; init; } = 4;

    /// <summary>
    /// Per-topic partition counts. A topic that already has more partitions on disk keeps them
    /// (as in Kafka, partitions are only ever added; keys then map differently for new records).
    /// </summary>
    public IReadOnlyDictionary<string, int> PartitionCounts { get; init; } = new Dictionary<string, int>();

    /// <summary>A segment is rolled once it would grow past this (one write round may overshoot).</summary>
    public long SegmentBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Bytes of log between two sparse index entries (Kafka's index.interval.bytes).</summary>
    public int IndexIntervalBytes { get; init; } = 4096;

    /// <summary>Largest key + value accepted.</summary>
    public int MaxRecordBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Bytes gathered into one write-and-fsync round before the rest waits for the next.</summary>
    public int MaxRoundBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Bytes one consumer fetch reads from one partition at most (a bigger record is still delivered).</summary>
    public int MaxFetchBytes { get; init; } = 1024 * 1024;

    /// <summary>Segments whose newest record is older than this may be deleted. Null keeps them by age.</summary>
    public TimeSpan? RetentionAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Per partition: above this size the oldest segments may be deleted. Null: no size limit.</summary>
    public long? RetentionBytes { get; init; }

    /// <summary>
    /// Per partition: above this size the oldest segments are deleted even if a consumer group still
    /// needs them, to keep the disk from filling. Null: never.
    /// </summary>
    public long? HardLimitBytes { get; init; }

    /// <summary>How often retention runs in the background; null or zero: only when asked.</summary>
    public TimeSpan? RetentionCheckInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Segment files fsynced concurrently in one round (threads in the flush crew).</summary>
    public int FlushParallelism { get; init; } = 4;

    /// <summary>Clock for record timestamps and retention by age.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Directory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(DefaultPartitionCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(SegmentBytes, 1024L);
        // Index entries hold 32-bit positions; a segment may overshoot by one round.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(SegmentBytes, 1024L * 1024 * 1024);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(IndexIntervalBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxRecordBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxRecordBytes, RecordFrame.AbsoluteMaxFrameSize - RecordFrame.HeaderSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxRoundBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxRoundBytes, 256 * 1024 * 1024);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxFetchBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(FlushParallelism);
        foreach (var (topic, count) in PartitionCounts)
        {
            if (!Topics.IsValidName(topic))
            {
                throw new ArgumentException($"'{topic}' is not a valid topic name.", nameof(PartitionCounts));
            }

            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count, nameof(PartitionCounts));
        }
    }
}
