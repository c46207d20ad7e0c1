using Microsoft.Extensions.Logging;

namespace Yingyun.Archive.Warehouse;

/// <summary>The warehouse's log lines, generated so that disabled levels cost nothing.</summary>
internal static partial class WarehouseMessages
{
    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Warehouse {Table}: record {TraceId} has an unreadable {Field} '{Value}'; stored as NULL, the rest of the record is kept")]
    public static partial void FieldUnreadable(this ILogger logger, string table, string traceId, string field, string? value);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Warehouse {Table}: record {TraceId} has NUL characters in {Field}; stored without them")]
    public static partial void FieldHadNul(this ILogger logger, string table, string traceId, string field);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Warehouse {Table}: record {TraceId} skipped, its key field {Field} is empty")]
    public static partial void RecordWithoutKey(this ILogger logger, string table, string traceId, string field);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Consumer {Group}: record {Position} (trace {TraceId}) is not a readable {Event}: {Problem}; skipped")]
    public static partial void RecordUnreadable(this ILogger logger, string group, string position, string? traceId, string @event, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Group}: record {Position} is from topic {Topic}, which it does not read; skipped")]
    public static partial void UnexpectedTopic(this ILogger logger, string group, string position, string topic);

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "Warehouse: {Count} rows {How} in {Milliseconds:F1} ms")]
    public static partial void BatchWritten(this ILogger logger, int count, string how, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Warehouse: DuckDB {Version} at {DataSource}")]
    public static partial void Opened(this ILogger logger, string version, string dataSource);
}
