using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Yingyun.Archive.Configuration;

namespace Yingyun.Archive.Index;

/// <summary>The index store on embedded defaults (ARCHITECTURE.md §2, §6): one SQLite file, <c>&lt;data&gt;/index.db</c>,
/// in WAL mode.
/// <para>Connections: SQLite has one writer at a time, and a writer that finds the file locked sleeps in its busy
/// handler for milliseconds, so writes never compete in SQLite: they take turns on an in-process lock. Two writer
/// connections share that lock: the <em>fast</em> one (synchronous=NORMAL: a commit is a WAL append without fsync)
/// for the registry rows ingest writes on every C-STORE, which the storage consumer re-writes from storage_queue if a
/// crash loses them; the <em>durable</em> one (synchronous=FULL: a commit fsyncs the WAL, and with it every earlier
/// commit) for consumer batches and configuration, since a consumer commits its event-log offset right after the
/// batch and must never skip a batch a power loss undid. Reads go to a pool of read-only connections, which WAL lets
/// run beside the writer. Each connection keeps its statements prepared.</para></summary>
public sealed partial class SqliteIndexStore : IIndexStore
{
    public const string DefaultFileName = "index.db";

    private static readonly TimeSpan OptimizeInterval = TimeSpan.FromMinutes(10);

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentBag<SqliteSession> _readers = [];
    private readonly int _maxIdleReaders;
    private SqliteSession? _fastWriter;
    private SqliteSession? _durableWriter;
    private volatile bool _hasTombstones;
    private long _lastOptimize;
    private int _disposed;

    /// <param name="databasePathOrConnectionString">A file path (created if missing) or a SQLite connection string
    /// (anything with '=').</param>
    public SqliteIndexStore(string databasePathOrConnectionString, int maxIdleReaders = 16)
    {
        var builder = databasePathOrConnectionString.Contains('=', StringComparison.Ordinal)
            ? new SqliteConnectionStringBuilder(databasePathOrConnectionString)
            : new SqliteConnectionStringBuilder { DataSource = databasePathOrConnectionString };
        builder.Mode = SqliteOpenMode.ReadWriteCreate;
        builder.Cache = SqliteCacheMode.Private;
        // The store keeps its connections open for its lifetime; ADO.NET pooling would only defer closing them.
        builder.Pooling = false;
        _connectionString = builder.ToString();
        DatabasePath = builder.DataSource;
        _maxIdleReaders = maxIdleReaders;
    }

    public string DatabasePath { get; }

    /// <summary>The store <c>Yingyun:Index</c> configures: the connection string if given, else
    /// <c>&lt;data&gt;/index.db</c>.</summary>
    public static SqliteIndexStore FromOptions(YingyunOptions options)
    {
        string target = string.IsNullOrWhiteSpace(options.Index.ConnectionString)
            ? Path.Combine(options.DataDirectory, DefaultFileName)
            : options.Index.ConnectionString!;
        return new SqliteIndexStore(target);
    }

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(DatabasePath)) is { Length: > 0 } folder && DatabasePath != ":memory:")
            Directory.CreateDirectory(folder);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _durableWriter ??= SqliteSession.Open(_connectionString, SqliteSession.Role.DurableWriter);
            var connection = _durableWriter.Connection;
            long version = Scalar<long>(connection, "PRAGMA user_version");
            var migrations = SqliteSchema.Migrations;
            if (version > migrations.Count)
                throw new InvalidOperationException($"{DatabasePath}: schema version {version} is newer than this build knows ({migrations.Count})");
            for (long v = version; v < migrations.Count; v++)
            {
                using var transaction = connection.BeginTransaction(deferred: false);
                using (var command = connection.CreateCommand())
                {
                    command.Transaction = transaction;
                    command.CommandText = migrations[(int)v] + $"\nPRAGMA user_version = {v + 1};";
                    command.ExecuteNonQuery();
                }
                transaction.Commit();
            }
            // Statistics for the planner (a name key is an OR over three indexes, which SQLite only chooses knowing the
            // tables' sizes); 0x10002 also analyses tables that never were (SQLite's advice at open).
            using (var optimize = connection.CreateCommand())
            {
                optimize.CommandText = "PRAGMA optimize = 0x10002";
                optimize.ExecuteNonQuery();
            }
            _lastOptimize = Environment.TickCount64;
            _fastWriter ??= SqliteSession.Open(_connectionString, SqliteSession.Role.FastWriter);
            _hasTombstones = Scalar<long>(connection, "SELECT EXISTS (SELECT 1 FROM tombstone)") != 0;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // ---------------------------------------------------------------- sessions

    private SqliteSession RentReader()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _readers.TryTake(out var session) ? session : SqliteSession.Open(_connectionString, SqliteSession.Role.Reader);
    }

    private void ReturnReader(SqliteSession session)
    {
        if (Volatile.Read(ref _disposed) != 0 || _readers.Count >= _maxIdleReaders) session.Dispose();
        else _readers.Add(session);
    }

    /// <summary>Runs <paramref name="work"/> on the durable writer in one transaction (BEGIN IMMEDIATE … COMMIT,
    /// fsynced), holding the write lock.</summary>
    private async Task<T> WriteDurablyAsync<T>(Func<SqliteSession, SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        var writer = _durableWriter ?? throw NotInitialized();
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            T result;
            using (var transaction = writer.Connection.BeginTransaction(deferred: false))
            {
                result = work(writer, transaction);
                transaction.Commit();
            }
            // SQLite's advice for long-lived connections: PRAGMA optimize now and then (cheap when nothing changed).
            if (Environment.TickCount64 - _lastOptimize > OptimizeInterval.TotalMilliseconds)
            {
                _lastOptimize = Environment.TickCount64;
                using var optimize = writer.Connection.CreateCommand();
                optimize.CommandText = "PRAGMA optimize";
                optimize.ExecuteNonQuery();
            }
            return result;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private InvalidOperationException NotInitialized() => new($"{DatabasePath}: InitializeAsync has not run");

    private static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _fastWriter?.Dispose();
            _durableWriter?.Dispose();
            while (_readers.TryTake(out var reader)) reader.Dispose();
        }
        finally
        {
            _writeLock.Release();
        }
    }
}

