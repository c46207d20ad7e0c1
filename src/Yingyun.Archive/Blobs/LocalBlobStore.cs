using System.Collections.Concurrent;

namespace Yingyun.Archive.Blobs;

/// <summary>The blob store on a local (or mounted shared) file system, in the seed's layout (ARCHITECTURE.md §5):
/// <c>&lt;root&gt;/&lt;tenant&gt;/&lt;StudyInstanceUID&gt;/&lt;SeriesInstanceUID&gt;/&lt;SOPInstanceUID&gt;.dcm</c>. Prior versions live in
/// <c>&lt;root&gt;/&lt;tenant&gt;/.versions/&lt;SOPInstanceUID&gt;/&lt;version&gt;.dcm</c>, receipts kept aside (conflicts, rejected
/// re-sends) in <c>&lt;root&gt;/&lt;tenant&gt;/.aside/&lt;trace&gt;.dcm</c>, and instances being received in
/// <c>&lt;root&gt;/.incoming/</c> (same file system, so putting a file in place is a rename).
/// Paths handed out are relative to the root with '/' separators (what events and tables carry).</summary>
public sealed class LocalBlobStore
{
    private readonly ConcurrentDictionary<string, DirectoryFlush> _flushes = new(StringComparer.Ordinal);

    public LocalBlobStore(string root)
    {
        Root = Path.GetFullPath(root);
        Incoming = Path.Combine(Root, ".incoming");
        bool created = !Directory.Exists(Incoming);
        Directory.CreateDirectory(Incoming);
        if (created)
        {
            FileSync.FlushDirectory(Root);
            FileSync.FlushDirectory(Path.GetDirectoryName(Root)!);
        }
    }

    public string Root { get; }

    /// <summary>Files being received; anything here at start-up is finished or removed by ingest recovery.</summary>
    public string Incoming { get; }

    public static string InstancePath(string tenant, string study, string series, string sop) => $"{tenant}/{study}/{series}/{sop}.dcm";

    public static string VersionPath(string tenant, string sop, long version) => $"{tenant}/.versions/{sop}/{version}.dcm";

    public static string AsidePath(string tenant, string trace) => $"{tenant}/.aside/{trace}.dcm";

    public string FullPath(string relativePath) => Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Creates the folders of <paramref name="relativePath"/> that are missing, each made durable in its
    /// parent (a new directory's name is only durable once the parent is synced).</summary>
    public async Task EnsureDirectoryAsync(string relativePath)
    {
        string directory = Path.GetDirectoryName(FullPath(relativePath))!;
        if (Directory.Exists(directory)) return;
        var missing = new Stack<string>();
        for (string? d = directory; d is not null && d.Length > Root.Length && !Directory.Exists(d); d = Path.GetDirectoryName(d))
            missing.Push(d);
        foreach (var d in missing)
        {
            Directory.CreateDirectory(d);
            await FlushDirectoryAsync(Path.GetDirectoryName(d)!).ConfigureAwait(false);
        }
    }

    /// <summary>fsync of a directory, shared: callers that ask while a flush of the same directory is running wait
    /// for the next one (which starts after their change), and all of them share it — group commit for directory
    /// entries, so N associations filing into one series folder cost far fewer than N directory fsyncs.</summary>
    public Task FlushDirectoryAsync(string fullPath) => _flushes.GetOrAdd(fullPath, static p => new DirectoryFlush(p)).RequestAsync();

    private sealed class DirectoryFlush(string path)
    {
        private readonly Lock _gate = new();
        private TaskCompletionSource? _pending;
        private bool _running;

        public Task RequestAsync()
        {
            lock (_gate)
            {
                // Requests that arrive while a flush runs join the next round, which starts after their change.
                _pending ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var round = _pending.Task;
                if (!_running)
                {
                    _running = true;
                    _ = Task.Run(Loop);
                }
                return round;
            }
        }

        private void Loop()
        {
            while (true)
            {
                TaskCompletionSource? round;
                lock (_gate)
                {
                    round = _pending;
                    _pending = null;
                    if (round is null)
                    {
                        _running = false;
                        return;
                    }
                }
                try
                {
                    FileSync.FlushDirectory(path);
                    round.SetResult();
                }
                catch (Exception ex)
                {
                    round.SetException(ex);
                }
            }
        }
    }
}
