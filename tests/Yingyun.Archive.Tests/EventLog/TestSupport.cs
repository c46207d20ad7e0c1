using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Yingyun.Archive.EventLog;

namespace Yingyun.Archive.Tests.EventLog;

/// <summary>A fresh directory per test, removed afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "yingyun-eventlog-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>Keeps every log line so tests can check what the log reported.</summary>
internal sealed class CapturingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue((logLevel, formatter(state, exception)));
}

internal static class EventLogTestExtensions
{
    public static byte[] Utf8(this string s) => Encoding.UTF8.GetBytes(s);

    public static string Utf8(this ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    /// <summary>
    /// Consumes until <paramref name="count"/> records arrived. The timeout only keeps a broken
    /// log from hanging the run; it is never what a test waits for.
    /// </summary>
    public static async Task<List<EventRecord>> ConsumeExactlyAsync(this IEventConsumer consumer, int count, int batch = 100)
    {
        using var safety = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var all = new List<EventRecord>();
        while (all.Count < count)
        {
            all.AddRange(await consumer.ConsumeAsync(Math.Min(batch, count - all.Count), safety.Token));
        }

        return all;
    }

    /// <summary>Every record of the topics, using the watermarks to know when everything was read.</summary>
    public static async Task<List<EventRecord>> ReadAllAsync(this EmbeddedEventLog log, string group, params string[] topics)
    {
        var total = 0L;
        foreach (var topic in topics)
        {
            for (var p = 0; p < log.GetPartitionCount(topic); p++)
            {
                var (start, end) = log.GetWatermarks(topic, p);
                total += end - start;
            }
        }

        await using var consumer = log.CreateConsumer(group, topics);
        var records = await consumer.ConsumeExactlyAsync((int)total);
        return records;
    }
}
