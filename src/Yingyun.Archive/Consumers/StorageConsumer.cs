using Yingyun.Archive.EventLog;
using Yingyun.Archive.Index;
using Yingyun.Archive.Ingest;

namespace Yingyun.Archive.Consumers;

/// <summary>The storage consumer (ARCHITECTURE.md §1): <c>storage_queue</c> → the file registry and the version
/// history (<see cref="IInstanceRegistry.ApplyStorageAsync"/>), one durable transaction per batch, idempotent on
/// trace_id, so a re-delivered batch changes nothing.</summary>
public sealed class StorageConsumer(IInstanceRegistry registry) : ArchiveConsumer("storage", [EventLog.Topics.StorageQueue])
{
    protected override Task ProcessAsync(IReadOnlyList<EventRecord> batch, CancellationToken cancellationToken)
    {
        var events = new List<StorageEvent>(batch.Count);
        foreach (var record in batch) events.Add(Decode<StorageEvent>(record));
        return registry.ApplyStorageAsync(events, cancellationToken);
    }

    internal static T Decode<T>(EventRecord record) where T : class
    {
        try
        {
            return ArchiveEventJson.Deserialize<T>(record.Value.Span);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new InvalidDataException($"{record.Position}: not a {typeof(T).Name}: {ex.Message}", ex);
        }
    }
}
