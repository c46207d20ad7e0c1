using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Yingyun.Archive.Consumers;
using Yingyun.Archive.EventLog;
using Yingyun.Dimse.Tests.Infrastructure;
using Yingyun.Server.Cli;

namespace Yingyun.Server.Tests.Serve;

/// <summary>`yingyun replay`: offline it rewrites the group's committed offsets in the log; with a server owning the
/// data directory it asks the server, which pauses the group, rewinds it and lets it re-consume.</summary>
[Collection("console")]
public class ReplayTests
{
    private static async Task<(int Exit, string Out, string Err)> RunCliAsync(params string[] args)
    {
        var (previousOut, previousErr) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            int exit = await YingyunCli.RunAsync(args);
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousErr);
        }
    }

    /// <summary>A data directory whose log has <paramref name="count"/> records in log_queue, all consumed and committed
    /// by group <c>warehouse</c>; record i is stamped at 08:00 + i minutes.</summary>
    private static async Task<string> LogConsumedByWarehouseAsync(TempFolder folder, int count)
    {
        string data = Path.Combine(folder.Path, "data");
        var clock = new SteppingClock(new DateTimeOffset(2025, 3, 1, 8, 0, 0, TimeSpan.Zero));
        await using var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = Path.Combine(data, "eventlog"), TimeProvider = clock, RetentionCheckInterval = null });
        for (int i = 0; i < count; i++)
        {
            clock.Now = new DateTimeOffset(2025, 3, 1, 8, i, 0, TimeSpan.Zero);
            await log.AppendAsync(Topics.LogQueue, Encoding.UTF8.GetBytes("study-" + i), Encoding.UTF8.GetBytes("{\"n\":" + i + "}"));
        }
        await using var consumer = log.CreateConsumer("warehouse", [Topics.LogQueue]);
        var seen = 0;
        while (seen < count)
        {
            var batch = await consumer.ConsumeAsync(count);
            seen += batch.Count;
            await consumer.CommitProcessedAsync(batch);
        }
        (await log.GetLagAsync("warehouse")).Sum(p => p.Lag).Should().Be(0);
        return data;
    }

    private static async Task<IReadOnlyList<PartitionLag>> LagAsync(string data, string group)
    {
        await using var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = Path.Combine(data, "eventlog"), RetentionCheckInterval = null });
        return await log.GetLagAsync(group);
    }

    [Fact]
    public async Task Offline_replay_from_an_offset_or_a_time_rewrites_the_groups_committed_offsets()
    {
        using var folder = new TempFolder();
        string data = await LogConsumedByWarehouseAsync(folder, 40);

        var (exit, output, error) = await RunCliAsync("replay", "--data", data, "--topic", "log_queue", "--group", "warehouse", "--from", "0");
        exit.Should().Be(0, error);
        output.Should().Contain("40 record(s) to re-deliver").And.Contain("offsets rewritten in the event log");
        var lag = await LagAsync(data, "warehouse");
        lag.Sum(p => p.Lag).Should().Be(40, "every record is to be read again");
        lag.Should().OnlyContain(p => p.CommittedOffset == 0);

        // Back to the end, then by time: records stamped 08:30 … 08:39 come again, in whichever partitions they are.
        (await RunCliAsync("replay", "--data", data, "--topic", "log_queue", "--group", "warehouse", "--from", "999999")).Exit.Should().Be(0);
        (await LagAsync(data, "warehouse")).Sum(p => p.Lag).Should().Be(0, "an offset past the end is the end");
        (exit, output, error) = await RunCliAsync("replay", "--data", data, "--topic", "log_queue", "--group", "warehouse", "--from", "2025-03-01T08:30:00Z");
        exit.Should().Be(0, error);
        (await LagAsync(data, "warehouse")).Sum(p => p.Lag).Should().Be(10);

        // One partition only.
        (await RunCliAsync("replay", "--data", data, "--topic", "log_queue", "--group", "warehouse", "--from", "999999")).Exit.Should().Be(0);
        (exit, _, error) = await RunCliAsync("replay", "--data", data, "--topic", "log_queue", "--group", "warehouse", "--from", "0", "--partition", "2");
        exit.Should().Be(0, error);
        lag = await LagAsync(data, "warehouse");
        lag.Where(p => p.Partition != 2).Should().OnlyContain(p => p.Lag == 0);
        lag.Single(p => p.Partition == 2).Lag.Should().Be(lag.Single(p => p.Partition == 2).EndOffset);
    }

    [Fact]
    public async Task Offline_replay_explains_what_is_wrong()
    {
        using var folder = new TempFolder();
        string data = await LogConsumedByWarehouseAsync(folder, 3);

        var unknownGroup = await RunCliAsync("replay", "--data", data, "--topic", "log_queue", "--group", "nobody", "--from", "0");
        unknownGroup.Exit.Should().Be(1);
        unknownGroup.Err.Should().Contain("consumer group 'nobody' has no committed offsets");

        var otherTopic = await RunCliAsync("replay", "--data", data, "--topic", "storage_queue", "--group", "warehouse", "--from", "0");
        otherTopic.Exit.Should().Be(1);
        otherTopic.Err.Should().Contain("does not read topic 'storage_queue' (it reads log_queue)");

        var badTopic = await RunCliAsync("replay", "--data", data, "--topic", "no_such_queue", "--group", "warehouse", "--from", "0");
        badTopic.Exit.Should().Be(2);
        badTopic.Err.Should().Contain("is not one of the archive's topics");

        var badFrom = await RunCliAsync("replay", "--data", data, "--topic", "log_queue", "--group", "warehouse", "--from", "yesterday");
        badFrom.Exit.Should().Be(2);
        badFrom.Err.Should().Contain("neither an offset (digits) nor a time");

        var badPartition = await RunCliAsync("replay", "--data", data, "--topic", "log_queue", "--group", "warehouse", "--from", "0", "--partition", "9");
        badPartition.Exit.Should().Be(1);
        badPartition.Err.Should().Contain("has partitions 0–3, not 9");

        var noData = await RunCliAsync("replay", "--data", Path.Combine(folder.Path, "elsewhere"), "--topic", "log_queue", "--group", "warehouse", "--from", "0");
        noData.Exit.Should().Be(1);
        noData.Err.Should().Contain("no data directory");

        (await LagAsync(data, "warehouse")).Sum(p => p.Lag).Should().Be(0, "nothing was changed by the refused replays");
    }

    [Fact]
    public async Task With_a_server_running_replay_goes_through_it_and_the_group_re_consumes_at_once()
    {
        // A topic no consumer of this build reads: the records are not real events.
        var consumer = new RecordingConsumer("replay-test", Topics.WebApiAccessQueue);
        await using var server = await ServerUnderTest.StartAsync(services: s => s.AddSingleton<ArchiveConsumer>(consumer));
        for (int i = 0; i < 25; i++)
            await server.EventLog.AppendAsync(Topics.WebApiAccessQueue, Encoding.UTF8.GetBytes("study-" + i), Encoding.UTF8.GetBytes("{\"n\":" + i + "}"));
        await consumer.WaitForAsync(25);
        await Eventually.TrueAsync(() => consumer.ProcessedRecords == 25);

        var (exit, output, error) = await RunCliAsync("replay", "--data", server.DataDirectory, "--topic", "webapi_access_queue", "--group", "replay-test", "--from", "0");
        exit.Should().Be(0, error);
        output.Should().Contain("done by the running server").And.Contain("25 record(s) to re-deliver");

        await consumer.WaitForAsync(50);
        consumer.Records.Skip(25).Select(r => (r.Partition, r.Offset)).Should().BeEquivalentTo(consumer.Records.Take(25).Select(r => (r.Partition, r.Offset)),
            "the same records come again");
        await Eventually.TrueAsync(() => consumer.ProcessedRecords == 50);
        var stats = await server.GetJsonAsync("/api/stats");
        var group = stats.GetProperty("consumers").EnumerateArray().Single(g => g.GetProperty("group").GetString() == "replay-test");
        group.GetProperty("lag").GetInt64().Should().Be(0);
        group.GetProperty("state").GetString().Should().Be("up", "the group runs again after the replay");

        var refused = await RunCliAsync("replay", "--data", server.DataDirectory, "--topic", "log_queue", "--group", "replay-test", "--from", "0");
        refused.Exit.Should().Be(1);
        refused.Err.Should().Contain("refused: 400").And.Contain("does not read topic 'log_queue'");
    }

    [Fact]
    public async Task The_admin_endpoint_answers_problems_naming_the_field()
    {
        await using var server = await ServerUnderTest.StartAsync();
        await ServeTests.AssertBadRequestAsync(server.Http.PostAsync("/api/admin/replay",
            ServeTests.Json("""{"topic":"log_queue","group":"x","from":"soon"}""")), "from");
        await ServeTests.AssertBadRequestAsync(server.Http.PostAsync("/api/admin/replay",
            ServeTests.Json("""{"topic":"log_queue","group":"never-committed","from":"0"}""")), "group");
    }

    private sealed class SteppingClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
