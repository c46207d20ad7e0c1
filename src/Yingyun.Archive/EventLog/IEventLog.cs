namespace Yingyun.Archive.EventLog;

/// <summary>
/// The event log port (ARCHITECTURE.md §1, §2): the embedded segment log implements it now, a
/// Kafka adapter later. The semantics are Kafka's so that callers cannot tell the two apart:
/// records live in topic partitions at dense offsets, consumer groups keep committed offsets per
/// partition, delivery is at-least-once, and a committed offset is the offset of the NEXT record
/// the group will read (Kafka's convention), not of the last one processed.
/// </summary>
public interface IEventLog : IAsyncDisposable
{
    /// <summary>
    /// Appends one record to the partition its key hashes to and returns once it is durable
    /// (written and fsynced). Concurrent callers share flushes (group commit).
    /// </summary>
    /// <remarks>
    /// Cancellation only withdraws a record the log has not started writing yet; once writing
    /// started the call ignores the token and returns when the record is durable. A cancelled call
    /// therefore means "not appended", never "perhaps appended".
    /// </remarks>
    ValueTask<EventPosition> AppendAsync(string topic, ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends several records (any topics) and returns once all of them are durable, with one
    /// flush for the whole batch; positions come back in the order of <paramref name="messages"/>.
    /// Records of one partition keep their order; the batch as a whole is not atomic across a
    /// crash (each record is durable or not, like a Kafka producer batch across partitions).
    /// </summary>
    ValueTask<IReadOnlyList<EventPosition>> AppendBatchAsync(IReadOnlyList<EventMessage> messages,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// A consumer of <paramref name="topics"/> for <paramref name="group"/>. It starts at the group's
    /// committed offsets, or at the earliest retained record where the group has none (Kafka's
    /// <c>auto.offset.reset=earliest</c>: archive consumers must see every event).
    /// </summary>
    IEventConsumer CreateConsumer(string group, IReadOnlyList<string> topics);

    /// <summary>Committed offset, end offset and lag of every partition the group follows.</summary>
    ValueTask<IReadOnlyList<PartitionLag>> GetLagAsync(string group, CancellationToken cancellationToken = default);
}

/// <summary>
/// Reads records for one consumer group. Like Kafka's consumer it is not thread-safe: one caller
/// at a time (consume, process, commit, repeat).
/// </summary>
public interface IEventConsumer : IAsyncDisposable
{
    string Group { get; }

    IReadOnlyList<string> Topics { get; }

    /// <summary>
    /// Returns at least one and at most <paramref name="maxRecords"/> records from the current
    /// positions and advances past them; when caught up, waits for an append (no polling) until
    /// <paramref name="cancellationToken"/> is cancelled. Only durable records are delivered.
    /// </summary>
    ValueTask<IReadOnlyList<EventRecord>> ConsumeAsync(int maxRecords, CancellationToken cancellationToken = default);

    /// <summary>
    /// Durably stores the group's committed offsets. Each position is the NEXT offset to read in
    /// its partition (last processed + 1), as in Kafka; see <see cref="EventConsumerExtensions.CommitProcessedAsync"/>.
    /// </summary>
    ValueTask CommitAsync(IEnumerable<EventPosition> positions, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves this consumer's read position (not the committed offset) in one partition. Offsets
    /// before the earliest retained record go to it, offsets past the end go to the end.
    /// </summary>
    ValueTask SeekAsync(string topic, int partition, long offset, CancellationToken cancellationToken = default);

    /// <summary>
    /// This consumer's read position in one partition: the offset of the next record it will
    /// deliver there (Kafka's <c>Position(TopicPartition)</c>). After a seek it is where the seek
    /// landed, which is what a replay commits.
    /// </summary>
    long GetPosition(string topic, int partition);

    /// <summary>
    /// Moves every partition of this consumer to the first record whose timestamp is at or after
    /// <paramref name="time"/> (Kafka's offsetsForTimes), or to the end where there is none.
    /// </summary>
    ValueTask SeekToTimeAsync(DateTimeOffset time, CancellationToken cancellationToken = default);
}

/// <summary>A record's place: topic, partition and offset.</summary>
public readonly record struct EventPosition(string Topic, int Partition, long Offset)
{
    public override string ToString() => $"{Topic}-{Partition}@{Offset}";
}

/// <summary>A record to append. Key and value are opaque bytes; the key chooses the partition.</summary>
public readonly record struct EventMessage(string Topic, ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value);

/// <summary>A delivered record. Timestamps are assigned by the log when it writes (Kafka's LogAppendTime).</summary>
public sealed class EventRecord
{
    public EventRecord(string topic, int partition, long offset, DateTimeOffset timestamp,
        ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value)
    {
        Topic = topic;
        Partition = partition;
        Offset = offset;
        Timestamp = timestamp;
        Key = key;
        Value = value;
    }

    public string Topic { get; }

    public int Partition { get; }

    public long Offset { get; }

    public DateTimeOffset Timestamp { get; }

    public ReadOnlyMemory<byte> Key { get; }

    public ReadOnlyMemory<byte> Value { get; }

    public EventPosition Position => new(Topic, Partition, Offset);

    /// <summary>The position to commit once this record is processed.</summary>
    public EventPosition NextPosition => new(Topic, Partition, Offset + 1);

    public override string ToString() => $"{Topic}-{Partition}@{Offset} ({Key.Length}+{Value.Length} bytes)";
}

/// <summary>
/// One partition's lag for a group. <see cref="CommittedOffset"/> is null where the group has not
/// committed yet; lag then counts every retained record.
/// </summary>
public readonly record struct PartitionLag(string Topic, int Partition, long? CommittedOffset, long LogStartOffset, long EndOffset)
{
    public long Lag => EndOffset - Math.Max(CommittedOffset ?? LogStartOffset, LogStartOffset);
}

public static class EventConsumerExtensions
{
    /// <summary>
    /// Commits past every record in <paramref name="processed"/>: per partition, the highest offset + 1.
    /// </summary>
    public static ValueTask CommitProcessedAsync(this IEventConsumer consumer, IEnumerable<EventRecord> processed,
        CancellationToken cancellationToken = default)
    {
        var next = new Dictionary<(string Topic, int Partition), long>();
        foreach (var record in processed)
        {
            var key = (record.Topic, record.Partition);
            if (!next.TryGetValue(key, out var offset) || record.Offset + 1 > offset)
            {
                next[key] = record.Offset + 1;
            }
        }

        return consumer.CommitAsync(next.Select(kv => new EventPosition(kv.Key.Topic, kv.Key.Partition, kv.Value)), cancellationToken);
    }
}
