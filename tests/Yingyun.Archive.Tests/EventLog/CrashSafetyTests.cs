using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;
using Yingyun.Archive.EventLog;

namespace Yingyun.Archive.Tests.EventLog;

/// <summary>
/// kill -9 at a random moment must not lose an acknowledged record (ARCHITECTURE.md §5). A child
/// process appends and prints what was acknowledged; it is killed with SIGKILL after a random
/// number of acknowledgements, the log is reopened here, and every acknowledged record must be in
/// it at its acknowledged position with its bytes. The rounds share one directory, so each round
/// also recovers whatever the previous kill left behind and appends after it.
/// </summary>
public sealed class CrashSafetyTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Every_acknowledged_record_survives_kill_9()
    {
        var directory = Path.Combine(_dir.Path, "eventlog");
        var random = new Random(20250601);
        var allAcknowledged = new Dictionary<(string Topic, int Partition, long Offset), string>();
        const int rounds = 5;
        for (var round = 0; round < rounds; round++)
        {
            var killAfter = random.Next(20, 600);
            var acknowledged = await RunAndKillAsync(directory, round, killAfter);
            acknowledged.Count.Should().BeGreaterThanOrEqualTo(killAfter);
            foreach (var (position, id) in acknowledged)
            {
                allAcknowledged.Add(position, id);
            }

            await using var log = EmbeddedEventLog.Open(CrashHelper.Options(directory));
            var records = await log.ReadAllAsync($"verify-{round}", CrashHelper.CrashTopics);
            var stored = records.ToDictionary(r => (r.Topic, r.Partition, r.Offset), r => r.Value.Utf8());
            foreach (var (position, id) in allAcknowledged)
            {
                stored.Should().ContainKey(position, $"{id} was acknowledged at {position} (round {round})");
                stored[position].Should().Be(CrashHelper.ValueOf(id));
            }

            foreach (var partition in records.GroupBy(r => (r.Topic, r.Partition)))
            {
                partition.Select(r => r.Offset).Order().Should().Equal(
                    Enumerable.Range(0, partition.Count()).Select(i => (long)i), $"offsets of {partition.Key} stay dense across recoveries");
            }

            // Each id was appended once, so a record can appear at most once, wherever it landed.
            records.Select(r => r.Value.Utf8().Split('|')[0]).Should().OnlyHaveUniqueItems();
            output.WriteLine($"round {round}: killed after {acknowledged.Count} acknowledgements; log holds {records.Count} records, {allAcknowledged.Count} acknowledged so far");
        }
    }

    private async Task<Dictionary<(string, int, long), string>> RunAndKillAsync(string directory, int round, int killAfter)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(CrashSafetyTests).Assembly.Location);
        start.ArgumentList.Add(CrashHelper.Command);
        start.ArgumentList.Add(directory);
        start.ArgumentList.Add(round.ToString(CultureInfo.InvariantCulture));

        using var safety = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var child = Process.Start(start)!;
        var stderr = child.StandardError.ReadToEndAsync(safety.Token);
        var acknowledged = new Dictionary<(string, int, long), string>();
        var killed = false;
        while (await child.StandardOutput.ReadLineAsync(safety.Token) is { } line)
        {
            if (line.StartsWith("ACK ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                acknowledged.Add((parts[1], int.Parse(parts[2], CultureInfo.InvariantCulture), long.Parse(parts[3], CultureInfo.InvariantCulture)), parts[4]);
            }

            if (!killed && acknowledged.Count >= killAfter)
            {
                // SIGKILL on Unix: no finally blocks, no flushing, no disposal in the child.
                child.Kill();
                killed = true;
            }
        }

        // Lines already in the pipe when the kill landed were read above: they were acknowledged too.
        await child.WaitForExitAsync(safety.Token);
        killed.Should().BeTrue($"the child should run until killed; it said: {await stderr}");
        return acknowledged;
    }

    private static string DotnetHost()
    {
        // Under `dotnet test` this process is itself run by the dotnet host.
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
    }
}
