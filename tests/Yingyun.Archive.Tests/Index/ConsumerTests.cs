using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Yingyun.Archive.Consumers;
using Yingyun.Archive.EventLog;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tests.EventLog;

namespace Yingyun.Archive.Tests.Index;

/// <summary>The storage and index consumers over the embedded event log: they read their topic as their group,
/// fill the store, commit, and a replay from offset 0 changes nothing.</summary>
public sealed class ConsumerTests
{
    [Fact]
    public async Task Storage_and_index_consumers_fill_the_store_and_replay_converges()
    {
        await using var index = await TestIndex.CreateAsync();
        string logFolder = Path.Combine(index.Folder.Path, "eventlog");
        var instances = Enumerable.Range(1, 30).Select(n => TestEvents.Make("a", "P" + (n % 3), "1." + (n % 4), $"1.{n % 4}.{n % 2}", "1.9." + n, n,
            n % 2 == 0 ? "CT" : "MR", "Name^" + (n % 3))).ToList();
        var receipts = instances.Select(e => new StorageEvent
        {
            TraceId = e.TraceId, TenantId = e.TenantId, TransferSyntax = e.TransferSyntaxUid, SopClassUid = e.SopClassUid, SopInstanceUid = e.SopUid,
            StudyInstanceUid = e.StudyUid, SeriesInstanceUid = e.SeriesUid, PatientId = e.PatientId, FileName = e.SopUid + ".dcm", FileSize = e.FileSize,
            FilePath = e.FilePath, ContentHash = e.ContentHash, Version = e.Version, Outcome = ReceiptOutcome.Stored, ReceivedTime = e.ReceivedTime,
        }).ToList();

        await using (var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = logFolder }))
        {
            var messages = new List<EventMessage>();
            foreach (var (e, r) in instances.Zip(receipts))
            {
                var key = Encoding.UTF8.GetBytes(e.StudyUid);
                messages.Add(new EventMessage(Topics.DicomImageQueue, key, ArchiveEventJson.Serialize(e)));
                messages.Add(new EventMessage(Topics.StorageQueue, key, ArchiveEventJson.Serialize(r)));
            }
            await log.AppendBatchAsync(messages);

            var storage = new StorageConsumer(index.Store) { MaxBatch = 7 };
            var indexer = new IndexConsumer(index.Store) { MaxBatch = 7 };
            using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var running = new[] { storage.RunAsync(log, NullLogger.Instance, stop.Token), indexer.RunAsync(log, NullLogger.Instance, stop.Token) };
            // Wait on the store and the committed offsets, not on time.
            while (index.Scalar<long>("SELECT count(*) FROM instance") < 30 || index.Scalar<long>("SELECT count(*) FROM instance_version") < 30
                   || await LagAsync(log, "storage") > 0 || await LagAsync(log, "index") > 0)
                await Task.Delay(20, stop.Token);
            await stop.CancelAsync();
            await Task.WhenAll(running);
            storage.FailedBatches.Should().Be(0);
            indexer.FailedBatches.Should().Be(0);
        }

        index.Scalar<long>("SELECT count(*) FROM instance").Should().Be(30);
        index.Scalar<long>("SELECT count(*) FROM registry").Should().Be(30);
        index.Scalar<long>("SELECT count(*) FROM instance_version").Should().Be(30);
        index.Scalar<long>("SELECT sum(number_of_instances) FROM study").Should().Be(30);
        var before = index.Dump();

        // Replay: a new group from offset 0 applies everything again; nothing changes.
        await using (var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = logFolder }))
        {
            foreach (var record in await log.ReadAllAsync("replay-storage", Topics.StorageQueue))
                await index.Store.ApplyStorageAsync([ArchiveEventJson.Deserialize<StorageEvent>(record.Value.Span)]);
            var all = (await log.ReadAllAsync("replay-index", Topics.DicomImageQueue)).Select(r => ArchiveEventJson.Deserialize<InstanceEvent>(r.Value.Span)).ToList();
            await index.Store.ApplyInstancesAsync(all);
        }
        index.Dump().Should().Equal(before);
    }

    [Fact]
    public async Task Index_consumer_reports_each_committed_instance_lag_from_its_receipt()
    {
        await using var index = await TestIndex.CreateAsync();
        var now = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var instances = Enumerable.Range(1, 12).Select(n =>
        {
            var e = TestEvents.Make("a", "P1", "1.1", "1.1.1", "1.9." + n, n, "CT", "Name^1");
            e.ReceivedTime = now.AddMilliseconds(-10 * n);
            return e;
        }).ToList();
        await using var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = Path.Combine(index.Folder.Path, "eventlog") });
        await log.AppendBatchAsync([.. instances.Select(e => new EventMessage(Topics.DicomImageQueue, Encoding.UTF8.GetBytes(e.StudyUid), ArchiveEventJson.Serialize(e)))]);

        var lags = new System.Collections.Concurrent.ConcurrentQueue<TimeSpan>();
        var indexer = new IndexConsumer(index.Store, lags.Enqueue, new FixedTime(now)) { MaxBatch = 5 };
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var running = indexer.RunAsync(log, NullLogger.Instance, stop.Token);
        while (await LagAsync(log, "index") > 0) await Task.Delay(20, stop.Token);
        await stop.CancelAsync();
        await running;

        // One value per instance, measured at the commit (the fixed "now") from each one's receipt.
        lags.Order().Should().Equal(Enumerable.Range(1, 12).Select(n => TimeSpan.FromMilliseconds(10 * n)));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static async Task<long> LagAsync(EmbeddedEventLog log, string group) => (await log.GetLagAsync(group)).Sum(l => l.Lag);
}
