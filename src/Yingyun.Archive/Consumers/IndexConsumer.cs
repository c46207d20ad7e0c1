using Yingyun.Archive.EventLog;
using Yingyun.Archive.Index;
using Yingyun.Archive.Ingest;

namespace Yingyun.Archive.Consumers;

/// <summary>The index consumer (ARCHITECTURE.md §1): <c>dicom_image_queue</c> → patient, study, series and instance
/// rows and their aggregates (<see cref="IIndexStore.ApplyInstancesAsync"/>), one durable transaction per batch;
/// versions older than the stored one are ignored, so a re-delivered batch changes nothing.</summary>
public sealed class IndexConsumer(IIndexStore store) : ArchiveConsumer("index", [EventLog.Topics.DicomImageQueue])
{
    protected override Task ProcessAsync(IReadOnlyList<EventRecord> batch, CancellationToken cancellationToken)
    {
        var events = new List<InstanceEvent>(batch.Count);
        foreach (var record in batch) events.Add(StorageConsumer.Decode<InstanceEvent>(record));
        return store.ApplyInstancesAsync(events, cancellationToken);
    }
}
