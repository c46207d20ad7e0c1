using System.Globalization;
using System.Text.Json.Serialization;
using Yingyun.Archive.EventLog;

namespace Yingyun.Server.Hosting;

/// <summary>"Re-deliver <see cref="Topic"/> to <see cref="Group"/> from <see cref="From"/>": an offset (every partition,
/// or <see cref="Partition"/> only) or a time (ISO 8601; the first record appended at or after it, per partition).
/// The body of <c>POST /api/admin/replay</c>.</summary>
public sealed class ReplayRequest
{
    [JsonPropertyName("topic")] public string Topic { get; set; } = "";
    [JsonPropertyName("group")] public string Group { get; set; } = "";
    [JsonPropertyName("from")] public string From { get; set; } = "";
    [JsonPropertyName("partition")] public int? Partition { get; set; }

    /// <summary>Checks the request, naming the field at fault; returns the offset or the time to seek to.</summary>
    public (long? Offset, DateTimeOffset? Time) Parse()
    {
        if (!Topics.All.Contains(Topic, StringComparer.Ordinal))
            throw new ReplayException("topic", $"topic '{Topic}' is not one of the archive's topics: {string.Join(", ", Topics.All)}");
        if (!Topics.IsValidName(Group))
            throw new ReplayException("group", $"group '{Group}' is not a consumer group name (letters, digits, '.', '_', '-')");
        if (Partition is < 0)
            throw new ReplayException("partition", $"partition {Partition} is negative");
        string from = From.Trim();
        if (from.Length > 0 && from.All(char.IsAsciiDigit))
        {
            return long.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out long offset)
                ? (offset, null)
                : throw new ReplayException("from", $"offset '{From}' is too large");
        }
        // A time without an offset is the operator's local time, as `date` shows it.
        if (DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeLocal, out var time))
            return (null, time);
        throw new ReplayException("from", $"from '{From}' is neither an offset (digits) nor a time (ISO 8601, e.g. 2025-03-01T08:00:00Z or 2025-03-01 08:00)");
    }
}

/// <summary>Where each partition of the group was, and where it now resumes.</summary>
public sealed record ReplayResult(
    [property: JsonPropertyName("group")] string Group,
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("partitions")] IReadOnlyList<ReplayedPartition> Partitions)
{
    /// <summary>Records the group will now read again (or skip, when negative) in total.</summary>
    [JsonPropertyName("redelivered")]
    public long Redelivered => Partitions.Sum(p => p.Redelivered);
}

public sealed record ReplayedPartition(
    [property: JsonPropertyName("partition")] int Partition,
    [property: JsonPropertyName("previousOffset")] long? PreviousOffset,
    [property: JsonPropertyName("offset")] long Offset,
    [property: JsonPropertyName("endOffset")] long EndOffset)
{
    /// <summary>Records between the new position and where the group was before (its committed offset, or the end
    /// when it had none); negative when the group was moved forward.</summary>
    [JsonPropertyName("redelivered")]
    public long Redelivered => (PreviousOffset ?? EndOffset) - Offset;
}

/// <summary>A replay that cannot be done; <see cref="Field"/> names the request field at fault, if one is.</summary>
public sealed class ReplayException : Exception
{
    public ReplayException(string field, string message) : base(message) => Field = field;

    public ReplayException(string message) : base(message) { }

    public ReplayException() { }

    public ReplayException(string message, Exception inner) : base(message, inner) { }

    public string? Field { get; }
}

/// <summary>Rewrites a consumer group's committed offsets for one topic through the <see cref="IEventLog"/> port, as
/// Kafka's <c>kafka-consumer-groups --reset-offsets</c> does: a consumer of the group seeks (by offset or time), and
/// commits where it landed. The group must not be consuming the topic meanwhile (the embedded log refuses a second live
/// consumer; the server pauses its own first).</summary>
public static class ConsumerGroupReplay
{
    public static async Task<ReplayResult> RewriteAsync(IEventLog log, ReplayRequest request, CancellationToken cancellationToken)
    {
        var (offset, time) = request.Parse();
        var before = (await log.GetLagAsync(request.Group, cancellationToken).ConfigureAwait(false))
            .Where(p => p.Topic == request.Topic).OrderBy(p => p.Partition).ToList();
        if (before.Count == 0)
        {
            var follows = (await log.GetLagAsync(request.Group, cancellationToken).ConfigureAwait(false)).Select(p => p.Topic).Distinct().ToList();
            throw new ReplayException("group", follows.Count == 0
                ? $"consumer group '{request.Group}' has no committed offsets in this event log (is the name right? the archive's groups are its consumers', see /api/stats)"
                : $"consumer group '{request.Group}' does not read topic '{request.Topic}' (it reads {string.Join(", ", follows)})");
        }
        if (request.Partition is { } only && before.TrueForAll(p => p.Partition != only))
            throw new ReplayException("partition", $"topic '{request.Topic}' has partitions 0–{before[^1].Partition}, not {only}");
        var targets = request.Partition is { } chosen ? before.Where(p => p.Partition == chosen).ToList() : before;

        IEventConsumer consumer;
        try
        {
            consumer = log.CreateConsumer(request.Group, [request.Topic]);
        }
        catch (InvalidOperationException ex)
        {
            throw new ReplayException("group", $"consumer group '{request.Group}' is consuming '{request.Topic}' right now: {ex.Message}");
        }
        await using (consumer.ConfigureAwait(false))
        {
            if (time is { } at)
                await consumer.SeekToTimeAsync(at, cancellationToken).ConfigureAwait(false);
            else
                foreach (var p in targets)
                    await consumer.SeekAsync(request.Topic, p.Partition, offset!.Value, cancellationToken).ConfigureAwait(false);
            var positions = targets.Select(p => new EventPosition(request.Topic, p.Partition, consumer.GetPosition(request.Topic, p.Partition))).ToList();
            await consumer.CommitAsync(positions, cancellationToken).ConfigureAwait(false);
            return new ReplayResult(request.Group, request.Topic,
                [.. targets.Zip(positions, (p, to) => new ReplayedPartition(p.Partition, p.CommittedOffset, to.Offset, p.EndOffset))]);
        }
    }
}
