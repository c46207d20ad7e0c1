using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace Yingyun.Archive.EventLog;

/// <summary>
/// The embedded durable event log: append-only segment files per topic partition under one
/// directory, consumer groups with durably committed offsets, retention, and recovery of a torn
/// tail after a crash.
/// </summary>
/// <remarks>
/// <para><b>Writes.</b> Appenders frame their records into pooled buffers and queue them; one
/// dedicated writer thread takes everything queued, assigns offsets and timestamps, writes each
/// partition's share with one gathered write, fsyncs every touched segment file (concurrently,
/// see <see cref="FlushCrew"/>), publishes the new end offsets and only then completes the
/// appenders. While it flushes, new appends queue up and go together in the next round: that is
/// the group commit, with no timer and no added latency for a lone appender.</para>
/// <para><b>Guarantee.</b> An append that returned is on disk and survives kill -9 and power loss
/// (given a disk that honours fsync). Consumers only see durable records. A crash can tear only the
/// last segment of a partition; opening truncates it at the last record whose length, CRC and
/// offset check out, logs the truncation, and offsets continue from there. Records lost that way
/// were never acknowledged.</para>
/// <para><b>Failures.</b> If a write or fsync fails the log stops taking appends (the round's
/// appenders get the error, later ones an <see cref="InvalidOperationException"/>): after a failed
/// fsync the kernel's page cache no longer says what is on disk, so the only safe continuation is
/// to reopen, which recovers from what really is on disk.</para>
/// <para><b>Retention</b> deletes whole segments, oldest first, never the active one. A segment
/// may go when its newest record is older than <see cref="EmbeddedEventLogOptions.RetentionAge"/>
/// or its partition is larger than <see cref="EmbeddedEventLogOptions.RetentionBytes"/>, and then
/// only once every consumer group following the partition (one that has committed an offset in it,
/// or has a live consumer on the topic) has committed past the segment's last record. Above
/// <see cref="EmbeddedEventLogOptions.HardLimitBytes"/> the oldest segments go regardless, with a
/// warning naming the groups that lose records: a full disk would stop ingest altogether.</para>
/// </remarks>
public sealed partial class EmbeddedEventLog : IEventLog
{
    private readonly ILogger _logger;
    private readonly string _root;
    private readonly ConcurrentDictionary<string, TopicLog> _topics = new(StringComparer.Ordinal);
    private readonly Lock _topicsLock = new();
    private readonly ConcurrentDictionary<string, ConsumerGroup> _groups = new(StringComparer.Ordinal);

    // A plain object, not System.Threading.Lock: the writer waits on it with Monitor.Wait.
    private readonly object _queueGate = new();
    private readonly Queue<AppendRequest> _queue = new();
    private readonly Thread _writer;
    private readonly TaskCompletionSource _writerExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly FlushCrew _crew;
    private readonly CancellationTokenSource _stopping = new();
    private Task _retentionLoop = Task.CompletedTask;
    private ExceptionDispatchInfo? _fault;
    private bool _closing;
    private int _disposed;
    private int _roundRobin;
    private long _flushRounds;
    private long _fsyncs;
    private long _recordsAppended;

