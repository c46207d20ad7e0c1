using System.Collections.Concurrent;
using System.Data;
using System.Diagnostics;
using System.Numerics;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Yingyun.Archive.Ingest;

namespace Yingyun.Archive.Warehouse;

/// <summary>
/// The warehouse on embedded defaults (ARCHITECTURE.md §2, §6): one DuckDB file, <c>&lt;data&gt;/warehouse.duckdb</c>,
/// with the tables of <see cref="WarehouseSchema"/>.
/// </summary>
/// <remarks>
/// <para>DuckDB lets one process write a database file; open one instance per process. Inside the process every
/// connection to the same file shares one database (DuckDB.NET keeps one per path), so writes go through one writer
/// connection, one batch at a time, and <see cref="QueryAsync(string, CancellationToken)"/> runs on pooled reader
/// connections, each query in a read-only transaction: readers see the last committed batch and never block the
/// writer (DuckDB's MVCC).</para>
/// <para>A batch is one transaction: the rows go through DuckDB's appender into a per-connection temporary staging
/// table, then one <c>INSERT … SELECT … ON CONFLICT DO UPDATE</c> merges them, so a replayed batch changes nothing and
/// an older version never overwrites a newer one (Doris's sequence column, done in SQL).</para>
/// <para>A value that cannot be read (a malformed date, say) is stored as NULL and logged with the record's trace id;
/// a record without its key is logged and skipped. Neither fails the batch: a consumer retries failed batches forever,
/// so one bad record must not be able to stop it.</para>
/// </remarks>
public sealed class DuckDbWarehouse : IWarehouse
{
    /// <summary>The file name inside the data directory.</summary>
    public const string DefaultFileName = "warehouse.duckdb";

    private const string TouchedSeries = "stage_touched_series";

    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentBag<DuckDBConnection> _readers = [];
    private DuckDBConnection? _writer;
    private volatile bool _disposed;
    private long _skippedRecords;
    private long _unreadableFields;

    /// <param name="pathOrConnectionString">A file path (<c>&lt;data&gt;/warehouse.duckdb</c>), or a DuckDB.NET connection
    /// string when it contains '=' (<c>Data Source=…;memory_limit=1GB</c>; <c>Data Source=:memory:</c> for a private
    /// in-memory database).</param>
    public DuckDbWarehouse(string pathOrConnectionString, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrConnectionString);
        ConnectionString = pathOrConnectionString.Contains('=', StringComparison.Ordinal)
            ? pathOrConnectionString
            : new DuckDBConnectionStringBuilder { DataSource = pathOrConnectionString }.ConnectionString;
        DataSource = new DuckDBConnectionStringBuilder { ConnectionString = ConnectionString }.DataSource;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The warehouse of a data directory (<c>--data</c>): <c>&lt;data&gt;/warehouse.duckdb</c>.</summary>
    public static DuckDbWarehouse ForDataDirectory(string dataDirectory, ILogger? logger = null) =>
        new(Path.Combine(dataDirectory, DefaultFileName), logger);

    public string ConnectionString { get; }

    /// <summary>The database file (or <c>:memory:</c>).</summary>
    public string DataSource { get; }

    /// <summary>Records left out because a key field was empty (each one logged).</summary>
    public long SkippedRecords => Interlocked.Read(ref _skippedRecords);

    /// <summary>Values stored as NULL (or without NUL characters) because they could not be read (each one logged).</summary>
    public long UnreadableFields => Interlocked.Read(ref _unreadableFields);

