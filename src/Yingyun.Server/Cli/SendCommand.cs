using System.CommandLine;
using System.Diagnostics;
using Yingyun.Dicom;
using Yingyun.Dimse;

namespace Yingyun.Server.Cli;

/// <summary>`yingyun send`: C-STORE files and folders to a peer over one or more associations, with progress and
/// a summary; exits 1 if any instance was not stored (PS3.7 §9.1.1).</summary>
internal static class SendCommand
{
    public static Command Create()
    {
        var peer = new PeerOptions();
        var paths = new Argument<string[]>("PATH") { Description = "DICOM files, or folders searched recursively", Arity = ArgumentArity.OneOrMore };
        var associations = new Option<int>("--associations") { Description = "associations in parallel", DefaultValueFactory = _ => 1 };
        var cmd = new Command("send", "Send DICOM files to a peer with C-STORE (like storescu), with progress") { paths, associations };
        peer.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            int parallel = Math.Clamp(parse.GetValue(associations), 1, 64);
            var files = Expand(parse.GetValue(paths)!, out var missing);
            foreach (var m in missing) Console.Error.WriteLine($"yingyun send: {m}: no such file or folder");
            if (files.Count == 0)
            {
                Console.Error.WriteLine("yingyun send: nothing to send");
                return 1;
            }

            // Read each file's header once: its SOP class and syntax decide the presentation contexts.
            var headers = new List<(string Path, Part10Header Header, long Size)>(files.Count);
            var progress = new Progress(files.Count);
            foreach (var f in files)
            {
                try
                {
                    headers.Add((f, await Part10Header.ReadAsync(f, ct).ConfigureAwait(false), new FileInfo(f).Length));
                }
                catch (Exception ex) when (ex is DicomReadException or IOException)
                {
                    progress.Fail(f, $"not sent: {ex.Message}");
                }
            }
            progress.TotalBytes = headers.Sum(h => h.Size);
            var groups = Enumerable.Range(0, parallel).Select(i => headers.Where((_, n) => n % parallel == i).ToList()).Where(g => g.Count > 0).ToList();
            var clientOptions = peer.ToClientOptions(parse);
            using var ticker = new Timer(_ => progress.Report(final: false), null, 500, 500);
            await Task.WhenAll(groups.Select(g => SendGroupAsync(clientOptions, g, progress, ct))).ConfigureAwait(false);
            progress.Report(final: true);
            return progress.Failed == 0 ? 0 : 1;
        });
        return cmd;
    }

    /// <summary>Sends one group over an association; if the peer aborts (DCMTK's storescp does on a data set it cannot
    /// parse), that instance counts as failed and the rest go over a new association, up to a few times in a row.</summary>
    private static async Task SendGroupAsync(DicomClientOptions options, List<(string Path, Part10Header Header, long Size)> files, Progress progress, CancellationToken ct)
    {
        const int MaxConsecutiveAssociationFailures = 3;
        int next = 0, failuresInARow = 0;
        while (next < files.Count)
        {
            var rest = files.Skip(next).ToList();
            var builder = new AssociationRequestBuilder(options.CallingAeTitle, options.CalledAeTitle).AddStorageContexts(rest.Select(f => f.Header));
            DicomAssociation association;
            try
            {
                association = await DicomClient.ConnectAsync(options, builder.Build(), ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                foreach (var f in rest) progress.Fail(f.Path, $"not sent: association to {options.CalledAeTitle}@{options.Host}:{options.Port} failed: {ex.Message}");
                return;
            }
            await using (association.ConfigureAwait(false))
            {
                bool aborted = false;
                for (; next < files.Count; next++)
                {
                    var (path, _, size) = files[next];
                    try
                    {
                        var result = await association.StoreFileAsync(path, cancellationToken: ct).ConfigureAwait(false);
                        if (result.IsSuccess) progress.Done(size);
                        else progress.Fail(path, result.ToString());
                        failuresInARow = 0;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        progress.Fail(path, $"association ended: {ex.Message}");
                        next++;
                        aborted = true;
                        break;
                    }
                }
                if (!aborted)
                {
                    await association.ReleaseAsync(ct).ConfigureAwait(false);
                    return;
                }
            }
            if (++failuresInARow >= MaxConsecutiveAssociationFailures)
            {
                foreach (var f in files.Skip(next)) progress.Fail(f.Path, $"not sent: {failuresInARow} associations in a row ended early");
                return;
            }
        }
    }

    private static List<string> Expand(string[] paths, out List<string> missing)
    {
        missing = [];
        var files = new List<string>();
        foreach (var p in paths)
        {
            if (File.Exists(p)) files.Add(p);
            else if (Directory.Exists(p)) files.AddRange(Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
            else missing.Add(p);
        }
        return files;
    }

    /// <summary>Counts and prints progress: a redrawn line on a terminal, a log line every 500 ms otherwise.</summary>
    private sealed class Progress(int total)
    {
        public long TotalBytes { get; set; }

        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Lock _gate = new();
        private int _done;
        private long _bytes;
        private int _failed;

        public int Failed => _failed;

        public void Done(long size)
        {
            Interlocked.Increment(ref _done);
            Interlocked.Add(ref _bytes, size);
        }

        public void Fail(string path, string reason)
        {
            Interlocked.Increment(ref _failed);
            lock (_gate) Console.Error.WriteLine($"{(Console.IsErrorRedirected ? "" : "\r")}yingyun send: {path}: {reason}");
        }

        public void Report(bool final)
        {
            double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
            double mb = Interlocked.Read(ref _bytes) / 1e6;
            int done = Volatile.Read(ref _done), failed = Volatile.Read(ref _failed);
            string line = $"{done + failed}/{total} instances, {mb:F1}/{TotalBytes / 1e6:F1} MB, {mb / seconds:F1} MB/s, {done / seconds:F0} instances/s, {failed} failed";
            lock (_gate)
            {
                if (final)
                {
                    if (!Console.IsErrorRedirected) Console.Error.WriteLine();
                    Console.WriteLine($"sent {done} of {total} instances ({mb:F1} MB) in {seconds:F1} s: {mb / seconds:F1} MB/s, {done / seconds:F0} instances/s; {failed} failed");
                }
                else if (Console.IsErrorRedirected) Console.Error.WriteLine(line);
                else Console.Error.Write($"\r{line}   ");
            }
        }
    }
}
