using Microsoft.Extensions.Logging;

namespace Yingyun.Archive.EventLog;

/// <summary>
/// A consumer of the embedded log: every partition of its topics, read positions in memory,
/// committed offsets through its <see cref="ConsumerGroup"/>.
/// </summary>
internal sealed class EmbeddedEventConsumer : IEventConsumer
{
    private readonly EmbeddedEventLog _log;
    private readonly ConsumerGroup _group;
    private readonly TopicLog[] _topics;
    private readonly Assignment[] _assignments;
    private int _nextAssignment;
    private int _disposed;

    public EmbeddedEventConsumer(EmbeddedEventLog log, ConsumerGroup group, TopicLog[] topics)
    {
        _log = log;
        _group = group;
        _topics = topics;
        Topics = [.. topics.Select(t => t.Name)];
        _assignments = [.. topics.SelectMany(t => t.Partitions).Select(p => new Assignment(p, group.GetCommitted(p.Topic.Name, p.Partition) ?? p.LogStartOffset))];
    }

    public string Group => _group.Name;

    public IReadOnlyList<string> Topics { get; }

    public async ValueTask<IReadOnlyList<EventRecord>> ConsumeAsync(int maxRecords, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRecords);
        var output = new List<EventRecord>(Math.Min(maxRecords, 256));
        while (true)
        {
            // Take the wake-up before looking: an append published after the look pulses this very
            // task, so nothing is missed and nothing polls.
            var wake = _topics.Length == 1 ? _topics[0].Signal.WaitTask : Task.WhenAny(_topics.Select(t => t.Signal.WaitTask));
            ThrowIfDisposed();
            Fetch(output, maxRecords);
            if (output.Count > 0)
            {
                return output;
            }

            await wake.WaitAsync(cancellationToken);
        }
    }

    private void Fetch(List<EventRecord> output, int maxRecords)
    {
        var count = _assignments.Length;
        for (var i = 0; i < count && output.Count < maxRecords; i++)
        {
            FetchPartition(_assignments[(_nextAssignment + i) % count], output, maxRecords - output.Count);
        }

        // Start at the next partition next time, so a busy partition cannot starve the others.
        _nextAssignment = (_nextAssignment + 1) % count;
    }

    private void FetchPartition(Assignment a, List<EventRecord> output, int maxRecords)
    {
        var partition = a.Partition;
        while (true)
        {
            if (a.Position >= partition.HighWatermark)
            {
                return;
            }

            var segments = partition.Segments;
            if (a.Position < segments[0].BaseOffset)
            {
                _log.Logger.PositionDeleted(partition.Topic.Name, partition.Partition, Group, a.Position, segments[0].BaseOffset);
                a.MoveTo(segments[0].BaseOffset);
            }

            Segment segment;
            long start;
            int added;
            long end;
            try
            {
                if (a.CachedSegment is { } cached && a.CachedOffset == a.Position)
                {
                    segment = cached;
                    start = a.CachedBytePosition;
                }
                else
                {
                    segment = PartitionLog.FindSegment(segments, a.Position);
                    start = segment.Index.FloorByOffset(a.Position).Position;
                }

                added = segment.Read(start, a.Position, maxRecords, _log.Options.MaxFetchBytes,
                    partition.Topic.Name, partition.Partition, output, out end);
            }
            catch (ObjectDisposedException) when (!_log.IsDisposed)
            {
                // Retention deleted the segment under us; look the position up again.
                a.MoveTo(a.Position);
                continue;
            }

            if (added > 0)
            {
                a.Advance(output[^1].Offset + 1, segment, end);
                return;
            }

            if (end > start)
            {
                // Only records before the position were in that stretch; carry on after them.
                a.Advance(a.Position, segment, end);
                continue;
            }

            var i = Array.IndexOf(segments, segment);
            if (i >= 0 && i < segments.Length - 1 && end >= segment.Size)
            {
                a.MoveTo(Math.Max(a.Position, segments[i + 1].BaseOffset));
                continue;
            }

            return;
        }
    }

    public ValueTask CommitAsync(IEnumerable<EventPosition> positions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(positions);
        ThrowIfDisposed();
        var list = positions.ToList();
        foreach (var p in list)
        {
            if (!_log.TryGetTopic(p.Topic, out var topic))
            {
                throw new ArgumentException($"Unknown topic '{p.Topic}'.", nameof(positions));
            }

            if ((uint)p.Partition >= (uint)topic.Partitions.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(positions), $"Topic '{p.Topic}' has no partition {p.Partition}.");
            }

            var end = topic.Partitions[p.Partition].HighWatermark;
            if (p.Offset < 0 || p.Offset > end)
            {
                // Committing past the end would make the group skip records appended later.
                throw new ArgumentOutOfRangeException(nameof(positions),
                    $"Offset {p.Offset} is outside {p.Topic}-{p.Partition} (end {end}); a commit names the next offset to read.");
            }
        }

        return list.Count == 0 ? ValueTask.CompletedTask : _group.CommitAsync(list, cancellationToken);
    }

    public ValueTask SeekAsync(string topic, int partition, long offset, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var a = Array.Find(_assignments, x => x.Partition.Topic.Name == topic && x.Partition.Partition == partition)
            ?? throw new ArgumentException($"This consumer does not read {topic}-{partition}.", nameof(topic));
        var p = a.Partition;
        a.MoveTo(Math.Clamp(offset, p.LogStartOffset, p.HighWatermark));
        return ValueTask.CompletedTask;
    }

    public long GetPosition(string topic, int partition)
    {
        ThrowIfDisposed();
        var a = Array.Find(_assignments, x => x.Partition.Topic.Name == topic && x.Partition.Partition == partition)
            ?? throw new ArgumentException($"This consumer does not read {topic}-{partition}.", nameof(topic));
        return a.Position;
    }

    public ValueTask SeekToTimeAsync(DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var ms = time.ToUnixTimeMilliseconds();
        foreach (var a in _assignments)
        {
            cancellationToken.ThrowIfCancellationRequested();
            a.MoveTo(a.Partition.OffsetForTime(ms));
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _group.Release(Topics);
        }

        return ValueTask.CompletedTask;
    }

    private void ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ObjectDisposedException.ThrowIf(_log.IsDisposed, _log);
    }

    /// <summary>One partition's read position, with where it was found last time.</summary>
    private sealed class Assignment(PartitionLog partition, long position)
    {
        public PartitionLog Partition { get; } = partition;

        public long Position { get; private set; } = position;

        /// <summary>A frame start in <see cref="CachedSegment"/> at or before the record at <see cref="CachedOffset"/>.</summary>
        public long CachedBytePosition { get; private set; }

        public long CachedOffset { get; private set; } = -1;

        public Segment? CachedSegment { get; private set; }

        public void Advance(long position, Segment segment, long bytePosition)
        {
            Position = position;
            CachedSegment = segment;
            CachedBytePosition = bytePosition;
            CachedOffset = position;
        }

        public void MoveTo(long position)
        {
            Position = position;
            CachedSegment = null;
            CachedOffset = -1;
        }
    }
}
