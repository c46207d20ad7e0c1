using System.Diagnostics;
using Xunit.Abstractions;
using Yingyun.Archive.EventLog;

namespace Yingyun.Archive.Tests.EventLog;

/// <summary>
/// Reports appends per second with real fsyncs, for the record (no assertion on speed: the
/// machine's disk and load decide it). The correctness checks keep the test meaningful.
/// </summary>
public sealed class ThroughputTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Appends_per_second_with_fsync_for_batches_of_1_and_16_and_16_concurrent_appenders()
    {
        await using var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions
        {
            Directory = Path.Combine(_dir.Path, "eventlog"),
            RetentionCheckInterval = null,
        });
        // A log_queue message is the seed's dicom_object_meta row as JSON: about 700 bytes.
        var value = new byte[700];
        new Random(1).NextBytes(value);
        var key = "1.2.840.113619.2.55.3.604688119.868.1249291000.1"u8.ToArray();

        var batch = Enumerable.Range(0, 16).Select(_ => new EventMessage(Topics.LogQueue, key, value)).ToArray();

        // Warm-up (JIT tiers, thread pool, first blocks of the segment files): the first few hundred
        // appends run several times slower and would hide the steady state.
        const int warmUp = 200;
        for (var i = 0; i < warmUp; i++)
        {
            await log.AppendAsync(Topics.All[i % 4], key, value);
            await log.AppendBatchAsync(batch);
        }

        const int singles = 1000;
        var latencies = new double[singles];
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < singles; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await log.AppendAsync(Topics.LogQueue, key, value);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        var singleRate = singles / stopwatch.Elapsed.TotalSeconds;
        Array.Sort(latencies);

        const int batches = 200;
        var before = log.Statistics;
        stopwatch.Restart();
        for (var i = 0; i < batches; i++)
        {
            await log.AppendBatchAsync(batch);
        }

        var batchRate = batches * 16 / stopwatch.Elapsed.TotalSeconds;
        (log.Statistics.FlushRounds - before.FlushRounds).Should().Be(batches, "one flush per batch");

        const int appenders = 16;
        const int perAppender = 100;
        before = log.Statistics;
        stopwatch.Restart();
        await Task.WhenAll(Enumerable.Range(0, appenders).Select(a => Task.Run(async () =>
        {
            for (var i = 0; i < perAppender; i++)
            {
                await log.AppendAsync(Topics.All[a % 4], key, value);
            }
        })));
        var concurrentRate = appenders * perAppender / stopwatch.Elapsed.TotalSeconds;
        var after = log.Statistics;

        log.Statistics.RecordsAppended.Should().Be((warmUp * 17) + singles + (batches * 16) + (appenders * perAppender));
        output.WriteLine($"fsynced appends of 700-byte records: batch of 1: {singleRate:F0}/s " +
            $"(latency p50 {latencies[singles / 2]:F2} ms, p99 {latencies[singles * 99 / 100]:F2} ms); batch of 16: {batchRate:F0}/s; " +
            $"16 concurrent single appenders over 4 topics: {concurrentRate:F0}/s " +
            $"({after.FlushRounds - before.FlushRounds} flush rounds, {after.Fsyncs - before.Fsyncs} fsyncs for {appenders * perAppender} records)");
    }
}
