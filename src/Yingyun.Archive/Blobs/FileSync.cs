using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Yingyun.Archive;

/// <summary>Durability primitives the runtime does not offer.</summary>
internal static partial class FileSync
{
    private const int O_RDONLY = 0;
    private const int O_DIRECTORY_LINUX = 0x10000;
    private const int O_CLOEXEC_LINUX = 0x80000;

    /// <summary>
    /// fsyncs a directory. A file's data being on disk does not make the file findable: its name
    /// lives in the directory, and after a creation, rename or unlink that entry is only durable
    /// once the directory itself is synced (POSIX fsync(2); ext4 and XFS lose it otherwise on
    /// power loss). .NET cannot open a directory as a file, so this goes to libc: open(O_RDONLY)
    /// then fsync. Windows has no such step (NTFS journals names with the file), so it is a no-op there.
    /// </summary>
    public static void FlushDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var flags = O_RDONLY | (OperatingSystem.IsLinux() ? O_DIRECTORY_LINUX | O_CLOEXEC_LINUX : 0);
        using var handle = Open(path, flags, 0);
        if (handle.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"open({path}) for fsync failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }

        if (Fsync(handle) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"fsync({path}) failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }

    /// <summary>Writes a small file so that readers see the old or the new content, never a mix or nothing.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        // temp + fsync + rename + directory fsync: the rename is atomic, the fsync before it keeps
        // a crash from exposing an empty new file under the old name, the one after it makes the
        // rename itself survive a power loss.
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = path + ".tmp";
        using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            RandomAccess.Write(handle, content, 0);
            RandomAccess.FlushToDisk(handle);
        }

        File.Move(temp, path, overwrite: true);
        FlushDirectory(directory);
    }

    /// <summary>A second name for an existing file (POSIX link(2)): keeps a prior version reachable while the new
    /// one replaces it by an atomic rename, so the instance is never without a file. False when
    /// <paramref name="newPath"/> exists already (a finished earlier attempt).</summary>
    public static bool HardLink(string existingPath, string newPath)
    {
        if (OperatingSystem.IsWindows())
        {
            if (File.Exists(newPath)) return false;
            File.Copy(existingPath, newPath);
            return true;
        }
        if (Link(existingPath, newPath) == 0) return true;
        var errno = Marshal.GetLastPInvokeError();
        const int EEXIST = 17;
        if (errno == EEXIST) return false;
        throw new IOException($"link({existingPath}, {newPath}) failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existingPath, string newPath);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial SafeFileHandle Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(SafeFileHandle handle);
}
