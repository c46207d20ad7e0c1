using System.Text;
using Microsoft.Extensions.Logging;
using Yingyun.Archive.Consumers;
using Yingyun.Archive.EventLog;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tests.EventLog;
using Yingyun.Archive.Warehouse;
using static Yingyun.Archive.Tests.Warehouse.WarehouseEvents;

namespace Yingyun.Archive.Tests.Warehouse;

/// <summary>The embedded event log and the warehouse consumer end to end: events appended as ingest appends them,
/// the consumer run until the group's lag is zero, the tables checked.</summary>
public sealed class WarehouseConsumerTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private readonly TempDirectory _dir = new();
    private readonly CapturingLogger _log = new();
    private EmbeddedEventLog _eventLog = null!;
    private CommitSignallingLog _signalling = null!;

    public Task InitializeAsync()
    {
        _eventLog = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = Path.Combine(_dir.Path, "eventlog"), RetentionCheckInterval = null });
        _signalling = new CommitSignallingLog(_eventLog);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _eventLog.DisposeAsync();
        _dir.Dispose();
    }

    /// <summary>Three hospitals' worth of receipts: studies of two series, duplicates (log row only), replaced
    /// versions, and a few records no reader could make sense of.</summary>
    private static (List<EventMessage> Messages, int Receipts, int Instances, int Poison) Receipts()
    {
        var messages = new List<EventMessage>();
        var receipts = 0;
        var instances = 0;
        void Receipt(InstanceEvent image, string outcome)
        {
            var key = Encoding.ASCII.GetBytes(image.StudyUid);
            image.Outcome = outcome;
            receipts++;
            messages.Add(new(Topics.LogQueue, key, ArchiveEventJson.Serialize(Object(image, outcome))));
            if (outcome is ReceiptOutcome.Stored or ReceiptOutcome.Replaced)
            {
                messages.Add(new(Topics.DicomImageQueue, key, ArchiveEventJson.Serialize(image)));
                messages.Add(new(Topics.DicomStateQueue, key, ArchiveEventJson.Serialize(State(image))));
            }
        }

        var version = 1L;
        foreach (var tenant in new[] { "hospital-a", "hospital-b", "hospital-c" })
        {
            for (var study = 0; study < 3; study++)
            {
                var studyUid = $"1.2.826.0.1.3680043.8.498.{tenant[^1] - 'a' + 1}.{study}";
                for (var series = 0; series < 2; series++)
                {
                    for (var n = 0; n < 25; n++)
                    {
                        var sop = $"{studyUid}.{series}.{n}";
                        Receipt(Instance(tenant, studyUid, $"{studyUid}.{series}", sop, version++, frames: n == 0 ? 4 : null), ReceiptOutcome.Stored);
                        instances++;
                        if (n % 10 == 3)
                        {
                            Receipt(Instance(tenant, studyUid, $"{studyUid}.{series}", sop, version++, frames: n == 0 ? 4 : null), ReceiptOutcome.Duplicate);
                        }

                        if (n % 10 == 7)
                        {
                            Receipt(Instance(tenant, studyUid, $"{studyUid}.{series}", sop, version++, patientName: "Corrected^Name"), ReceiptOutcome.Replaced);
                        }
                    }
                }
            }
        }

        var poison = new List<EventMessage>
        {
            new(Topics.LogQueue, "1.2.3"u8.ToArray(), "this is not JSON"u8.ToArray()),
            new(Topics.DicomImageQueue, "1.2.3"u8.ToArray(), """{"trace_id":"poison-image","tenant_id":"hospital-a","version":"not a number"}"""u8.ToArray()),
            new(Topics.DicomStateQueue, "1.2.3"u8.ToArray(), """{"trace_id":"poison-state","tenant_id":7}"""u8.ToArray()),
            new(Topics.DicomImageQueue, "1.2.3"u8.ToArray(), "null"u8.ToArray()),
        };
        messages.InsertRange(messages.Count / 2, poison);
        return (messages, receipts, instances, poison.Count);
    }

    private async Task<(Task Run, CancellationTokenSource Stop, WarehouseConsumer Consumer)> StartAsync(IWarehouse warehouse)
    {
        var consumer = new WarehouseConsumer(warehouse, _log) { MaxBatch = 200 };
        var stop = new CancellationTokenSource();
        // RunAsync creates the group's consumer before its first await: the group is live once this returns.
        var run = consumer.RunAsync(_signalling, _log, stop.Token);
        await _signalling.WaitUntilCaughtUpAsync(WarehouseConsumer.GroupName, Patience);
        return (run, stop, consumer);
    }

    private static async Task StopAsync((Task Run, CancellationTokenSource Stop, WarehouseConsumer Consumer) running)
    {
        await running.Stop.CancelAsync();
        await running.Run;
        running.Stop.Dispose();
    }

    private static async Task<DuckDbWarehouse> OpenWarehouseAsync(string folder, ILogger logger)
    {
        var warehouse = DuckDbWarehouse.ForDataDirectory(folder, logger);
        await warehouse.InitializeAsync();
        return warehouse;
    }

    [Fact]
    public async Task Appended_events_land_in_every_table_once_the_group_has_caught_up_and_unreadable_records_are_skipped()
    {
        var (messages, receipts, instances, poison) = Receipts();
        await _eventLog.AppendBatchAsync(messages);
        await using var warehouse = await OpenWarehouseAsync(Path.Combine(_dir.Path, "data"), _log);

        var running = await StartAsync(warehouse);
        (await _eventLog.GetLagAsync(WarehouseConsumer.GroupName)).Sum(l => l.Lag).Should().Be(0);
        running.Consumer.SkippedRecords.Should().Be(poison);
        running.Consumer.FailedBatches.Should().Be(0);
        await StopAsync(running);

        (await Scalar(warehouse, "SELECT count(*) FROM dicom_object_meta")).Should().Be((long)receipts);
        (await Scalar(warehouse, "SELECT count(*) FROM dicom_object_meta WHERE outcome = 'duplicate'")).Should().Be(3L * 3 * 2 * 3);
        (await Scalar(warehouse, "SELECT count(*) FROM dicom_image_meta")).Should().Be((long)instances);
        (await Scalar(warehouse, "SELECT count(*) FROM dicom_image_meta WHERE outcome = 'replaced' AND patient_name = 'Corrected^Name'")).Should().Be(3L * 3 * 2 * 2);
        (await Scalar(warehouse, "SELECT count(*) FROM dicom_state_meta")).Should().Be(3L * 3 * 2);
        var series = await warehouse.QueryAsync("SELECT instance_count, frame_count FROM dicom_state_meta");
        series.Should().AllSatisfy(s =>
        {
            s["instance_count"].Should().Be(25L);
            s["frame_count"].Should().Be(28L, "one instance of four frames, twenty-four of one");
        });

        // QUALITY.md Q1 (re-send rate) straight from the receipt log: receipts vs distinct instances.
        var q1 = (await warehouse.QueryAsync(
            "SELECT count(*) AS receipts, count(DISTINCT sop_uid) AS instances FROM dicom_object_meta WHERE tenant_id = ?", ["hospital-b"])).Single();
        q1["receipts"].Should().Be((long)receipts / 3);
        q1["instances"].Should().Be((long)instances / 3);

        var errors = _log.Lines.Where(l => l.Level == LogLevel.Error).Select(l => l.Message).ToList();
        errors.Should().Contain(m => m.Contains("log_queue-") && m.Contains("ObjectMetaEvent"));
        errors.Should().Contain(m => m.Contains("poison-image") && m.Contains("InstanceEvent"));
        errors.Should().Contain(m => m.Contains("poison-state") && m.Contains("SeriesStateEvent"));
    }

    [Fact]
    public async Task Replaying_from_offset_zero_into_the_same_or_a_wiped_warehouse_gives_identical_tables()
    {
        var (messages, _, _, _) = Receipts();
        await _eventLog.AppendBatchAsync(messages);

        await using var first = await OpenWarehouseAsync(Path.Combine(_dir.Path, "first"), _log);
        await StopAsync(await StartAsync(first));
        var expected = await DumpAsync(first);
        expected[WarehouseTables.DicomImageMeta].Should().NotBeEmpty();

        // Replay into the same warehouse: every event a second time.
        await RewindAsync();
        await StopAsync(await StartAsync(first));
        (await DumpAsync(first)).Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());

        // Replay into a wiped one (a fresh file): the same tables again.
        await RewindAsync();
        await using var second = await OpenWarehouseAsync(Path.Combine(_dir.Path, "second"), _log);
        await StopAsync(await StartAsync(second));
        (await DumpAsync(second)).Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
    }

    /// <summary>What <c>yingyun replay --group warehouse --from 0</c> does: commit offset 0 in every partition.</summary>
    private async Task RewindAsync()
    {
        var partitions = await _eventLog.GetLagAsync(WarehouseConsumer.GroupName);
        await using var consumer = _eventLog.CreateConsumer(WarehouseConsumer.GroupName, WarehouseConsumer.TopicsRead);
        await consumer.CommitAsync(partitions.Select(p => new EventPosition(p.Topic, p.Partition, 0)));
        (await _eventLog.GetLagAsync(WarehouseConsumer.GroupName)).Sum(l => l.Lag).Should().Be(messagesCount());

        long messagesCount() => partitions.Sum(p => p.EndOffset);
    }

    private static async Task<Dictionary<string, List<string>>> DumpAsync(IWarehouse warehouse)
    {
        var all = new Dictionary<string, List<string>>();
        foreach (var table in new[] { WarehouseTables.DicomObjectMeta, WarehouseTables.DicomStateMeta, WarehouseTables.DicomImageMeta })
        {
            all[table] = await warehouse.DumpAsync(table);
        }

        return all;
    }

    private static async Task<object?> Scalar(DuckDbWarehouse warehouse, string sql) => (await warehouse.QueryAsync(sql)).Single().Values.Single();
}
