using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Yingyun.Dicom;
using Yingyun.Dimse;

namespace Yingyun.Server.Cli;

/// <summary>`yingyun storescp`: a standalone storage SCP, like DCMTK's storescp: C-ECHO and C-STORE of every storage
/// SOP class, each instance checked as it streams in (<see cref="FolderStoreHandler"/>) and written as a Part 10 file
/// <c>&lt;output&gt;/&lt;SOPInstanceUID&gt;.dcm</c>. Runs until Ctrl+C or SIGTERM, then lets associations in progress
/// finish and prints a summary.</summary>
internal static class StoreScpCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "TCP port to listen on (0: any free port, printed at start)", DefaultValueFactory = _ => 11112 };
        var aet = new Option<string>("--aet") { Description = "our AE title; requestors must call it", DefaultValueFactory = _ => "YINGYUN" };
        var output = new Option<string>("--output") { Description = "folder for the received instances, created if missing", DefaultValueFactory = _ => "." };
        var associations = new Option<int>("--associations") { Description = "associations served at once; more are rejected (local limit exceeded)", DefaultValueFactory = _ => 64 };
        var address = new Option<string>("--address") { Description = "address to listen on", DefaultValueFactory = _ => "0.0.0.0" };
        var fsync = new Option<bool>("--fsync") { Description = "fsync each file before answering, so that success means on disk" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "print a line per instance received" };
        var cmd = new Command("storescp", "Receive instances with C-STORE into a folder (like DCMTK's storescp), checking each as it streams in")
        {
            port, aet, output, associations, address, fsync, verbose,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            if (!IPAddress.TryParse(parse.GetValue(address), out var ip))
            {
                Console.Error.WriteLine($"yingyun storescp: --address {parse.GetValue(address)} is not an IP address");
                return 1;
            }
            string ae = parse.GetValue(aet)!;
            if (!ApplicationEntityTitle.IsValid(ae))
            {
                Console.Error.WriteLine($"yingyun storescp: --aet {ae} is not a valid AE title (1-16 characters, no backslash or control characters, PS3.5 §6.2)");
                return 1;
            }
            int limit = Math.Max(1, parse.GetValue(associations));
            var folder = new FolderStoreHandler(Path.GetFullPath(parse.GetValue(output)!)) { FlushToDisk = parse.GetValue(fsync) };
            var counting = new CountingStoreHandler(folder, parse.GetValue(verbose));
            var policy = new AssociationPolicy();
            // Storage and verification only: nothing here answers queries.
            policy.AbstractSyntaxes.RemoveWhere(uid => uid != DicomUids.Verification && !AssociationPolicy.IsStorage(uid));
            var options = new DicomServerOptions
            {
                Address = ip,
                Port = parse.GetValue(port),
                AeTitle = ae,
                Policy = policy,
                MaximumAssociations = limit,
                MaximumAssociationsPerCallingAe = limit,
                MaximumConnections = Math.Max(limit * 2, 8),
                Services = new DimseServices { StoreHandler = counting },
            };
            var server = new DicomServer(options);
            try
            {
                server.Start();
            }
            catch (SocketException ex)
            {
                Console.Error.WriteLine($"yingyun storescp: cannot listen on {ip}:{options.Port}: {ex.Message}");
                return 1;
            }
            await using (server.ConfigureAwait(false))
            {
                Console.Error.WriteLine($"yingyun storescp: {ae} listening on {server.LocalEndPoint}, storing into {folder.Folder} (Ctrl+C to stop)");
                try
                {
                    await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
                // Associations in progress may finish their current instance; after a few seconds they are aborted.
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await server.StopAsync(grace.Token).ConfigureAwait(false);
            }
            Console.WriteLine(counting.Summary());
            return 0;
        });
        return cmd;
    }

    /// <summary>Counts outcomes for the summary (and prints each when asked).</summary>
    private sealed class CountingStoreHandler(FolderStoreHandler inner, bool verbose) : IStoreHandler
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private int _stored;
        private int _refused;
        private long _bytes;

        public async ValueTask<StoreResult> StoreAsync(StoreRequest request, Stream dataSet, CancellationToken cancellationToken)
        {
            StoreResult result;
            try
            {
                result = await inner.StoreAsync(request, dataSet, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                Interlocked.Increment(ref _refused);
                throw;
            }
            long size = 0;
            if (result.Status.IsSuccessOrWarning)
            {
                Interlocked.Increment(ref _stored);
                size = new FileInfo(inner.PathFor(request.SopInstanceUid)).Length;
                Interlocked.Add(ref _bytes, size);
            }
            else
            {
                Interlocked.Increment(ref _refused);
            }
            if (verbose || !result.Status.IsSuccessOrWarning)
                Console.Error.WriteLine($"{request.CallingAeTitle} {request.SopInstanceUid}: {result.Status}{(result.ErrorComment is { } c ? $" ({c})" : "")}{(size > 0 ? $", {size} bytes" : "")}");
            return result;
        }

        public string Summary()
        {
            double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
            return $"yingyun storescp: {_stored} instances stored ({_bytes / 1e6:F1} MB), {_refused} refused, in {seconds:F0} s";
        }
    }
}