    private EmbeddedEventLog(EmbeddedEventLogOptions options, ILogger logger)
    {
        Options = options;
        _logger = logger;
        _root = Path.GetFullPath(options.Directory);
        _crew = new FlushCrew(options.FlushParallelism);
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "eventlog-writer" };
    }

    internal EmbeddedEventLogOptions Options { get; }

    internal ILogger Logger => _logger;

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Counters for tests and <c>/metrics</c>.</summary>
    public EventLogStatistics Statistics => new(
        Interlocked.Read(ref _flushRounds), Interlocked.Read(ref _fsyncs), Interlocked.Read(ref _recordsAppended));

    /// <summary>Topics present on disk or used since opening.</summary>
    public IReadOnlyList<string> TopicNames => [.. _topics.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Opens the log in <see cref="EmbeddedEventLogOptions.Directory"/>, recovering every partition.</summary>
    public static EmbeddedEventLog Open(EmbeddedEventLogOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var log = new EmbeddedEventLog(options, logger ?? NullLogger.Instance);
        try
        {
            log.Recover();
        }
        catch
        {
            log._crew.Dispose();
            foreach (var topic in log._topics.Values)
            {
                foreach (var partition in topic.Partitions)
                {
                    partition.Dispose();
                }
            }

            throw;
        }

        log._writer.Start();
        return log.StartRetention();
    }

    private EmbeddedEventLog StartRetention()
    {
        var interval = Options.RetentionCheckInterval;
        if (interval is { } every && every > TimeSpan.Zero)
        {
            _retentionLoop = RetentionLoopAsync(every);
        }

        return this;
    }

    [GeneratedRegex(@"^(?<topic>[A-Za-z0-9._-]+)-(?<partition>[0-9]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex PartitionDirectoryPattern();

    private void Recover()
    {
        var parent = Path.GetDirectoryName(_root);
        if (!Directory.Exists(_root))
        {
            Directory.CreateDirectory(_root);
            if (parent is not null)
            {
                FileSync.FlushDirectory(parent);
            }
        }

        var offsetsDirectory = Path.Combine(_root, ConsumerGroup.DirectoryName);
        if (!Directory.Exists(offsetsDirectory))
        {
            Directory.CreateDirectory(offsetsDirectory);
            FileSync.FlushDirectory(_root);
        }

        var partitionsOnDisk = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var directory in Directory.EnumerateDirectories(_root))
        {
            var match = PartitionDirectoryPattern().Match(Path.GetFileName(directory));
            if (match.Success && Topics.IsValidName(match.Groups["topic"].Value)
                && int.TryParse(match.Groups["partition"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
            {
                var topic = match.Groups["topic"].Value;
                partitionsOnDisk[topic] = Math.Max(partitionsOnDisk.GetValueOrDefault(topic), partition + 1);
            }
        }

        foreach (var (topic, count) in partitionsOnDisk)
        {
            _topics[topic] = OpenTopic(topic, count);
        }

        foreach (var file in Directory.EnumerateFiles(offsetsDirectory, "*.json"))
        {
            var group = ConsumerGroup.Load(file, _logger);
            if (Topics.IsValidName(group.Name))
            {
                _groups[group.Name] = group;
            }
        }

        foreach (var file in Directory.EnumerateFiles(offsetsDirectory, "*.tmp"))
        {
            // A commit interrupted before its rename; the previous commit is still in place.
            File.Delete(file);
        }
    }

    private TopicLog OpenTopic(string name, int partitionsOnDisk)
    {
        var configured = Options.PartitionCounts.TryGetValue(name, out var c) ? c : Options.DefaultPartitionCount;
        var count = Math.Max(configured, partitionsOnDisk);
        if (partitionsOnDisk > configured)
        {
            _logger.PartitionsKept(name, partitionsOnDisk, configured);
        }

        var topic = new TopicLog(name);
        var partitions = new PartitionLog[count];
        try
        {
            for (var p = 0; p < count; p++)
            {
                partitions[p] = PartitionLog.Open(topic, p, _root, Options, _logger);
            }
        }
        catch
        {
            foreach (var partition in partitions)
            {
                partition?.Dispose();
            }

            throw;
        }

        topic.Partitions = partitions;
        return topic;
    }

    internal TopicLog GetOrCreateTopic(string name)
    {
        if (_topics.TryGetValue(name, out var topic))
        {
            return topic;
        }

        if (!Topics.IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid topic name (letters, digits, '.', '_', '-'; at most 249).", nameof(name));
        }

        lock (_topicsLock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            if (!_topics.TryGetValue(name, out topic))
            {
                topic = OpenTopic(name, 0);
                _topics[name] = topic;
            }

            return topic;
        }
    }

    internal bool TryGetTopic(string name, out TopicLog topic) => _topics.TryGetValue(name, out topic!);

    /// <summary>Partitions of a topic (Kafka's metadata); a topic not used yet has none.</summary>
    public int GetPartitionCount(string topic) => _topics.TryGetValue(topic, out var t) ? t.Partitions.Length : 0;

    /// <summary>
    /// The earliest retained offset and the end offset (after the last durable record) of a
    /// partition, like Kafka's QueryWatermarkOffsets.
    /// </summary>
    public (long LogStart, long End) GetWatermarks(string topic, int partition)
    {
        if (!_topics.TryGetValue(topic, out var t) || (uint)partition >= (uint)t.Partitions.Length)
        {
            throw new ArgumentException($"No partition {topic}-{partition}.");
        }

        var p = t.Partitions[partition];
        return (p.LogStartOffset, p.HighWatermark);
    }

    /// <summary>Test seam: runs on the writer thread after it took a round, before writing it.</summary>
    internal Action? BeforeRound { get; set; }

    /// <summary>The partition a key goes to in <paramref name="topic"/>.</summary>
    public int PartitionFor(string topic, ReadOnlySpan<byte> key) => ChoosePartition(GetOrCreateTopic(topic), key).Partition;

    private PartitionLog ChoosePartition(TopicLog topic, ReadOnlySpan<byte> key)
    {
        var partitions = topic.Partitions;
        if (key.IsEmpty)
        {
            // Kafka spreads keyless records too; there is no order to keep among them.
            var next = Interlocked.Increment(ref _roundRobin) & int.MaxValue;
            return partitions[next % partitions.Length];
        }

        return partitions[KafkaPartitioner.Partition(key, partitions.Length)];
    }

    // ---- appending ------------------------------------------------------------------------

    public async ValueTask<EventPosition> AppendAsync(string topic, ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value,
        CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var request = new AppendRequest(1);
        try
        {
            Prepare(request, 0, topic, key.Span, value.Span);
        }
        catch
        {
            request.ReturnBuffers();
            throw;
        }

        await SubmitAsync(request, cancellationToken);
        return request.Positions[0];
    }

    public async ValueTask<IReadOnlyList<EventPosition>> AppendBatchAsync(IReadOnlyList<EventMessage> messages,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        cancellationToken.ThrowIfCancellationRequested();
        if (messages.Count == 0)
        {
            return [];
        }

        var request = new AppendRequest(messages.Count);
        try
        {
            for (var i = 0; i < messages.Count; i++)
            {
                var m = messages[i];
                Prepare(request, i, m.Topic, m.Key.Span, m.Value.Span);
            }
        }
        catch
        {
            request.ReturnBuffers();
            throw;
        }

        await SubmitAsync(request, cancellationToken);
        return request.Positions;
    }

    /// <summary>Frames one record on the caller's thread, so the writer only stamps and checksums.</summary>
    private void Prepare(AppendRequest request, int item, string topicName, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(topicName);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if ((long)key.Length + value.Length > Options.MaxRecordBytes)
        {
            throw new ArgumentException(
                $"A record of {key.Length + value.Length} bytes is over the event log's limit of {Options.MaxRecordBytes}.");
        }

        var topic = GetOrCreateTopic(topicName);
        var partition = ChoosePartition(topic, key);
        var size = RecordFrame.FrameSize(key.Length, value.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        RecordFrame.WriteBody(buffer.AsSpan(0, size), key, value);
        request.Items[item] = new PendingItem(partition, buffer, size);
        request.Bytes += size;
    }

    private async ValueTask SubmitAsync(AppendRequest request, CancellationToken cancellationToken)
    {
        lock (_queueGate)
        {
            if (_closing)
            {
                request.ReturnBuffers();
                throw new ObjectDisposedException(nameof(EmbeddedEventLog));
            }

            if (_fault is { } fault)
            {
                request.ReturnBuffers();
                throw new InvalidOperationException("The event log stopped after a write failure; reopen it to recover.", fault.SourceException);
            }

            // From here the writer owns the request's buffers.
            _queue.Enqueue(request);
            Monitor.Pulse(_queueGate);
        }

        if (cancellationToken.CanBeCanceled)
        {
            request.CancellationToken = cancellationToken;
            await using (cancellationToken.UnsafeRegister(static s => ((AppendRequest)s!).TryCancel(), request))
            {
                await request.Completion.Task;
            }
        }
        else
        {
            await request.Completion.Task;
        }
    }

    private void WriterLoop()
    {
        var round = new List<AppendRequest>();
        var dirty = new List<PartitionLog>();
        var handles = new List<SafeFileHandle>();
        var topics = new HashSet<TopicLog>();
        while (true)
        {
            lock (_queueGate)
            {
                while (_queue.Count == 0 && !_closing)
                {
                    Monitor.Wait(_queueGate);
                }

                if (_queue.Count == 0)
                {
                    break;
                }

                long bytes = 0;
                while (_queue.TryPeek(out var next) && (round.Count == 0 || bytes + next.Bytes <= Options.MaxRoundBytes))
                {
                    round.Add(_queue.Dequeue());
                    bytes += next.Bytes;
                }
            }

            try
            {
                if (Volatile.Read(ref _fault) is { } fault)
                {
                    throw fault.SourceException;
                }

                BeforeRound?.Invoke();

                WriteRound(round, dirty, handles, topics);
            }
            catch (Exception ex)
            {
                // See the class remarks: after a failed write or fsync only a reopen knows the truth.
                bool first;
                lock (_queueGate)
                {
                    first = _fault is null;
                    _fault ??= ExceptionDispatchInfo.Capture(ex);
                }

                if (first)
                {
                    _logger.WriteFailed(ex);
                }

                foreach (var request in round)
                {
                    request.Completion.TrySetException(new IOException("The event log could not make the records durable.", ex));
                }

                foreach (var partition in dirty)
                {
                    partition.InRound = false;
                }
            }
            finally
            {
                foreach (var request in round)
                {
                    request.ReturnBuffers();
                }

                round.Clear();
                dirty.Clear();
                handles.Clear();
                topics.Clear();
            }
        }

        _writerExited.TrySetResult();
    }

    private void WriteRound(List<AppendRequest> round, List<PartitionLog> dirty, List<SafeFileHandle> handles, HashSet<TopicLog> topics)
    {
        // Requests cancelled while queued are dropped here; the rest can no longer be cancelled.
        var taken = 0;
        foreach (var request in round)
        {
            if (!request.TryTake())
            {
                continue;
            }

            taken++;
            for (var i = 0; i < request.Items.Length; i++)
            {
                var partition = request.Items[i].Partition;
                if (!partition.InRound)
                {
                    partition.InRound = true;
                    partition.RoundItems.Clear();
                    partition.RoundBuffers.Clear();
                    partition.RoundIndexEntries.Clear();
                    partition.RoundBytes = 0;
                    dirty.Add(partition);
                }

                partition.RoundItems.Add((request, i));
                partition.RoundBytes += request.Items[i].Length;
            }
        }

        if (taken == 0)
        {
            return;
        }

        var now = Options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var partition in dirty)
        {
            var tail = partition.Segments[^1];
            if (tail.Size > 0 && tail.Size + partition.RoundBytes > Options.SegmentBytes)
            {
                partition.Roll();
                tail = partition.Segments[^1];
            }

            var timestamp = Math.Max(now, partition.LastTimestampMs);
            var position = tail.Size;
            var offset = tail.EndOffset;
            var lastIndexed = partition.LastIndexedPosition;
            foreach (var (request, i) in partition.RoundItems)
            {
                var item = request.Items[i];
                RecordFrame.Seal(item.Buffer.AsSpan(0, item.Length), offset, timestamp);
                if (position == 0 || position - lastIndexed >= Options.IndexIntervalBytes)
                {
                    partition.RoundIndexEntries.Add(new IndexEntry(offset, (int)position, timestamp));
                    lastIndexed = position;
                }

                request.Positions[i] = new EventPosition(partition.Topic.Name, partition.Partition, offset);
                partition.RoundBuffers.Add(item.Buffer.AsMemory(0, item.Length));
                position += item.Length;
                offset++;
            }

            RandomAccess.Write(tail.Handle, partition.RoundBuffers, tail.Size);
            partition.RoundEndPosition = position;
            partition.RoundEndOffset = offset;
            partition.RoundTimestampMs = timestamp;
            handles.Add(tail.Handle);
        }

        _crew.FlushAll(handles);

        // Durable: publish to readers, then wake consumers, then acknowledge appenders.
        var records = 0L;
        foreach (var partition in dirty)
        {
            var tail = partition.Segments[^1];
            foreach (var entry in partition.RoundIndexEntries)
            {
                tail.Index.Add(entry);
                partition.LastIndexedPosition = entry.Position;
            }

            tail.Publish(partition.RoundEndPosition, partition.RoundEndOffset, partition.RoundTimestampMs);
            partition.LastTimestampMs = partition.RoundTimestampMs;
            partition.InRound = false;
            records += partition.RoundItems.Count;
            topics.Add(partition.Topic);
        }

        Interlocked.Increment(ref _flushRounds);
        Interlocked.Add(ref _fsyncs, handles.Count);
        Interlocked.Add(ref _recordsAppended, records);
        foreach (var topic in topics)
        {
            topic.Signal.Pulse();
        }

        foreach (var request in round)
        {
            request.Completion.TrySetResult();
        }
    }

    // ---- consuming --------------------------------------------------------------------------

    public IEventConsumer CreateConsumer(string group, IReadOnlyList<string> topics)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(topics);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!Topics.IsValidName(group))
        {
            throw new ArgumentException($"'{group}' is not a valid consumer group name.", nameof(group));
        }

        if (topics.Count == 0 || topics.Distinct(StringComparer.Ordinal).Count() != topics.Count)
        {
            throw new ArgumentException("A consumer needs one or more distinct topics.", nameof(topics));
        }

        var topicLogs = topics.Select(GetOrCreateTopic).ToArray();
        var consumerGroup = GetOrCreateGroup(group);
        consumerGroup.Claim(topics);
        return new EmbeddedEventConsumer(this, consumerGroup, topicLogs);
    }

    private ConsumerGroup GetOrCreateGroup(string name) =>
        _groups.GetOrAdd(name, static (n, root) => ConsumerGroup.Create(root, n), _root);

    public ValueTask<IReadOnlyList<PartitionLag>> GetLagAsync(string group, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (!_groups.TryGetValue(group, out var consumerGroup))
        {
            return ValueTask.FromResult<IReadOnlyList<PartitionLag>>([]);
        }

        var lags = new List<PartitionLag>();
        foreach (var topicName in consumerGroup.TopicsFollowed())
        {
            if (!_topics.TryGetValue(topicName, out var topic))
            {
                continue;
            }

            foreach (var partition in topic.Partitions)
            {
                lags.Add(new PartitionLag(topicName, partition.Partition, consumerGroup.GetCommitted(topicName, partition.Partition),
                    partition.LogStartOffset, partition.HighWatermark));
            }
        }

        return ValueTask.FromResult<IReadOnlyList<PartitionLag>>(lags);
    }

    // ---- retention ----------------------------------------------------------------------------

    /// <summary>Applies the retention policy (see the class remarks) now; returns the segments deleted.</summary>
    public int EnforceRetention()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var now = Options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var deleted = 0;
        foreach (var topic in _topics.Values)
        {
            foreach (var partition in topic.Partitions)
            {
                deleted += EnforceRetention(partition, now);
            }
        }

        return deleted;
    }

    private int EnforceRetention(PartitionLog partition, long nowMs)
    {
        var deleted = 0;
        var total = partition.SizeBytes;
        while (true)
        {
            var segments = partition.Segments;
            if (segments.Length < 2)
            {
                return deleted;
            }

            var oldest = segments[0];
            var end = segments[1].BaseOffset;
            var overHardLimit = Options.HardLimitBytes is { } hard && total > hard;
            var expired = Options.RetentionAge is { } age && oldest.LastTimestampMs < nowMs - (long)age.TotalMilliseconds;
            var overSize = Options.RetentionBytes is { } limit && total > limit;
            if (!(expired || overSize || overHardLimit))
            {
                return deleted;
            }

            var behind = GroupsBehind(partition, end);
            if (behind.Count > 0)
            {
                if (!overHardLimit)
                {
                    return deleted;
                }

                _logger.HardLimitDelete(partition.Topic.Name, partition.Partition, Path.GetFileName(oldest.LogPath), oldest.BaseOffset,
                    end - 1, string.Join(", ", behind));
            }

            if (!partition.TryRemoveOldest(oldest))
            {
                return deleted;
            }

            var segmentName = Path.GetFileName(oldest.LogPath);
            _logger.RetentionDeleted(partition.Topic.Name, partition.Partition, segmentName, oldest.BaseOffset, end - 1);
            total -= oldest.Size;
            deleted++;
        }
    }

    /// <summary>Groups following the partition whose committed offset is before <paramref name="offset"/>.</summary>
    private List<string> GroupsBehind(PartitionLog partition, long offset)
    {
        var behind = new List<string>();
        foreach (var group in _groups.Values)
        {
            var committed = group.GetCommitted(partition.Topic.Name, partition.Partition);
            if (committed is null && !group.IsLive(partition.Topic.Name) && !group.HasCommitsFor(partition.Topic.Name))
            {
                continue;
            }

            if ((committed ?? partition.LogStartOffset) < offset)
            {
                behind.Add(group.Name);
            }
        }

        return behind;
    }

    private async Task RetentionLoopAsync(TimeSpan every)
    {
        using var timer = new PeriodicTimer(every, Options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    EnforceRetention();
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    _logger.RetentionFailed(ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Closing.
        }
    }

    // ---- closing ------------------------------------------------------------------------------

    /// <summary>Finishes every queued append (durably), then closes the files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_queueGate)
        {
            _closing = true;
            Monitor.PulseAll(_queueGate);
        }

        await _writerExited.Task;
        await _stopping.CancelAsync();
        await _retentionLoop;
        _crew.Dispose();
        foreach (var topic in _topics.Values)
        {
            foreach (var partition in topic.Partitions)
            {
                partition.Dispose();
            }

            // Waiting consumers wake, see the log closed and throw ObjectDisposedException.
            topic.Signal.Pulse();
        }

        foreach (var group in _groups.Values)
        {
            group.Dispose();
        }

        _stopping.Dispose();
    }
}

/// <summary>Counters: write rounds (each one flush), fsync calls, records appended.</summary>
public readonly record struct EventLogStatistics(long FlushRounds, long Fsyncs, long RecordsAppended);

internal readonly record struct PendingItem(PartitionLog Partition, byte[] Buffer, int Length);

/// <summary>One AppendAsync/AppendBatchAsync call on its way through the writer.</summary>
internal sealed class AppendRequest
{
    private const int Queued = 0;
    private const int Taken = 1;
    private const int Cancelled = 2;
    private int _state;

    public AppendRequest(int count)
    {
        Items = new PendingItem[count];
        Positions = new EventPosition[count];
    }

    public PendingItem[] Items { get; }

    public EventPosition[] Positions { get; }

    public long Bytes { get; set; }

    public CancellationToken CancellationToken { get; set; }

    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Writer: claims the request; false if it was cancelled first.</summary>
    public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued;

    /// <summary>Cancels only a request the writer has not taken, so cancelled means not appended.</summary>
    public void TryCancel()
    {
        if (Interlocked.CompareExchange(ref _state, Cancelled, Queued) == Queued)
        {
            Completion.TrySetCanceled(CancellationToken);
        }
    }

    public void ReturnBuffers()
    {
        for (var i = 0; i < Items.Length; i++)
        {
            if (Items[i].Buffer is { } buffer)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                Items[i] = default;
            }
        }
    }
}
