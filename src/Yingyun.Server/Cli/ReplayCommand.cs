using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using Yingyun.Archive.EventLog;
using Yingyun.Server.Hosting;

namespace Yingyun.Server.Cli;

/// <summary>`yingyun replay`: re-delivers a topic to a consumer group from an offset or a time (the seed's "upload
/// record replay"). Consumers are idempotent, so a replay converges to the same state.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var topic = new Option<string>("--topic") { Description = $"the topic to re-deliver: {string.Join(", ", Topics.All)}", Required = true };
        var group = new Option<string>("--group") { Description = "the consumer group to rewind (see /api/stats: storage, index, warehouse, …)", Required = true };
        var from = new Option<string>("--from")
        {
            Description = "an offset (digits: every partition, or --partition only; 0 = the oldest record kept) or a time " +
                "(ISO 8601, e.g. 2025-03-01T08:00:00Z; without a zone, local time): the first record appended at or after it",
            Required = true,
        };
        var partition = new Option<int?>("--partition") { Description = "rewind this partition only" };
        var data = new Option<string?>("--data") { Description = "the data directory (Yingyun:DataDirectory; default ./yingyun-data)" };
        var config = new Option<FileInfo?>("--config") { Description = "the JSON settings file `serve` was started with, to find its data directory" };
        var cmd = new Command("replay",
            "Re-deliver an event-log topic to a consumer group from an offset or a time. If `yingyun serve` is running on the " +
            "data directory (the embedded event log belongs to one process), this asks it over HTTP (POST /api/admin/replay on " +
            "127.0.0.1): it pauses that group after its current batch, rewinds it and lets it re-consume at once. Otherwise the " +
            "group's committed offsets are rewritten in the log directly and it re-consumes when the server next starts.")
        {
            topic, group, from, partition, data, config,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var request = new ReplayRequest
            {
                Topic = parse.GetValue(topic)!,
                Group = parse.GetValue(group)!,
                From = parse.GetValue(from)!,
                Partition = parse.GetValue(partition),
            };
            string dataDirectory;
            try
            {
                request.Parse();
                var configuration = new Microsoft.Extensions.Configuration.ConfigurationManager();
                YingyunConfiguration.AddSources(configuration, parse.GetValue(config)?.FullName,
                    new Dictionary<string, string?> { ["Yingyun:DataDirectory"] = parse.GetValue(data) });
                dataDirectory = YingyunConfiguration.Bind(configuration).DataDirectory;
            }
            catch (Exception ex) when (ex is ReplayException or YingyunConfigurationException)
            {
                Console.Error.WriteLine($"yingyun replay: {ex.Message}");
                return 2;
            }
            if (!Directory.Exists(dataDirectory))
            {
                Console.Error.WriteLine($"yingyun replay: no data directory {dataDirectory} (give the one `yingyun serve` uses with --data)");
                return 1;
            }
            try
            {
                ReplayResult result;
                string how;
                using (var owned = DataDirectoryLock.TryAcquire(dataDirectory))
                {
                    if (owned is not null)
                    {
                        result = await ReplayOfflineAsync(dataDirectory, request, ct).ConfigureAwait(false);
                        how = "offsets rewritten in the event log; the group re-consumes when `yingyun serve` next starts";
                    }
                    else
                    {
                        (result, how) = await ReplayThroughServerAsync(dataDirectory, request, ct).ConfigureAwait(false);
                    }
                }
                Print(result, how);
                return 0;
            }
            catch (ReplayException ex)
            {
                Console.Error.WriteLine($"yingyun replay: {ex.Message}");
                return 1;
            }
        });
        return cmd;
    }

    /// <summary>No server owns the directory (we hold its lock): open the log and rewrite the group's offsets.</summary>
    private static async Task<ReplayResult> ReplayOfflineAsync(string dataDirectory, ReplayRequest request, CancellationToken ct)
    {
        var options = new YingyunOptionsPaths(dataDirectory);
        if (!Directory.Exists(options.EventLog))
            throw new ReplayException($"no event log in {dataDirectory} (expected {options.EventLog}); has `yingyun serve` run on this data directory?");
        // Retention is the server's business: replay only reads and commits.
        var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = options.EventLog, RetentionCheckInterval = null });
        await using (log.ConfigureAwait(false))
            return await ConsumerGroupReplay.RewriteAsync(log, request, ct).ConfigureAwait(false);
    }

    /// <summary>A server owns the directory: ask it, on the HTTP address it published in server.json.</summary>
    private static async Task<(ReplayResult, string)> ReplayThroughServerAsync(string dataDirectory, ReplayRequest request, CancellationToken ct)
    {
        var server = DataDirectoryLock.ReadServerInfo(dataDirectory) ?? throw new ReplayException(
            $"{dataDirectory} is locked by a running Yingyun process that has not published its HTTP address " +
            $"({DataDirectoryLock.ServerFileName}); it may still be starting: try again once it is serving");
        using var http = new HttpClient { BaseAddress = new Uri(server.HttpAddress), Timeout = TimeSpan.FromMinutes(5) };
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsJsonAsync("/api/admin/replay", request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new ReplayException($"`yingyun serve` (pid {server.ProcessId}) owns {dataDirectory} but did not answer at {server.HttpAddress}: {ex.Message}");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                string detail = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                try
                {
                    using var problem = JsonDocument.Parse(detail);
                    if (problem.RootElement.TryGetProperty("detail", out var d)) detail = d.GetString() ?? detail;
                }
                catch (JsonException)
                {
                    // Not a problem+json body: show it as it came.
                }
                throw new ReplayException($"the server (pid {server.ProcessId}, {server.HttpAddress}) refused: {(int)response.StatusCode} {detail}");
            }
            var result = await response.Content.ReadFromJsonAsync<ReplayResult>(ct).ConfigureAwait(false)
                ?? throw new ReplayException($"the server at {server.HttpAddress} answered an empty body");
            return (result, $"done by the running server (pid {server.ProcessId}, {server.HttpAddress}); the group is re-consuming now");
        }
    }

    private static void Print(ReplayResult result, string how)
    {
        Console.WriteLine($"replay: group {result.Group}, topic {result.Topic}: {result.Redelivered} record(s) to re-deliver; {how}");
        foreach (var p in result.Partitions)
            Console.WriteLine($"  {result.Topic}-{p.Partition}: committed {p.PreviousOffset?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none)"} → {p.Offset} (end {p.EndOffset})");
    }

    private readonly record struct YingyunOptionsPaths(string DataDirectory)
    {
        public string EventLog => Path.Combine(DataDirectory, "eventlog");
    }
}
