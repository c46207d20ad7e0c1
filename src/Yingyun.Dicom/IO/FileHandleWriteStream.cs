using Microsoft.Win32.SafeHandles;

namespace Yingyun.Dicom;

/// <summary>A write-only stream that creates a new file and appends to it through <see cref="RandomAccess"/> on its
/// handle: no internal buffer (the receive path hands over its own buffers, which are large enough), no position
/// syscalls. On Unix "asynchronous" writes are done inline: .NET would run the same blocking pwrite on a thread-pool
/// thread, and a write to the page cache is quicker than the hop (the reasoning of <see cref="FileHandleStream"/>,
/// measured in bench/RESULTS.md).</summary>
public sealed class FileHandleWriteStream : ForwardOnlyWriteStream
{
    private readonly SafeFileHandle _handle;
    private long _position;

    private FileHandleWriteStream(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
    }

    /// <summary>Creates <paramref name="path"/>, which must not exist (<see cref="FileMode.CreateNew"/>).</summary>
    public static FileHandleWriteStream CreateNew(string path) =>
        new(path, File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read));

    public string Path { get; }

    /// <summary>Bytes written so far.</summary>
    public long BytesWritten => _position;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        RandomAccess.Write(_handle, buffer, _position);
        _position += buffer.Length;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!OperatingSystem.IsWindows())
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        return WriteOverlappedAsync(buffer, cancellationToken);
    }

    private async ValueTask WriteOverlappedAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await RandomAccess.WriteAsync(_handle, buffer, _position, cancellationToken).ConfigureAwait(false);
        _position += buffer.Length;
    }

    /// <summary>fsync: the bytes written are on the device when this returns (what "durable" means before an
    /// acknowledgement, ARCHITECTURE.md §5).</summary>
    public void FlushToDisk() => RandomAccess.FlushToDisk(_handle);

    protected override void Dispose(bool disposing)
    {
        if (disposing) _handle.Dispose();
        base.Dispose(disposing);
    }
}