    // ---- set-up ----------------------------------------------------------------------------

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is null)
            {
                _writer = Open();
                _logger.Opened(_writer.ServerVersion, DataSource);
            }

            using (var transaction = _writer.BeginTransaction())
            {
                foreach (var table in WarehouseSchema.Tables)
                {
                    Execute(_writer, DuckDbSql.CreateTable(table));
                }

                transaction.Commit();
            }

            VerifyColumns(_writer);

            // Staging tables are TEMP: private to the writer connection, never written to the database file.
            foreach (var table in new[] { WarehouseSchema.DicomObjectMeta, WarehouseSchema.DicomStateMeta, WarehouseSchema.DicomImageMeta })
            {
                Execute(_writer, DuckDbSql.CreateStage(table));
            }

            Execute(_writer, $"CREATE TEMP TABLE IF NOT EXISTS {TouchedSeries} (tenant_id VARCHAR, series_uid VARCHAR)");
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private DuckDBConnection Open()
    {
        if (DataSource is { Length: > 0 } file && !file.StartsWith(':') && Path.GetDirectoryName(Path.GetFullPath(file)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        var connection = new DuckDBConnection(ConnectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch (DuckDBException ex)
        {
            connection.Dispose();
            // The usual cause is another process holding the file: DuckDB allows one writing process.
            throw new InvalidOperationException($"could not open the warehouse {DataSource}: {ex.Message}", ex);
        }
    }

    /// <summary>A file created by another version of the schema must not be written with this one's SQL.</summary>
    private static void VerifyColumns(DuckDBConnection connection)
    {
        var found = new Dictionary<string, List<(string Column, string Type)>>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT table_name, column_name, data_type FROM information_schema.columns " +
                                  "WHERE table_catalog = current_database() AND table_schema = 'main' ORDER BY table_name, ordinal_position";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var table = reader.GetString(0);
                if (!found.TryGetValue(table, out var list))
                {
                    found[table] = list = [];
                }

                list.Add((reader.GetString(1), reader.GetString(2)));
            }
        }

        foreach (var table in WarehouseSchema.Tables)
        {
            var actual = found[table.Name];
            for (var i = 0; i < Math.Max(actual.Count, table.Columns.Count); i++)
            {
                var expected = i < table.Columns.Count ? $"{table.Columns[i].Name} {DuckDbSql.TypeOf(table.Columns[i])}" : "nothing";
                var present = i < actual.Count ? $"{actual[i].Column} {actual[i].Type}" : "nothing";
                if (!string.Equals(expected, present, StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException(
                        $"warehouse table {table.Name}: column {i + 1} is '{present}' where this version expects '{expected}' " +
                        "(the file was created by another version of Yingyun)");
                }
            }
        }
    }

    // ---- writes ----------------------------------------------------------------------------

    public Task WriteObjectMetaAsync(IReadOnlyList<ObjectMetaEvent> batch, CancellationToken cancellationToken = default) =>
        WriteAsync(WarehouseTables.DicomObjectMeta, batch.Count, connection =>
        {
            var staged = Stage(connection, DuckDbRows.ObjectMeta, batch, e => e.TraceId, static e => string.IsNullOrEmpty(e.TraceId) ? "trace_id" : null);
            if (staged > 0)
            {
                Execute(connection, DuckDbSql.UpsertObjectMeta);
            }

            return staged;
        }, cancellationToken);

    public Task WriteImageMetaAsync(IReadOnlyList<InstanceEvent> batch, CancellationToken cancellationToken = default) =>
        WriteAsync(WarehouseTables.DicomImageMeta, batch.Count, connection =>
        {
            var staged = Stage(connection, DuckDbRows.ImageMeta, batch, e => e.TraceId, static e =>
                string.IsNullOrEmpty(e.TenantId) ? "tenant_id" :
                string.IsNullOrEmpty(e.SopUid) ? "sop_uid" :
                string.IsNullOrEmpty(e.SeriesUid) ? "series_uid" : null);
            if (staged > 0)
            {
                Execute(connection, $"DELETE FROM {TouchedSeries}");
                // The series the batch touches, before the merge: the incoming ones and, for an instance that moves
                // to another series, the one it leaves.
                Execute(connection, DuckDbSql.TouchedByImages);
                Execute(connection, DuckDbSql.UpsertImageMeta);
                // Every image receipt is also a receipt of its series: the series row exists as soon as one of its
                // instances does, whichever topic arrives first.
                Execute(connection, DuckDbSql.UpsertStateFromImages);
                Execute(connection, DuckDbSql.RecountTouchedSeries);
            }

            return staged;
        }, cancellationToken);

    public Task WriteStateMetaAsync(IReadOnlyList<SeriesStateEvent> batch, CancellationToken cancellationToken = default) =>
        WriteAsync(WarehouseTables.DicomStateMeta, batch.Count, connection =>
        {
            // Conflicting and rejected receipts are kept aside (ARCHITECTURE.md §5): they are not the series' state.
            var current = batch.Where(static e => e.Outcome is not (ReceiptOutcome.Conflict or ReceiptOutcome.Rejected)).ToList();
            var staged = Stage(connection, DuckDbRows.StateMeta, current, e => e.TraceId, static e =>
                string.IsNullOrEmpty(e.TenantId) ? "tenant_id" :
                string.IsNullOrEmpty(e.SeriesUid) ? "series_uid" :
                string.IsNullOrEmpty(e.StudyUid) ? "study_uid" : null);
            if (staged > 0)
            {
                // Counts need no refresh here: a series with instances already has its row (the image writer makes it).
                Execute(connection, DuckDbSql.UpsertStateFromStates);
            }

            return staged;
        }, cancellationToken);

    private async Task WriteAsync(string table, int count, Func<DuckDBConnection, int> write, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return;
        }

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var connection = _writer ?? throw new InvalidOperationException("the warehouse is not initialized: call InitializeAsync first");
            cancellationToken.ThrowIfCancellationRequested();
            var started = Stopwatch.GetTimestamp();
            int written;
            using (var transaction = connection.BeginTransaction())
            {
                written = write(connection);
                transaction.Commit();
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.BatchWritten(table, written, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Empties the table's staging table and appends the batch to it, in order (batch_seq), leaving out
    /// records whose key is missing. Returns the rows staged.</summary>
    private int Stage<T>(DuckDBConnection connection, DuckDbRows.Writer<T> writer, IReadOnlyList<T> batch,
        Func<T, string?> traceId, Func<T, string?> missingKey)
    {
        Execute(connection, $"DELETE FROM {writer.StageTable}");
        var fields = new DuckDbRows.FieldReader(this, writer.Table.Name);
        var staged = 0;
        using (var appender = connection.CreateAppender(writer.StageTable))
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var item = batch[i];
                fields.TraceId = traceId(item) ?? "";
                if (missingKey(item) is { } field)
                {
                    Interlocked.Increment(ref _skippedRecords);
                    _logger.RecordWithoutKey(writer.Table.Name, fields.TraceId, field);
                    continue;
                }

                writer.Append(appender, item, i, fields);
                staged++;
            }
        }

        return staged;
    }

    internal void ReportUnreadable(string table, string traceId, string field, string? value)
    {
        Interlocked.Increment(ref _unreadableFields);
        _logger.FieldUnreadable(table, traceId, field, value);
    }

    internal void ReportNul(string table, string traceId, string field)
    {
        Interlocked.Increment(ref _unreadableFields);
        _logger.FieldHadNul(table, traceId, field);
    }

    // ---- reads -----------------------------------------------------------------------------

    public Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> QueryAsync(string sql, CancellationToken cancellationToken = default) =>
        QueryAsync(sql, [], cancellationToken);

    /// <summary>Runs one read-only statement in a read-only transaction (a statement that writes fails). Values come
    /// back as .NET types: string, int, long (DuckDB's HUGEINT sums too, when they fit), double, decimal, bool,
    /// DateOnly (DATE), DateTime (TIMESTAMP, Kind Unspecified; UTC unless the column says otherwise); NULL as null.
    /// Column names are matched case-insensitively, as SQL does; two result columns with one name are an error.</summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> QueryAsync(string sql, IReadOnlyList<object?> parameters,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_writer is null)
        {
            throw new InvalidOperationException("the warehouse is not initialized: call InitializeAsync first");
        }

        // DuckDB.NET is synchronous; an analytical query can take a while, so it runs off the caller's thread.
        return await Task.Run(() => Query(sql, parameters, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private List<IReadOnlyDictionary<string, object?>> Query(string sql, IReadOnlyList<object?> parameters, CancellationToken cancellationToken)
    {
        var connection = RentReader();
        var healthy = false;
        try
        {
            Execute(connection, "BEGIN TRANSACTION READ ONLY");
            try
            {
                var rows = new List<IReadOnlyDictionary<string, object?>>();
                using var command = connection.CreateCommand();
                command.CommandText = sql;
                foreach (var value in parameters)
                {
                    command.Parameters.Add(new DuckDBParameter(value ?? DBNull.Value));
                }

                using var cancel = cancellationToken.Register(static c => ((DuckDBCommand)c!).Cancel(), command);
                using var reader = command.ExecuteReader();
                var names = new string[reader.FieldCount];
                var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                for (var i = 0; i < names.Length; i++)
                {
                    names[i] = reader.GetName(i);
                    if (!seen.Add(names[i]))
                    {
                        throw new ArgumentException($"the query returns two columns named '{names[i]}': give one an alias", nameof(sql));
                    }
                }

                while (reader.Read())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var row = new Dictionary<string, object?>(names.Length, StringComparer.OrdinalIgnoreCase);
                    for (var i = 0; i < names.Length; i++)
                    {
                        row[names[i]] = reader.IsDBNull(i) ? null : Normalize(reader.GetValue(i));
                    }

                    rows.Add(row);
                }

                return rows;
            }
            catch (DuckDBException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            finally
            {
                Execute(connection, "ROLLBACK");
                healthy = true;
            }
        }
        finally
        {
            ReturnReader(connection, healthy);
        }
    }

    private static object Normalize(object value) => value switch
    {
        BigInteger big when big >= long.MinValue && big <= long.MaxValue => (long)big,
        Int128 wide when wide >= long.MinValue && wide <= long.MaxValue => (long)wide,
        ulong unsigned when unsigned <= long.MaxValue => (long)unsigned,
        _ => value,
    };

    private DuckDBConnection RentReader()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_readers.TryTake(out var pooled))
        {
            return pooled;
        }

        var connection = new DuckDBConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    private void ReturnReader(DuckDBConnection connection, bool healthy)
    {
        if (healthy && !_disposed)
        {
            _readers.Add(connection);
            // A dispose that ran between the check and the Add would miss it.
            if (!_disposed || !_readers.TryTake(out var late))
            {
                return;
            }

            connection = late;
        }

        connection.Dispose();
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            while (_readers.TryTake(out var reader))
            {
                reader.Dispose();
            }

            // The last connection to close checkpoints the file.
            _writer?.Dispose();
            _writer = null;
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
