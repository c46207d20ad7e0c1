using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Yingyun.Archive.EventLog;

/// <summary>
/// A consumer group's committed offsets, kept in <c>__consumer_offsets/&lt;group&gt;.json</c> and
/// replaced atomically on every commit (temp file, fsync, rename, directory fsync), so after any
/// crash the file holds either the previous or the new commit, whole.
/// </summary>
internal sealed class ConsumerGroup : IDisposable
{
    public const string DirectoryName = "__consumer_offsets";

    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly HashSet<string> _liveTopics = new(StringComparer.Ordinal);
    private Dictionary<(string Topic, int Partition), long> _committed;

    private ConsumerGroup(string name, string path, Dictionary<(string, int), long> committed)
    {
        Name = name;
        FilePath = path;
        _committed = committed;
    }

    public string Name { get; }

    public string FilePath { get; }

    public static ConsumerGroup Create(string root, string name) =>
        new(name, Path.Combine(root, DirectoryName, name + ".json"), []);

    public static ConsumerGroup Load(string path, ILogger logger)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var committed = new Dictionary<(string, int), long>();
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            foreach (var entry in document.RootElement.GetProperty("offsets").EnumerateArray())
            {
                committed[(entry.GetProperty("topic").GetString()!, entry.GetProperty("partition").GetInt32())] =
                    entry.GetProperty("offset").GetInt64();
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // Cannot come from our own atomic writes; an edited file. Starting over from the earliest
            // records is safe because consumers are idempotent (at-least-once), losing records is not.
            logger.GroupOffsetsUnreadable(ex, name, path);
            committed.Clear();
        }

        return new ConsumerGroup(name, path, committed);
    }

    public long? GetCommitted(string topic, int partition)
    {
        lock (_lock)
        {
            return _committed.TryGetValue((topic, partition), out var offset) ? offset : null;
        }
    }

    public bool HasCommitsFor(string topic)
    {
        lock (_lock)
        {
            foreach (var key in _committed.Keys)
            {
                if (key.Topic == topic)
                {
                    return true;
                }
            }

            return false;
        }
    }

    public IReadOnlyList<string> TopicsFollowed()
    {
        lock (_lock)
        {
            var topics = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var key in _committed.Keys)
            {
                topics.Add(key.Topic);
            }

            topics.UnionWith(_liveTopics);
            return [.. topics];
        }
    }

    public bool IsLive(string topic)
    {
        lock (_lock)
        {
            return _liveTopics.Contains(topic);
        }
    }

    /// <summary>
    /// The embedded log gives a consumer every partition of its topics, so two live consumers of
    /// one group on one topic would each get every record; Kafka would split the partitions
    /// between them instead. Rather than pretend, the second one is refused.
    /// </summary>
    public void Claim(IReadOnlyList<string> topics)
    {
        lock (_lock)
        {
            foreach (var topic in topics)
            {
                if (_liveTopics.Contains(topic))
                {
                    throw new InvalidOperationException(
                        $"Consumer group '{Name}' already has a live consumer of '{topic}' (the embedded log assigns all partitions to one consumer).");
                }
            }

            _liveTopics.UnionWith(topics);
        }
    }

    public void Release(IReadOnlyList<string> topics)
    {
        lock (_lock)
        {
            _liveTopics.ExceptWith(topics);
        }
    }

    public async ValueTask CommitAsync(IReadOnlyList<EventPosition> positions, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            Dictionary<(string, int), long> next;
            lock (_lock)
            {
                next = new Dictionary<(string, int), long>(_committed);
            }

            foreach (var p in positions)
            {
                next[(p.Topic, p.Partition)] = p.Offset;
            }

            // Blocking file I/O: .NET has no asynchronous fsync. A commit is two small fsyncs and
            // happens once per consumed batch, not per record.
            FileSync.WriteAtomically(FilePath, Serialize(next));
            lock (_lock)
            {
                _committed = next;
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public void Dispose() => _writeGate.Dispose();

    private ReadOnlySpan<byte> Serialize(Dictionary<(string Topic, int Partition), long> committed)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("group", Name);
            writer.WriteStartArray("offsets");
            foreach (var ((topic, partition), offset) in committed.OrderBy(kv => kv.Key.Topic, StringComparer.Ordinal).ThenBy(kv => kv.Key.Partition))
            {
                writer.WriteStartObject();
                writer.WriteString("topic", topic);
                writer.WriteNumber("partition", partition);
                writer.WriteNumber("offset", offset);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan;
    }
}