/// <summary>One open connection and the statements prepared on it. Not thread-safe: a session is used by one caller
/// at a time (readers are rented from a pool, writers are behind the write lock).</summary>
internal sealed class SqliteSession : IDisposable
{
    public enum Role { Reader, FastWriter, DurableWriter }

    private const int MaxCachedCommands = 256;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    private SqliteSession(SqliteConnection connection) => Connection = connection;

    public SqliteConnection Connection { get; }

    public static SqliteSession Open(string connectionString, Role role)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using (var command = connection.CreateCommand())
        {
            // WAL is a property of the file (set once, kept); synchronous is per connection (see SqliteIndexStore).
            // busy_timeout is only a backstop for another process on the same file (a CLI tool): in this process
            // writers take turns on the write lock and readers never wait in WAL mode.
            command.CommandText = role switch
            {
                Role.Reader => "PRAGMA busy_timeout = 5000; PRAGMA query_only = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16000;",
                Role.FastWriter => "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                _ => "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -32000;",
            };
            command.ExecuteNonQuery();
        }
        return new SqliteSession(connection);
    }

    /// <summary>The prepared command for <paramref name="sql"/>, its parameters named <paramref name="parameterNames"/>
    /// (created on first use; later calls set values by position).</summary>
    public SqliteCommand Command(string sql, params string[] parameterNames)
    {
        if (_commands.TryGetValue(sql, out var command)) return command;
        if (_commands.Count >= MaxCachedCommands)
        {
            foreach (var cached in _commands.Values) cached.Dispose();
            _commands.Clear();
        }
        command = Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameterNames) command.Parameters.Add(new SqliteParameter(name, null));
        command.Prepare();
        _commands[sql] = command;
        return command;
    }

    /// <summary>A prepared command with positional parameters @p0…@pN-1 (the query builder's SQL).</summary>
    public SqliteCommand Command(string sql, int parameterCount)
    {
        if (_commands.TryGetValue(sql, out var command)) return command;
        var names = new string[parameterCount];
        for (int i = 0; i < parameterCount; i++) names[i] = "@p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Command(sql, names);
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values) command.Dispose();
        _commands.Clear();
        Connection.Dispose();
    }
}

internal static class SqliteCommandExtensions
{
    /// <summary>Sets the parameters in order (null → NULL) and the transaction.</summary>
    public static SqliteCommand With(this SqliteCommand command, SqliteTransaction? transaction, params object?[] values)
    {
        command.Transaction = transaction;
        var parameters = command.Parameters;
        for (int i = 0; i < values.Length; i++) parameters[i].Value = values[i] ?? DBNull.Value;
        return command;
    }

    public static string? GetStringOrNull(this SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
