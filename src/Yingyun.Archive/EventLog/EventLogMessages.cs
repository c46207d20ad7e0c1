using Microsoft.Extensions.Logging;

namespace Yingyun.Archive.EventLog;

/// <summary>The event log's log lines, generated so that disabled levels cost nothing.</summary>
internal static partial class EventLogMessages
{
    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Event log {Topic}-{Partition}: torn tail in {Segment}: {Problem} at byte {Position}; truncated {Bytes} bytes, offsets continue at {Offset}")]
    public static partial void TornTail(this ILogger logger, string topic, int partition, string segment, string? problem,
        long position, long bytes, long offset);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Event log {Topic}-{Partition}: sealed segment {Segment} is damaged at byte {Position} ({Problem}); its records from offset {Offset} on are unreadable")]
    public static partial void SealedSegmentDamaged(this ILogger logger, string topic, int partition, string segment, long position,
        string problem, long offset);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Event log {Topic}-{Partition}: segment {Segment} ends at offset {End} but the next one starts at {Next}")]
    public static partial void SegmentGap(this ILogger logger, string topic, int partition, string segment, long end, long next);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Event log: offsets of consumer group {Group} in {File} are unreadable; the group restarts from the earliest records")]
    public static partial void GroupOffsetsUnreadable(this ILogger logger, Exception exception, string group, string file);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Event log: topic {Topic} keeps its {Count} partitions on disk ({Configured} configured)")]
    public static partial void PartitionsKept(this ILogger logger, string topic, int count, int configured);

    [LoggerMessage(Level = LogLevel.Critical,
        Message = "Event log: a write round failed; the log takes no more appends until it is reopened")]
    public static partial void WriteFailed(this ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Event log {Topic}-{Partition}: over the hard size limit, deleting segment {Segment} (offsets {From}-{To}) that consumer groups {Groups} have not consumed")]
    public static partial void HardLimitDelete(this ILogger logger, string topic, int partition, string segment, long from, long to, string groups);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Event log {Topic}-{Partition}: retention deleted segment {Segment} (offsets {From}-{To})")]
    public static partial void RetentionDeleted(this ILogger logger, string topic, int partition, string segment, long from, long to);

    [LoggerMessage(Level = LogLevel.Error, Message = "Event log: retention failed; it is tried again at the next interval")]
    public static partial void RetentionFailed(this ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Event log {Topic}-{Partition}: consumer group {Group} was at offset {Offset}, already deleted by retention; it continues at {Start}")]
    public static partial void PositionDeleted(this ILogger logger, string topic, int partition, string group, long offset, long start);
}
