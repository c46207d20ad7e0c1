using Microsoft.Win32.SafeHandles;

namespace Yingyun.Dicom;

/// <summary>Where the bytes of a large value live when they were not loaded into memory.</summary>
public interface IBulkDataSource
{
    /// <summary>For error messages: a file path or a stream's name.</summary>
    string Description { get; }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>; returns 0 at the end.</summary>
    ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default);
}

/// <summary>A value kept on disk: <paramref name="Length"/> bytes at <paramref name="Offset"/> of
/// <paramref name="Source"/>. <paramref name="SwapUnit"/> is the unit size (2, 4, 8) when the bytes on disk are
/// big endian and must be swapped to little endian on load; 1 otherwise.</summary>
public sealed record BulkDataReference(IBulkDataSource Source, long Offset, long Length, int SwapUnit = 1)
{
    /// <summary>Loads the value into a new array, swapping to little endian where needed.</summary>
    public async ValueTask<byte[]> LoadAsync(CancellationToken cancellationToken = default)
    {
        if (Length > Array.MaxLength)
            throw new InvalidOperationException($"value at offset {Offset} of {Source.Description} is {Length} bytes: stream it with CopyToAsync instead");
        var bytes = GC.AllocateUninitializedArray<byte>((int)Length);
        int done = 0;
        while (done < bytes.Length)
        {
            int n = await Source.ReadAtAsync(Offset + done, bytes.AsMemory(done), cancellationToken).ConfigureAwait(false);
            if (n == 0) throw new EndOfStreamException($"{Source.Description} ends at {Offset + done}, inside a value of {Length} bytes at offset {Offset}");
            done += n;
        }
        ByteSwap.ToLittleEndian(bytes, SwapUnit);
        return bytes;
    }

    /// <summary>Copies the value to <paramref name="destination"/> through a pooled buffer, swapping as needed:
    /// a 2 GB value never sits in memory.</summary>
    public async ValueTask CopyToAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long done = 0;
            while (done < Length)
            {
                int want = (int)Math.Min(buffer.Length, Length - done);
                int n = await Source.ReadAtAsync(Offset + done, buffer.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
                if (n == 0) throw new EndOfStreamException($"{Source.Description} ends at {Offset + done}, inside a value of {Length} bytes at offset {Offset}");
                if (SwapUnit > 1 && n % SwapUnit != 0 && done + n < Length)
                {
                    // Keep swap units whole across reads.
                    int whole = n - n % SwapUnit;
                    if (whole == 0) continue;
                    n = whole;
                }
                ByteSwap.ToLittleEndian(buffer.AsSpan(0, n), SwapUnit);
                await destination.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                done += n;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>A file read by offset with <see cref="RandomAccess"/>; the handle is opened per read so that a
/// data set holding references keeps no file open.</summary>
public sealed class FileBulkDataSource(string path) : IBulkDataSource
{
    public string Path { get; } = path;
    public string Description => Path;

    public async ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using SafeFileHandle handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        return await RandomAccess.ReadAsync(handle, buffer, offset, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Bytes already in memory (a test, or a value sliced out of a received buffer).</summary>
public sealed class MemoryBulkDataSource(ReadOnlyMemory<byte> bytes, string description = "memory") : IBulkDataSource
{
    public string Description { get; } = description;

    public ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (offset >= bytes.Length) return ValueTask.FromResult(0);
        var src = bytes.Span[(int)offset..];
        int n = Math.Min(src.Length, buffer.Length);
        src[..n].CopyTo(buffer.Span);
        return ValueTask.FromResult(n);
    }
}
