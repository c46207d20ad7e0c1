using Microsoft.Extensions.Logging;
using Yingyun.Archive.EventLog;

namespace Yingyun.Archive.Tests.EventLog;

/// <summary>
/// A crash can leave the active segment with a partial last record or with garbage where a
/// write did not land. These tests make such segments by hand and check that opening keeps
/// exactly the records before the damage, says so in the log, and carries on from there.
/// </summary>
public sealed class RecoveryTests : IDisposable
{
    private const string SegmentName = "00000000000000000000.log";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static EmbeddedEventLog Open(string root, ILogger? logger = null, long segmentBytes = 64L * 1024 * 1024) =>
        EmbeddedEventLog.Open(new EmbeddedEventLogOptions
        {
            Directory = root,
            DefaultPartitionCount = 1,
            SegmentBytes = segmentBytes,
            RetentionCheckInterval = null,
        }, logger);

    /// <summary>Writes 40 records of varied sizes; returns the segment bytes and where each frame ends.</summary>
    private async Task<(byte[] Segment, long[] Ends, string[] Values)> MakeSegmentAsync()
    {
        var root = Path.Combine(_dir.Path, "original");
        var random = new Random(1234);
        var values = new string[40];
        await using (var log = Open(root))
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = $"{i}:" + new string((char)('a' + (i % 26)), random.Next(0, 300));
                await log.AppendAsync(Topics.LogQueue, $"k{i}".Utf8(), values[i].Utf8());
            }
        }

        var ends = new long[values.Length];
        long position = 0;
        for (var i = 0; i < values.Length; i++)
        {
            position += RecordFrame.FrameSize($"k{i}".Length, values[i].Length);
            ends[i] = position;
        }

        var bytes = await File.ReadAllBytesAsync(Path.Combine(root, "log_queue-0", SegmentName));
        bytes.LongLength.Should().Be(ends[^1]);
        return (bytes, ends, values);
    }

    private async Task CheckRecoveryAsync(string name, byte[] damaged, int expectedKept, bool expectReport, string[] values, long[] ends)
    {
        var root = Path.Combine(_dir.Path, name);
        Directory.CreateDirectory(Path.Combine(root, "log_queue-0"));
        var segmentPath = Path.Combine(root, "log_queue-0", SegmentName);
        await File.WriteAllBytesAsync(segmentPath, damaged);
        var logger = new CapturingLogger();

        await using (var log = Open(root, logger))
        {
            log.GetWatermarks(Topics.LogQueue, 0).Should().Be((0L, (long)expectedKept), name);
            var records = await log.ReadAllAsync("check", Topics.LogQueue);
            records.Select(r => r.Value.Utf8()).Should().Equal(values.Take(expectedKept), name);

            var tornReports = logger.Lines.Where(l => l.Level == LogLevel.Warning && l.Message.Contains("torn tail", StringComparison.Ordinal)).ToList();
            if (expectReport)
            {
                tornReports.Should().ContainSingle(name).Which.Message.Should().Contain($"offsets continue at {expectedKept}");
            }
            else
            {
                tornReports.Should().BeEmpty(name);
            }

            new FileInfo(segmentPath).Length.Should().Be(expectedKept == 0 ? 0 : ends[expectedKept - 1], "the damage is cut off the file");
            (await log.AppendAsync(Topics.LogQueue, "k".Utf8(), "after recovery".Utf8())).Offset.Should().Be(expectedKept, name);
        }

        var quiet = new CapturingLogger();
        await using (var log = Open(root, quiet))
        {
            var records = await log.ReadAllAsync("check-again", Topics.LogQueue);
            records.Select(r => r.Value.Utf8()).Should().Equal([.. values.Take(expectedKept), "after recovery"], name);
            quiet.Lines.Should().NotContain(l => l.Level >= LogLevel.Warning, "a recovered log opens cleanly");
        }
    }

    [Fact]
    public async Task A_segment_cut_anywhere_keeps_exactly_the_whole_records_before_the_cut()
    {
        var (segment, ends, values) = await MakeSegmentAsync();
        var random = new Random(99);
        var cuts = Enumerable.Range(0, 20).Select(_ => (long)random.Next(1, segment.Length))
            .Concat([0L, 1L, 3L, ends[0] - 1, ends[0], ends[0] + 1, ends[19], ends[^1] - 1, ends[^1]])
            .Distinct();
        foreach (var cut in cuts)
        {
            var kept = ends.Count(e => e <= cut);
            var atBoundary = cut == 0 || ends.Contains(cut);
            await CheckRecoveryAsync($"cut-{cut}", segment[..(int)cut], kept, expectReport: !atBoundary, values, ends);
        }
    }

    [Fact]
    public async Task A_corrupted_byte_drops_its_record_and_everything_after_it()
    {
        var (segment, ends, values) = await MakeSegmentAsync();
        var random = new Random(4242);
        var positions = Enumerable.Range(0, 20).Select(_ => random.Next(0, segment.Length))
            .Concat([0, 4, 8, 16, 24, 28, (int)ends[0], (int)ends[^1] - 1])
            .Distinct();
        foreach (var position in positions)
        {
            var damaged = (byte[])segment.Clone();
            damaged[position] ^= 0x5A;
            var kept = ends.Count(e => e <= position);
            await CheckRecoveryAsync($"flip-{position}", damaged, kept, expectReport: true, values, ends);
        }
    }

    [Fact]
    public async Task Garbage_after_the_last_record_is_cut_off()
    {
        var (segment, ends, values) = await MakeSegmentAsync();
        // What a crash after a file-size update but before the data landed leaves: zeros.
        var zeros = new byte[segment.Length + 4096];
        segment.CopyTo(zeros, 0);
        await CheckRecoveryAsync("zeros", zeros, values.Length, expectReport: true, values, ends);
    }

    [Fact]
    public async Task Only_the_active_segment_is_scanned_and_a_lost_index_is_rebuilt()
    {
        var root = Path.Combine(_dir.Path, "multi");
        await using (var log = Open(root, segmentBytes: 1024))
        {
            for (var i = 0; i < 100; i++)
            {
                await log.AppendAsync(Topics.LogQueue, "k".Utf8(), $"record {i} ........................".Utf8());
            }
        }

        var partitionDirectory = Path.Combine(root, "log_queue-0");
        var logs = Directory.GetFiles(partitionDirectory, "*.log").Order(StringComparer.Ordinal).ToArray();
        logs.Length.Should().BeGreaterThan(3);
        // Tear the active segment, delete one sealed index and garble another.
        var tail = logs[^1];
        var tailLength = new FileInfo(tail).Length;
        tailLength.Should().BeGreaterThan(10);
        await using (var stream = new FileStream(tail, FileMode.Open))
        {
            stream.SetLength(tailLength - 5);
        }

        File.Delete(Path.ChangeExtension(logs[0], ".index"));
        await File.WriteAllBytesAsync(Path.ChangeExtension(logs[1], ".index"), [1, 2, 3, 4, 5, 6, 7, 8]);

        var logger = new CapturingLogger();
        await using (var log = Open(root, logger, segmentBytes: 1024))
        {
            var (_, end) = log.GetWatermarks(Topics.LogQueue, 0);
            end.Should().Be(99, "only the torn last record is lost");
            var records = await log.ReadAllAsync("check", Topics.LogQueue);
            records.Select(r => r.Value.Utf8()).Should().Equal(Enumerable.Range(0, 99).Select(i => $"record {i} ........................"));
            logger.Lines.Should().ContainSingle(l => l.Level == LogLevel.Warning);

            await using var consumer = log.CreateConsumer("seek", [Topics.LogQueue]);
            await consumer.SeekAsync(Topics.LogQueue, 0, 5);
            (await consumer.ConsumeAsync(1))[0].Offset.Should().Be(5);
        }

        File.Exists(Path.ChangeExtension(logs[0], ".index")).Should().BeTrue("the rebuilt index is written back");
    }
}
