using Yingyun.Archive.EventLog;
using Yingyun.Archive.Index;
using Yingyun.Archive.Ingest;

namespace Yingyun.Archive.Consumers;

/// <summary>The index consumer (ARCHITECTURE.md §1): <c>dicom_image_queue</c> → patient, study, series and instance
/// rows and their aggregates (<see cref="IIndexStore.ApplyInstancesAsync"/>), one durable transaction per batch;
/// versions older than the stored one are ignored, so a re-delivered batch changes nothing.</summary>
/// <param name="indexed">Told, for each instance event of a committed batch, its index lag: the time from its
/// receipt (<see cref="InstanceEvent.ReceivedTime"/>, when ingest began to receive it) until the batch was applied
/// and committed. The server records it as the <c>yingyun.index.lag</c> histogram.</param>
public sealed class IndexConsumer(IIndexStore store, Action<TimeSpan>? indexed = null, TimeProvider? time = null)
    : ArchiveConsumer("index", [EventLog.Topics.DicomImageQueue])
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly List<DateTimeOffset> _received = [];

    protected override Task ProcessAsync(IReadOnlyList<EventRecord> batch, CancellationToken cancellationToken)
    {
        var events = new List<InstanceEvent>(batch.Count);
        foreach (var record in batch) events.Add(StorageConsumer.Decode<InstanceEvent>(record));
        if (indexed is not null)
        {
            // A retried batch is decoded again: keep only this attempt's receipts.
            _received.Clear();
            foreach (var e in events) _received.Add(e.ReceivedTime);
        }
        return store.ApplyInstancesAsync(events, cancellationToken);
    }

    protected override void OnCommitted()
    {
        if (indexed is null) return;
        var now = _time.GetUtcNow();
        foreach (var received in _received) indexed(now - received);
        _received.Clear();
    }
}
