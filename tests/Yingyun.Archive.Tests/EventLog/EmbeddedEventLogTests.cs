using Yingyun.Archive.EventLog;

namespace Yingyun.Archive.Tests.EventLog;

public sealed class EmbeddedEventLogTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private EmbeddedEventLog Open(int partitions = 4, long segmentBytes = 64L * 1024 * 1024, TimeProvider? time = null,
        CapturingLogger? logger = null) =>
        EmbeddedEventLog.Open(new EmbeddedEventLogOptions
        {
            Directory = Path.Combine(_dir.Path, "eventlog"),
            DefaultPartitionCount = partitions,
            SegmentBytes = segmentBytes,
            RetentionCheckInterval = null,
            TimeProvider = time ?? TimeProvider.System,
        }, logger);

    [Fact]
    public async Task Appended_records_come_back_in_order_with_their_bytes_and_positions()
    {
        await using var log = Open(partitions: 1);
        var positions = new List<EventPosition>();
        for (var i = 0; i < 20; i++)
        {
            positions.Add(await log.AppendAsync(Topics.LogQueue, $"study-{i % 3}".Utf8(), $"value {i}".Utf8()));
        }

        positions.Select(p => p.Offset).Should().Equal(Enumerable.Range(0, 20).Select(i => (long)i));
        positions.Should().OnlyContain(p => p.Topic == Topics.LogQueue && p.Partition == 0);

        await using var consumer = log.CreateConsumer("indexer", [Topics.LogQueue]);
        var records = await consumer.ConsumeExactlyAsync(20, batch: 7);
        records.Select(r => r.Value.Utf8()).Should().Equal(Enumerable.Range(0, 20).Select(i => $"value {i}"));
        records.Select(r => r.Key.Utf8()).Should().Equal(Enumerable.Range(0, 20).Select(i => $"study-{i % 3}"));
        records.Select(r => r.Offset).Should().Equal(positions.Select(p => p.Offset));
        records.Should().OnlyContain(r => r.Timestamp > DateTimeOffset.UtcNow.AddMinutes(-5) && r.Timestamp <= DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Keys_choose_partitions_as_kafka_does_and_each_partition_keeps_its_order()
    {
        await using var log = Open(partitions: 4);
        var byStudy = new Dictionary<string, List<EventPosition>>();
        for (var i = 0; i < 200; i++)
        {
            var study = $"1.2.3.{i % 17}";
            var position = await log.AppendAsync(Topics.StorageQueue, study.Utf8(), $"{study}#{i}".Utf8());
            position.Partition.Should().Be(KafkaPartitioner.Partition(study.Utf8(), 4));
            (byStudy.TryGetValue(study, out var list) ? list : byStudy[study] = []).Add(position);
        }

        byStudy.Values.SelectMany(l => l).Select(p => p.Partition).Distinct().Should().HaveCountGreaterThan(1);
        foreach (var list in byStudy.Values)
        {
            list.Select(p => p.Offset).Should().BeInAscendingOrder();
        }

        var records = await log.ReadAllAsync("check", Topics.StorageQueue);
        records.Should().HaveCount(200);
        foreach (var group in records.GroupBy(r => r.Partition))
        {
            group.Select(r => r.Offset).Should().Equal(Enumerable.Range(0, group.Count()).Select(i => (long)i), "offsets are dense per partition");
        }
    }

    [Fact]
    public async Task A_batch_spans_topics_and_returns_positions_in_message_order()
    {
        await using var log = Open(partitions: 2);
        var messages = Enumerable.Range(0, 30)
            .Select(i => new EventMessage(Topics.All[i % 4], $"s{i % 5}".Utf8(), $"m{i}".Utf8()))
            .ToList();
        var positions = await log.AppendBatchAsync(messages);

        positions.Should().HaveCount(30);
        for (var i = 0; i < 30; i++)
        {
            positions[i].Topic.Should().Be(messages[i].Topic);
        }

        positions.Should().OnlyHaveUniqueItems();
        var records = await log.ReadAllAsync("check", [.. Topics.All.Take(4)]);
        var byPosition = records.ToDictionary(r => r.Position);
        for (var i = 0; i < 30; i++)
        {
            byPosition[positions[i]].Value.Utf8().Should().Be($"m{i}");
        }

        log.Statistics.FlushRounds.Should().Be(1, "one batch is one write round with one flush");
        log.Statistics.RecordsAppended.Should().Be(30);
    }

    [Fact]
    public async Task Committed_offsets_survive_a_restart_and_uncommitted_records_are_delivered_again()
    {
        await using (var log = Open(partitions: 1))
        {
            for (var i = 0; i < 10; i++)
            {
                await log.AppendAsync(Topics.LogQueue, "k".Utf8(), $"v{i}".Utf8());
            }

            await using var consumer = log.CreateConsumer("warehouse", [Topics.LogQueue]);
            var first = await consumer.ConsumeExactlyAsync(6);
            await consumer.CommitProcessedAsync(first.Take(4));
        }

        await using (var log = Open(partitions: 1))
        {
            var next = await log.AppendAsync(Topics.LogQueue, "k".Utf8(), "v10".Utf8());
            next.Offset.Should().Be(10, "offsets continue after a restart");

            await using var consumer = log.CreateConsumer("warehouse", [Topics.LogQueue]);
            var again = await consumer.ConsumeExactlyAsync(7);
            again.Select(r => r.Value.Utf8()).Should().Equal("v4", "v5", "v6", "v7", "v8", "v9", "v10");
            await consumer.CommitAsync([again[^1].NextPosition]);
            (await log.GetLagAsync("warehouse")).Should().ContainSingle().Which.Lag.Should().Be(0);
        }

        var offsetsFile = Path.Combine(_dir.Path, "eventlog", "__consumer_offsets", "warehouse.json");
        File.Exists(offsetsFile).Should().BeTrue();
        Directory.GetFiles(Path.GetDirectoryName(offsetsFile)!, "*.tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task Consumer_groups_are_independent()
    {
        await using var log = Open(partitions: 2);
        for (var i = 0; i < 12; i++)
        {
            await log.AppendAsync(Topics.DicomImageQueue, $"s{i}".Utf8(), $"v{i}".Utf8());
        }

        await using var a = log.CreateConsumer("index", [Topics.DicomImageQueue]);
        await using var b = log.CreateConsumer("warehouse", [Topics.DicomImageQueue]);
        var fromA = await a.ConsumeExactlyAsync(12);
        await a.CommitProcessedAsync(fromA);
        var fromB = await b.ConsumeExactlyAsync(12);

        fromB.Select(r => r.Position).Should().BeEquivalentTo(fromA.Select(r => r.Position));
        (await log.GetLagAsync("index")).Sum(l => l.Lag).Should().Be(0);
        (await log.GetLagAsync("warehouse")).Sum(l => l.Lag).Should().Be(12, "warehouse read but did not commit");
    }

    [Fact]
    public async Task A_second_live_consumer_of_the_same_group_and_topic_is_refused_until_the_first_is_gone()
    {
        await using var log = Open();
        var first = log.CreateConsumer("index", [Topics.LogQueue]);
        var act = () => log.CreateConsumer("index", [Topics.LogQueue, Topics.StorageQueue]);
        act.Should().Throw<InvalidOperationException>();
        await using (log.CreateConsumer("index", [Topics.StorageQueue]))
        {
            // Another topic of the same group is fine.
        }

        await first.DisposeAsync();
        await using var second = log.CreateConsumer("index", [Topics.LogQueue]);
        second.Group.Should().Be("index");
    }

    [Fact]
    public async Task A_waiting_consumer_wakes_on_append_without_polling()
    {
        await using var log = Open(partitions: 4);
        await using var consumer = log.CreateConsumer("live", [Topics.LogQueue, Topics.TranscodeQueue]);
        using var safety = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var pending = consumer.ConsumeAsync(10, safety.Token).AsTask();
        pending.IsCompleted.Should().BeFalse("nothing was appended yet");

        await log.AppendAsync(Topics.TranscodeQueue, "s".Utf8(), "wake".Utf8());
        var records = await pending;
        records.Should().ContainSingle().Which.Value.Utf8().Should().Be("wake");

        var next = consumer.ConsumeAsync(10, safety.Token).AsTask();
        next.IsCompleted.Should().BeFalse();
        await log.AppendAsync(Topics.LogQueue, "s".Utf8(), "again".Utf8());
        (await next).Should().ContainSingle().Which.Topic.Should().Be(Topics.LogQueue);
    }

    [Fact]
    public async Task A_waiting_consumer_stops_on_cancellation_and_on_closing_the_log()
    {
        var log = Open();
        await using var consumer = log.CreateConsumer("live", [Topics.LogQueue]);
        using var cancel = new CancellationTokenSource();
        var waiting = consumer.ConsumeAsync(1, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await FluentActions.Awaiting(() => waiting).Should().ThrowAsync<OperationCanceledException>();

        using var safety = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var orphan = consumer.ConsumeAsync(1, safety.Token).AsTask();
        await log.DisposeAsync();
        await FluentActions.Awaiting(() => orphan).Should().ThrowAsync<ObjectDisposedException>();
    }

    [Fact]
    public async Task A_cancelled_append_is_not_appended()
    {
        await using var log = Open(partitions: 1);
        using var release = new ManualResetEventSlim();
        var rounds = 0;
        log.BeforeRound = () =>
        {
            if (Interlocked.Increment(ref rounds) == 1)
            {
                release.Wait();
            }
        };

        // The first append occupies the writer; the second waits in the queue and is cancelled there.
        var first = log.AppendAsync(Topics.LogQueue, "k".Utf8(), "kept".Utf8()).AsTask();
        using var cancel = new CancellationTokenSource();
        var second = log.AppendAsync(Topics.LogQueue, "k".Utf8(), "withdrawn".Utf8(), cancel.Token).AsTask();
        await cancel.CancelAsync();
        release.Set();

        // The writer takes (and so commits to writing) a request only after the hook, so the
        // cancellation above always wins, whichever round the request was drained into.
        (await first).Offset.Should().Be(0);
        await FluentActions.Awaiting(() => second).Should().ThrowAsync<OperationCanceledException>();
        var third = await log.AppendAsync(Topics.LogQueue, "k".Utf8(), "next".Utf8());
        third.Offset.Should().Be(1, "the withdrawn record took no offset");
        (await log.ReadAllAsync("check", Topics.LogQueue)).Select(r => r.Value.Utf8()).Should().Equal("kept", "next");
    }

    [Fact]
    public async Task Concurrent_appenders_share_flushes()
    {
        await using var log = Open(partitions: 4);
        const int appenders = 32;
        const int perAppender = 10;
        using var allQueued = new CountdownEvent(appenders);
        var rounds = 0;
        // Hold the first round until every appender has queued its first record, so the test
        // does not depend on how the scheduler interleaves them: the next round must take many.
        log.BeforeRound = () =>
        {
            if (Interlocked.Increment(ref rounds) == 1)
            {
                allQueued.Wait();
            }
        };

        var tasks = Enumerable.Range(0, appenders).Select(a => Task.Run(async () =>
        {
            var positions = new List<EventPosition>();
            for (var i = 0; i < perAppender; i++)
            {
                var append = log.AppendAsync(Topics.All[a % 3], $"study-{a}".Utf8(), $"{a}/{i}".Utf8());
                if (i == 0)
                {
                    allQueued.Signal();
                }

                positions.Add(await append);
            }

            return positions;
        })).ToArray();
        var all = (await Task.WhenAll(tasks)).SelectMany(p => p).ToList();

        all.Should().HaveCount(appenders * perAppender).And.OnlyHaveUniqueItems();
        var stats = log.Statistics;
        stats.RecordsAppended.Should().Be(appenders * perAppender);
        stats.FlushRounds.Should().BeLessThan(stats.RecordsAppended, "appenders waiting at the same time share one flush");
        stats.FlushRounds.Should().BeLessThanOrEqualTo(1 + ((appenders - 1) * perAppender));
    }

    [Fact]
    public async Task Seek_by_offset_replays_from_there_and_seek_by_time_finds_the_first_record_at_or_after_it()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2025, 3, 1, 8, 0, 0, TimeSpan.Zero));
        await using var log = Open(partitions: 1, segmentBytes: 1024, time: clock);
        for (var i = 0; i < 60; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(10));
            await log.AppendAsync(Topics.LogQueue, "k".Utf8(), $"record {i} {new string('x', i % 40)}".Utf8());
        }

        Directory.GetFiles(Path.Combine(_dir.Path, "eventlog", "log_queue-0"), "*.log").Should().HaveCountGreaterThan(2,
            "the seek has to cross segments");

        await using var consumer = log.CreateConsumer("replay", [Topics.LogQueue]);
        (await consumer.ConsumeExactlyAsync(60)).Should().HaveCount(60);

        consumer.GetPosition(Topics.LogQueue, 0).Should().Be(60);
        await consumer.SeekAsync(Topics.LogQueue, 0, 37);
        consumer.GetPosition(Topics.LogQueue, 0).Should().Be(37);
        (await consumer.ConsumeExactlyAsync(23)).Select(r => r.Offset).Should().Equal(Enumerable.Range(37, 23).Select(i => (long)i));

        // Record i was stamped 08:00 + 10 s·(i+1); ask for a moment between records 44 and 45.
        await consumer.SeekToTimeAsync(new DateTimeOffset(2025, 3, 1, 8, 7, 25, TimeSpan.Zero));
        consumer.GetPosition(Topics.LogQueue, 0).Should().Be(44, "a replay by time commits where the seek landed");
        var fromTime = await consumer.ConsumeExactlyAsync(15);
        fromTime[0].Offset.Should().Be(44);
        fromTime[0].Timestamp.Should().Be(new DateTimeOffset(2025, 3, 1, 8, 7, 30, TimeSpan.Zero));

        await consumer.SeekToTimeAsync(DateTimeOffset.MinValue.AddYears(2000));
        (await consumer.ConsumeAsync(1))[0].Offset.Should().Be(0);

        await consumer.SeekToTimeAsync(clock.Now.AddSeconds(1));
        await consumer.SeekAsync(Topics.LogQueue, 0, long.MaxValue);
        consumer.GetPosition(Topics.LogQueue, 0).Should().Be(60);
        var atEnd = consumer.ConsumeAsync(1).AsTask();
        atEnd.IsCompleted.Should().BeFalse("seeking past the newest record leaves nothing to read");
        await log.AppendAsync(Topics.LogQueue, "k".Utf8(), "after".Utf8());
        (await atEnd)[0].Offset.Should().Be(60);
    }

    [Fact]
    public async Task Seek_by_time_works_after_a_restart_from_the_index_files()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2025, 3, 1, 8, 0, 0, TimeSpan.Zero));
        await using (var log = Open(partitions: 1, segmentBytes: 1024, time: clock))
        {
            for (var i = 0; i < 100; i++)
            {
                clock.Advance(TimeSpan.FromMinutes(1));
                await log.AppendAsync(Topics.LogQueue, "k".Utf8(), $"record {i:D3} padding padding".Utf8());
            }
        }

        Directory.GetFiles(Path.Combine(_dir.Path, "eventlog", "log_queue-0"), "*.index").Should().NotBeEmpty();
        await using (var log = Open(partitions: 1, segmentBytes: 1024, time: clock))
        {
            await using var consumer = log.CreateConsumer("replay", [Topics.LogQueue]);
            await consumer.SeekToTimeAsync(new DateTimeOffset(2025, 3, 1, 9, 0, 0, TimeSpan.Zero));
            var records = await consumer.ConsumeExactlyAsync(41);
            records[0].Value.Utf8().Should().StartWith("record 059");
            records[^1].Offset.Should().Be(99);
        }
    }

    [Fact]
    public async Task Lag_counts_records_after_the_committed_offset_per_partition()
    {
        await using var log = Open(partitions: 4);
        (await log.GetLagAsync("nobody")).Should().BeEmpty();
        var positions = new List<EventPosition>();
        for (var i = 0; i < 40; i++)
        {
            positions.Add(await log.AppendAsync(Topics.DicomStateQueue, $"study {i}".Utf8(), "x".Utf8()));
        }

        await using var consumer = log.CreateConsumer("state", [Topics.DicomStateQueue]);
        (await log.GetLagAsync("state")).Sum(l => l.Lag).Should().Be(40, "a live group without commits has everything ahead of it");

        var busiest = positions.GroupBy(p => p.Partition).MaxBy(g => g.Count())!;
        await consumer.CommitAsync([new EventPosition(Topics.DicomStateQueue, busiest.Key, 2)]);
        var lags = await log.GetLagAsync("state");
        lags.Should().HaveCount(4);
        var lag = lags.Single(l => l.Partition == busiest.Key);
        lag.CommittedOffset.Should().Be(2);
        lag.EndOffset.Should().Be(busiest.Count());
        lag.Lag.Should().Be(busiest.Count() - 2);
        lags.Sum(l => l.Lag).Should().Be(38);

        var beyond = () => consumer.CommitAsync([new EventPosition(Topics.DicomStateQueue, 0, 1000)]).AsTask();
        await beyond.Should().ThrowAsync<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task Records_too_large_or_topics_with_bad_names_are_refused()
    {
        await using var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions
        {
            Directory = Path.Combine(_dir.Path, "eventlog"),
            MaxRecordBytes = 1000,
            RetentionCheckInterval = null,
        });
        await FluentActions.Awaiting(() => log.AppendAsync(Topics.LogQueue, "k".Utf8(), new byte[1000]).AsTask())
            .Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => log.AppendAsync("bad/topic", "k".Utf8(), "v".Utf8()).AsTask())
            .Should().ThrowAsync<ArgumentException>();
        (await log.AppendAsync(Topics.LogQueue, "k".Utf8(), new byte[990])).Offset.Should().Be(0);
    }

    [Fact]
    public async Task A_large_record_is_delivered_even_above_the_fetch_size()
    {
        await using var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions
        {
            Directory = Path.Combine(_dir.Path, "eventlog"),
            DefaultPartitionCount = 1,
            MaxFetchBytes = 1024,
            RetentionCheckInterval = null,
        });
        var big = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        await log.AppendAsync(Topics.LogQueue, "small".Utf8(), "a".Utf8());
        await log.AppendAsync(Topics.LogQueue, "big".Utf8(), big);
        await log.AppendAsync(Topics.LogQueue, "small".Utf8(), "b".Utf8());

        await using var consumer = log.CreateConsumer("c", [Topics.LogQueue]);
        var records = await consumer.ConsumeExactlyAsync(3);
        records[1].Value.ToArray().Should().Equal(big);
        records[2].Value.Utf8().Should().Be("b");
    }

    [Fact]
    public async Task After_a_failed_write_the_log_refuses_appends_and_a_reopen_recovers()
    {
        await using (var log = Open(partitions: 1))
        {
            await log.AppendAsync(Topics.LogQueue, "k".Utf8(), "before".Utf8());
            log.TryGetTopic(Topics.LogQueue, out var topic).Should().BeTrue();
            // Closing the active segment under the writer makes its next write fail.
            topic.Partitions[0].Segments[^1].Handle.Dispose();

            await FluentActions.Awaiting(() => log.AppendAsync(Topics.LogQueue, "k".Utf8(), "lost".Utf8()).AsTask())
                .Should().ThrowAsync<IOException>();
            await FluentActions.Awaiting(() => log.AppendAsync(Topics.LogQueue, "k".Utf8(), "refused".Utf8()).AsTask())
                .Should().ThrowAsync<InvalidOperationException>();
        }

        await using (var log = Open(partitions: 1))
        {
            (await log.AppendAsync(Topics.LogQueue, "k".Utf8(), "after".Utf8())).Offset.Should().Be(1);
            (await log.ReadAllAsync("check", Topics.LogQueue)).Select(r => r.Value.Utf8()).Should().Equal("before", "after");
        }
    }

    [Fact]
    public async Task Partitions_can_be_added_but_are_never_dropped()
    {
        await using (var log = Open(partitions: 2))
        {
            for (var i = 0; i < 20; i++)
            {
                await log.AppendAsync(Topics.StorageQueue, $"s{i}".Utf8(), $"v{i}".Utf8());
            }
        }

        await using (var log = Open(partitions: 4))
        {
            log.GetPartitionCount(Topics.StorageQueue).Should().Be(4);
            (await log.ReadAllAsync("a", Topics.StorageQueue)).Should().HaveCount(20);
        }

        var logger = new CapturingLogger();
        await using (var log = Open(partitions: 1, logger: logger))
        {
            log.GetPartitionCount(Topics.StorageQueue).Should().Be(4, "records in partitions 1-3 must stay reachable");
            logger.Lines.Should().Contain(l => l.Message.Contains("keeps its 4 partitions", StringComparison.Ordinal));
            (await log.ReadAllAsync("b", Topics.StorageQueue)).Should().HaveCount(20);
        }
    }
}
