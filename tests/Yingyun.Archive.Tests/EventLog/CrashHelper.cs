using System.Globalization;
using System.Text;
using Yingyun.Archive.EventLog;

namespace Yingyun.Archive.Tests.EventLog;

/// <summary>
/// The child process of <see cref="CrashSafetyTests"/>: appends from several concurrent writers,
/// singly and in batches across topics, and prints a line per record only after its append
/// returned (i.e. was acknowledged as durable), until it is killed.
/// </summary>
internal static class CrashHelper
{
    public const string Command = "eventlog-crash-append";

    /// <summary>Topics the helper writes to; the verifier reads the same ones.</summary>
    public static readonly string[] CrashTopics = [Topics.StorageQueue, Topics.LogQueue, Topics.DicomImageQueue];

    public static EmbeddedEventLogOptions Options(string directory) => new()
    {
        Directory = directory,
        DefaultPartitionCount = 3,
        // Small segments so that kills also land around segment rolls.
        SegmentBytes = 16 * 1024,
        RetentionCheckInterval = null,
    };

    /// <summary>The value of record <paramref name="id"/>: its id, then a length that depends on it.</summary>
    public static string ValueOf(string id)
    {
        var filler = (id.Length * 37 + id[^1]) % 700;
        return id + "|" + new string((char)('a' + (filler % 26)), filler);
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var directory = args[0];
        var round = int.Parse(args[1], CultureInfo.InvariantCulture);
        await using var log = EmbeddedEventLog.Open(Options(directory));
        var stdout = Console.Out;
        await stdout.WriteLineAsync("READY");

        var writers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            var lines = new StringBuilder();
            for (var i = 0; i < 1_000_000; i++)
            {
                lines.Clear();
                if (i % 4 == 3)
                {
                    var messages = Enumerable.Range(0, 5)
                        .Select(j => (Id: $"r{round}-w{w}-{i}-{j}", Topic: CrashTopics[j % CrashTopics.Length]))
                        .ToArray();
                    var positions = await log.AppendBatchAsync(
                        [.. messages.Select(m => new EventMessage(m.Topic, Encoding.UTF8.GetBytes($"study-{w}-{i % 11}"), Encoding.UTF8.GetBytes(ValueOf(m.Id))))]);
                    for (var j = 0; j < messages.Length; j++)
                    {
                        lines.Append(CultureInfo.InvariantCulture, $"ACK {positions[j].Topic} {positions[j].Partition} {positions[j].Offset} {messages[j].Id}\n");
                    }
                }
                else
                {
                    var id = $"r{round}-w{w}-{i}";
                    var topic = CrashTopics[i % CrashTopics.Length];
                    var p = await log.AppendAsync(topic, Encoding.UTF8.GetBytes($"study-{w}-{i % 11}"), Encoding.UTF8.GetBytes(ValueOf(id)));
                    lines.Append(CultureInfo.InvariantCulture, $"ACK {p.Topic} {p.Partition} {p.Offset} {id}\n");
                }

                // Console.Out is synchronised and flushes every write, so a line on the pipe is a
                // record that was acknowledged before the kill.
                await stdout.WriteAsync(lines.ToString());
            }
        })).ToArray();
        await Task.WhenAll(writers);
        return 0;
    }
}
