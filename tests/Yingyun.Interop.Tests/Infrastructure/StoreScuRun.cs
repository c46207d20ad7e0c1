using System.Collections.Concurrent;
using System.Diagnostics;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Interop.Tests.Infrastructure;

/// <summary>One DCMTK <c>storescu -v</c> association sending a list of files, watched line by line: a file counts
/// as acknowledged when storescu logs "Received Store Response (Success)" right after sending it — exactly what a
/// modality would treat as "the archive has it".</summary>
internal sealed class StoreScuRun
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _acknowledged = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _sending;
    private int _count;

    private StoreScuRun(Process process, Action onAcknowledged)
    {
        _process = process;
        process.EnableRaisingEvents = true;
        void OnLine(string? line)
        {
            if (line is null) return;
            if (line.StartsWith("I: Sending file: ", StringComparison.Ordinal)) _sending = line["I: Sending file: ".Length..].Trim();
            else if (line.StartsWith("I: Received Store Response (Success", StringComparison.Ordinal) && _sending is { } file)
            {
                _acknowledged.Enqueue(file);
                _sending = null;
                Interlocked.Increment(ref _count);
                onAcknowledged();
            }
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => _exited.TrySetResult();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (process.HasExited) _exited.TrySetResult();
    }

    public IReadOnlyCollection<string> Acknowledged => _acknowledged;

    public int Count => Volatile.Read(ref _count);

    public Task Exited => _exited.Task;

    public static StoreScuRun Start(int port, string calledAe, string callingAe, IReadOnlyList<string> files, Action? onAcknowledged = null, params string[] options)
    {
        // -nh: no halt on an unsuccessful store, so a refusal cannot hide the rest; the association ends when the
        // server goes away.
        var arguments = new List<string> { "-v", "-nh", "-aet", callingAe, "-aec", calledAe };
        arguments.AddRange(options);
        arguments.AddRange(["127.0.0.1", port.ToString()]);
        arguments.AddRange(files);
        var process = Dcmtk.Start("storescu", [.. arguments]);
        return new StoreScuRun(process, onAcknowledged ?? (() => { }));
    }

    public async Task WaitForExitAsync()
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await _process.WaitForExitAsync(guard.Token);
        await _exited.Task;
        // Drain the asynchronous line readers: WaitForExitAsync returns after them on .NET.
    }
}
