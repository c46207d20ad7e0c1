using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Yingyun.Server.Hosting;

namespace Yingyun.Server.Cli;

/// <summary>`yingyun serve`: the archive in one process on embedded defaults (ARCHITECTURE.md §2, §8).</summary>
internal static class ServeCommand
{
    public const string Name = "serve";

    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "data directory: event log, index, warehouse, blobs (Yingyun:DataDirectory; default ./yingyun-data)" };
        var dimsePort = new Option<int?>("--dimse-port") { Description = "DIMSE listener port (Yingyun:Dimse:Port; default 11112; 0 picks a free port)" };
        var httpPort = new Option<int?>("--http-port") { Description = "HTTP port on 127.0.0.1 (Yingyun:Http:Port; default 8080; 0 picks a free port)" };
        var aeTitle = new Option<string?>("--ae-title") { Description = "our AE title; callers must address it (Yingyun:Dimse:AeTitle; default YINGYUN)" };
        var config = new Option<FileInfo?>("--config") { Description = "an extra JSON settings file, over appsettings.json and under environment variables" };
        var cmd = new Command(Name,
            "Run the archive: DIMSE C-STORE/C-FIND/C-MOVE/C-GET, HTTP (/healthz, /metrics, /api/stats, /api/tenants, /api/nodes), " +
            "the event log and its consumers. Settings: appsettings.json (beside the program, then in the working directory), " +
            "--config FILE, Yingyun__… environment variables (e.g. Yingyun__Dimse__AeTitle=ARCHIVE), then these options. " +
            "Stops gracefully on SIGTERM or Ctrl-C: no new associations, those in progress finish, consumers commit.")
        {
            data, dimsePort, httpPort, aeTitle, config,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var overrides = new Dictionary<string, string?>
            {
                ["Yingyun:DataDirectory"] = parse.GetValue(data),
                ["Yingyun:Dimse:Port"] = parse.GetValue(dimsePort)?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Yingyun:Http:Port"] = parse.GetValue(httpPort)?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Yingyun:Dimse:AeTitle"] = parse.GetValue(aeTitle),
            };
            return await RunAsync(parse.GetValue(config)?.FullName, overrides, ct).ConfigureAwait(false);
        });
        return cmd;
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled or the process is asked to stop
    /// (SIGTERM, Ctrl-C); 0 after a graceful stop, 1 when it could not start, 2 for a wrong setting.</summary>
    public static async Task<int> RunAsync(string? configFile, IReadOnlyDictionary<string, string?> overrides, CancellationToken cancellationToken)
    {
        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            app = YingyunHost.Build(YingyunHost.CreateBuilder(configFile, overrides));
        }
        catch (YingyunConfigurationException ex)
        {
            await Console.Error.WriteLineAsync($"yingyun serve: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
            catch (Exception ex)
            {
                // A wrong setting or a port in use needs its message only; anything else its stack as well.
                bool expected = ex is YingyunConfigurationException or IOException or System.Net.Sockets.SocketException;
                await Console.Error.WriteLineAsync($"yingyun serve: could not start: {(expected ? ex.Message : ex.ToString())}").ConfigureAwait(false);
                return ex is YingyunConfigurationException ? 2 : 1;
            }
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
        return 0;
    }
}
