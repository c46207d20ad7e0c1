using Microsoft.Extensions.Logging;
using Yingyun.Archive.EventLog;

namespace Yingyun.Archive.Tests.EventLog;

public sealed class RetentionTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero));

    public void Dispose() => _dir.Dispose();

    private string PartitionDirectory => Path.Combine(_dir.Path, "eventlog", "log_queue-0");

    private EmbeddedEventLog Open(TimeSpan? age = null, long? bytes = null, long? hard = null, ILogger? logger = null) =>
        EmbeddedEventLog.Open(new EmbeddedEventLogOptions
        {
            Directory = Path.Combine(_dir.Path, "eventlog"),
            DefaultPartitionCount = 1,
            SegmentBytes = 1024,
            RetentionAge = age,
            RetentionBytes = bytes,
            HardLimitBytes = hard,
            RetentionCheckInterval = null,
            TimeProvider = _clock,
        }, logger);

    private static async Task FillAsync(EmbeddedEventLog log, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await log.AppendAsync(Topics.LogQueue, "k".Utf8(), $"record {i:D4} with some padding to fill".Utf8());
        }
    }

    private long[] BaseOffsets() =>
        [.. Directory.GetFiles(PartitionDirectory, "*.log").Select(f => long.Parse(Path.GetFileNameWithoutExtension(f), System.Globalization.CultureInfo.InvariantCulture)).Order()];

    [Fact]
    public async Task Old_segments_go_only_once_every_group_has_committed_past_them()
    {
        await using var log = Open(age: TimeSpan.FromHours(1));
        await FillAsync(log, 100);
        var bases = BaseOffsets();
        bases.Length.Should().BeGreaterThan(4);

        await using var consumer = log.CreateConsumer("index", [Topics.LogQueue]);
        // A group that follows another topic only has no say over this one.
        await using (var other = log.CreateConsumer("elsewhere", [Topics.StorageQueue]))
        {
            await other.CommitAsync([new EventPosition(Topics.StorageQueue, 0, 0)]);
        }

        log.EnforceRetention().Should().Be(0, "nothing is old yet");

        _clock.Advance(TimeSpan.FromHours(2));
        log.EnforceRetention().Should().Be(0, "the live group has not committed anything");

        // Committed into the middle of the third segment: the first two may go, not the third.
        await consumer.CommitAsync([new EventPosition(Topics.LogQueue, 0, bases[2] + 1)]);
        log.EnforceRetention().Should().Be(2);
        BaseOffsets().Should().Equal(bases[2..]);
        log.GetWatermarks(Topics.LogQueue, 0).LogStart.Should().Be(bases[2]);
        File.Exists(Path.Combine(PartitionDirectory, Segment.FileName(bases[0], ".index"))).Should().BeFalse();

        // Records at or after the committed offset are all still there for the group.
        var records = await consumer.ConsumeExactlyAsync(100 - (int)bases[2]);
        records[0].Offset.Should().Be(bases[2]);

        await consumer.CommitProcessedAsync(records);
        log.EnforceRetention().Should().Be(bases.Length - 3);
        BaseOffsets().Should().Equal(bases[^1]).And.HaveCount(1, "the active segment always stays");
        (await log.GetLagAsync("index")).Single().Lag.Should().Be(0);
    }

    [Fact]
    public async Task A_size_limit_deletes_the_oldest_segments_down_to_the_limit()
    {
        await using var log = Open(age: null, bytes: 3000);
        await FillAsync(log, 150);
        var bases = BaseOffsets();
        var sizes = bases.ToDictionary(b => b, b => new FileInfo(Path.Combine(PartitionDirectory, Segment.FileName(b, ".log"))).Length);
        var deleted = log.EnforceRetention();

        deleted.Should().BeGreaterThan(0);
        BaseOffsets().Should().Equal(bases[deleted..]);
        var remaining = Directory.GetFiles(PartitionDirectory, "*.log").Sum(f => new FileInfo(f).Length);
        remaining.Should().BeLessThanOrEqualTo(3000);
        (remaining + sizes[bases[deleted - 1]]).Should().BeGreaterThan(3000, "no more is deleted than the limit asks");

        var survivors = await log.ReadAllAsync("late", Topics.LogQueue);
        survivors[0].Offset.Should().Be(bases[deleted]);
        survivors[^1].Offset.Should().Be(149);
    }

    [Fact]
    public async Task Above_the_hard_limit_segments_go_even_if_a_group_still_needs_them_and_the_log_says_so()
    {
        var logger = new CapturingLogger();
        await using var log = Open(age: null, bytes: 2000, hard: 4000, logger: logger);
        await using var consumer = log.CreateConsumer("slow", [Topics.LogQueue]);
        await FillAsync(log, 150);
        var bases = BaseOffsets();

        var deleted = log.EnforceRetention();
        deleted.Should().BeGreaterThan(0);
        Directory.GetFiles(PartitionDirectory, "*.log").Sum(f => new FileInfo(f).Length).Should().BeLessThanOrEqualTo(4000,
            "the hard limit is enforced, the softer size limit waits for the group");
        logger.Lines.Should().Contain(l => l.Level == LogLevel.Warning && l.Message.Contains("slow", StringComparison.Ordinal));

        // The slow group's position was deleted: it continues at the earliest retained record.
        var first = await consumer.ConsumeAsync(1);
        first[0].Offset.Should().Be(bases[deleted]);
    }

    [Fact]
    public async Task Retention_survives_a_restart_through_the_committed_offsets_and_index_files()
    {
        await using (var log = Open(age: TimeSpan.FromHours(1)))
        {
            await FillAsync(log, 100);
            await using var consumer = log.CreateConsumer("index", [Topics.LogQueue]);
            await consumer.CommitAsync([new EventPosition(Topics.LogQueue, 0, 30)]);
        }

        var bases = BaseOffsets();
        _clock.Advance(TimeSpan.FromDays(1));
        await using (var log = Open(age: TimeSpan.FromHours(1)))
        {
            log.EnforceRetention().Should().Be(bases.Count(b => b <= 30) - 1, "a segment goes when the next one starts at or before the committed offset");
            log.GetWatermarks(Topics.LogQueue, 0).LogStart.Should().BeLessThanOrEqualTo(30);
            await using var consumer = log.CreateConsumer("index", [Topics.LogQueue]);
            (await consumer.ConsumeAsync(1))[0].Offset.Should().Be(30);
        }
    }
}
