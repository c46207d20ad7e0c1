using System.Text.Json;
using System.Text.Json.Serialization;

namespace Yingyun.Server.Hosting;

/// <summary>One process at a time owns a data directory: the embedded event log and the SQLite/DuckDB files are
/// single-process. <c>serve</c> holds an exclusive lock on <c>&lt;data&gt;/yingyun.lock</c> for its whole life (the OS
/// drops it if the process dies, even by kill -9) and publishes how to reach it in <c>&lt;data&gt;/server.json</c>, so
/// that <c>yingyun replay</c> knows whether to open the log itself or ask the running server.</summary>
public sealed class DataDirectoryLock : IDisposable
{
    public const string LockFileName = "yingyun.lock";
    public const string ServerFileName = "server.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly FileStream _lock;

    private DataDirectoryLock(string directory, FileStream lockFile)
    {
        Directory = directory;
        _lock = lockFile;
    }

    public string Directory { get; }

    private string ServerFile => Path.Combine(Directory, ServerFileName);

    /// <summary>Takes the lock, creating the directory if needed; null when another process holds it.</summary>
    public static DataDirectoryLock? TryAcquire(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, LockFileName);
        try
        {
            // FileShare.None is an exclusive flock(2) on Linux: advisory, released by the kernel when the process ends.
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return new DataDirectoryLock(directory, stream);
        }
        catch (IOException ex) when (ex is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
        {
            return null;
        }
    }

    /// <summary>Takes the lock or explains who has it.</summary>
    public static DataDirectoryLock Acquire(string directory) =>
        TryAcquire(directory) ?? throw new YingyunConfigurationException(
            $"data directory {directory} is in use by another Yingyun process{Describe(ReadServerInfo(directory))}; " +
            "one process at a time owns a data directory (choose another with --data)");

    /// <summary>Records where this server listens (after its listeners are bound).</summary>
    public void PublishServer(ServerInfo info)
    {
        string temp = ServerFile + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(info, Json));
        File.Move(temp, ServerFile, overwrite: true);
    }

    public void WithdrawServer()
    {
        try
        {
            File.Delete(ServerFile);
        }
        catch (IOException)
        {
            // A stale server.json is harmless: replay trusts it only while the lock is held.
        }
    }

    /// <summary>What the running server published, or null (not started yet, or an unreadable file).</summary>
    public static ServerInfo? ReadServerInfo(string directory)
    {
        try
        {
            return JsonSerializer.Deserialize<ServerInfo>(File.ReadAllBytes(Path.Combine(directory, ServerFileName)), Json);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Describe(ServerInfo? info) =>
        info is null ? "" : $" (yingyun serve, pid {info.ProcessId}, HTTP {info.HttpAddress}, DIMSE port {info.DimsePort})";

    public void Dispose() => _lock.Dispose();
}

/// <summary>The content of <c>&lt;data&gt;/server.json</c>.</summary>
public sealed record ServerInfo(
    [property: JsonPropertyName("pid")] int ProcessId,
    [property: JsonPropertyName("http")] string HttpAddress,
    [property: JsonPropertyName("dimsePort")] int DimsePort,
    [property: JsonPropertyName("aeTitle")] string AeTitle,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt);
