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
/// <para>A batch is one transaction (<see cref="WriteAsync(IReadOnlyList{ObjectMetaEvent}, IReadOnlyList{SeriesStateEvent}, IReadOnlyList{InstanceEvent}, CancellationToken)"/>
/// puts a consumer batch's three tables in one). The rows are folded to one per key in memory (newest version, the
/// later on a tie), go through DuckDB's appender into per-connection temporary staging tables, and are then written
/// in one of two ways. First receipts, the usual case, take a plain <c>INSERT … SELECT</c>, and their series counts are
/// incremented: the primary key guarantees they were new. If that transaction fails (a key already there: a batch
/// delivered again, a replay, a replaced version), it is rolled back and the batch is merged with
/// <c>INSERT … ON CONFLICT DO UPDATE … WHERE excluded.version &gt;= version</c> (Doris's sequence column, done in SQL)
/// and the counts of the series it touched are recomputed from the image table. The merge alone would be correct;
/// the insert path exists because DuckDB's upsert costs several times a plain insert and grows with the table.</para>
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
    private long _mergedBatches;

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

    /// <summary>Batches written through the merge (upsert) rather than the plain insert: replays, re-deliveries,
    /// replaced versions, and state batches.</summary>
    public long MergedBatches => Interlocked.Read(ref _mergedBatches);

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
        WriteAsync([PlanObjects(batch)], cancellationToken);

    public Task WriteImageMetaAsync(IReadOnlyList<InstanceEvent> batch, CancellationToken cancellationToken = default) =>
        WriteAsync([PlanInstancesAndSeries(batch, [])], cancellationToken);

    public Task WriteStateMetaAsync(IReadOnlyList<SeriesStateEvent> batch, CancellationToken cancellationToken = default) =>
        WriteAsync([PlanInstancesAndSeries([], batch)], cancellationToken);

    /// <summary>The three tables in one transaction: images, then series states, then receipts. The series receipts of
    /// both topics are folded together and merged once.</summary>
    public Task WriteAsync(IReadOnlyList<ObjectMetaEvent> objects, IReadOnlyList<SeriesStateEvent> states, IReadOnlyList<InstanceEvent> images,
        CancellationToken cancellationToken = default) =>
        WriteAsync([PlanInstancesAndSeries(images, states), PlanObjects(objects)], cancellationToken);

    /// <summary>How one share of a batch is written: <see cref="Fast"/>, when there is one, is tried first; if the
    /// transaction fails, it is rolled back and every share is written with <see cref="Merge"/>, which is always correct.
    /// The merge is told whether the rows' values were already reported (so a bad value is logged once).</summary>
    private sealed class Plan(int rows, Action<DuckDBConnection>? fast, Action<DuckDBConnection, bool> merge)
    {
        public int Rows { get; } = rows;

        public Action<DuckDBConnection>? Fast { get; } = fast;

        public Action<DuckDBConnection, bool> Merge { get; } = merge;

        public bool Reported { get; set; }
    }

    /// <summary>Receipts are written with a plain insert first: a receipt arrives once, so the insert nearly always
    /// succeeds and costs a fraction of an upsert (measured: DuckDB's ON CONFLICT path is several times slower and
    /// grows with the table). A trace id already there (a batch delivered again) fails the insert on the primary key;
    /// the batch is then merged with the upsert.</summary>
    private Plan PlanObjects(IReadOnlyList<ObjectMetaEvent> batch)
    {
        var rows = Newest(WithKeys(batch, WarehouseTables.DicomObjectMeta, static e => e.TraceId,
            static e => string.IsNullOrEmpty(e.TraceId) ? "trace_id" : null), static e => e.TraceId, static _ => 0);
        return new Plan(rows.Count,
            fast: connection =>
            {
                Stage(connection, DuckDbRows.ObjectMeta, rows, static e => e.TraceId, quiet: false);
                Execute(connection, DuckDbSql.InsertObjectMeta);
            },
            merge: (connection, quiet) =>
            {
                Stage(connection, DuckDbRows.ObjectMeta, rows, static e => e.TraceId, quiet);
                Execute(connection, DuckDbSql.UpsertObjectMeta);
            });
    }

    /// <summary>Images and series. First receipts of instances (the usual batch) are inserted and their series counts
    /// incremented, which touches only the batch's rows. A batch with a replaced version, or one that meets rows already
    /// there (a replay), is merged: newest version wins, and the counts of every series it touches are recomputed from
    /// the image table. Series rows come from state events and from image events alike (every image receipt is a
    /// receipt of its series), so a series with instances always has its row, whichever topic arrives first; they are
    /// folded to one row per series (attributes of the newest version, arrival times widened) and merged. Conflicting
    /// and rejected receipts are kept aside (ARCHITECTURE.md §5): their state events are not the series' state.</summary>
    private Plan PlanInstancesAndSeries(IReadOnlyList<InstanceEvent> images, IReadOnlyList<SeriesStateEvent> states)
    {
        var instances = Newest(WithKeys(images, WarehouseTables.DicomImageMeta, static e => e.TraceId, static e =>
            string.IsNullOrEmpty(e.TenantId) ? "tenant_id" :
            string.IsNullOrEmpty(e.SopUid) ? "sop_uid" :
            string.IsNullOrEmpty(e.SeriesUid) ? "series_uid" : null), static e => (e.TenantId, e.SopUid), static e => e.Version);
        var stateRows = WithKeys(states.Where(static e => e.Outcome is not (ReceiptOutcome.Conflict or ReceiptOutcome.Rejected)).ToList(),
            WarehouseTables.DicomStateMeta, static e => e.TraceId, static e =>
                string.IsNullOrEmpty(e.TenantId) ? "tenant_id" :
                string.IsNullOrEmpty(e.SeriesUid) ? "series_uid" :
                string.IsNullOrEmpty(e.StudyUid) ? "study_uid" : null);
        var series = instances.Select(DuckDbRows.SeriesState.Of).Concat(stateRows.Select(DuckDbRows.SeriesState.Of)).ToList();
        var rows = instances.Count + stateRows.Count;
        if (instances.Count == 0)
        {
            // Counts need no refresh: a series with instances already has its row, and the image writes keep its counts.
            return new Plan(rows, fast: null, merge: (connection, quiet) =>
            {
                StageSeries(connection, series, quiet);
                Execute(connection, DuckDbSql.UpsertState);
            });
        }

        var firstReceipts = instances.TrueForAll(static e => e.Outcome == ReceiptOutcome.Stored);
        return new Plan(rows,
            fast: firstReceipts ? connection =>
            {
                Stage(connection, DuckDbRows.ImageMeta, instances, static e => e.TraceId, quiet: false);
                StageSeries(connection, series, quiet: false);
                Execute(connection, DuckDbSql.InsertImageMeta);
                Execute(connection, DuckDbSql.UpsertState);
                Execute(connection, DuckDbSql.CountInsertedImages);
            } : null,
            merge: (connection, quiet) =>
            {
                Stage(connection, DuckDbRows.ImageMeta, instances, static e => e.TraceId, quiet);
                StageSeries(connection, series, quiet);
                Execute(connection, $"DELETE FROM {TouchedSeries}");
                // The series the batch touches, before the merge: the incoming ones and, for an instance that moves to
                // another series, the one it leaves.
                Execute(connection, DuckDbSql.TouchedByImages);
                Execute(connection, DuckDbSql.UpsertImageMeta);
                Execute(connection, DuckDbSql.UpsertState);
                Execute(connection, DuckDbSql.RecountTouchedSeries);
            });
    }

    /// <summary>One batch, one transaction (one commit for all its tables).</summary>
    private async Task WriteAsync(Plan[] plans, CancellationToken cancellationToken)
    {
        plans = Array.FindAll(plans, static p => p.Rows > 0);
        if (plans.Length == 0)
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
            var merged = Array.TrueForAll(plans, static p => p.Fast is null) || !TryFast(connection, plans);
            if (merged)
            {
                using var transaction = connection.BeginTransaction();
                foreach (var plan in plans)
                {
                    plan.Merge(connection, plan.Reported);
                }

                transaction.Commit();
                Interlocked.Increment(ref _mergedBatches);
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.BatchWritten(plans.Sum(p => p.Rows), merged ? "merged" : "inserted", Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static bool TryFast(DuckDBConnection connection, Plan[] plans)
    {
        try
        {
            using var transaction = connection.BeginTransaction();
            foreach (var plan in plans)
            {
                plan.Reported = true;
                if (plan.Fast is { } fast)
                {
                    fast(connection);
                }
                else
                {
                    plan.Merge(connection, false);
                }
            }

            transaction.Commit();
            return true;
        }
        catch (DuckDBException)
        {
            // Usually a key that is already there. Anything else fails the merge too, and that error is the one raised.
            return false;
        }
    }

    /// <summary>The records whose key fields are present; the others are logged and counted.</summary>
    private List<T> WithKeys<T>(IReadOnlyList<T> batch, string table, Func<T, string?> traceId, Func<T, string?> missingKey)
    {
        var kept = new List<T>(batch.Count);
        foreach (var item in batch)
        {
            if (missingKey(item) is { } field)
            {
                Interlocked.Increment(ref _skippedRecords);
                _logger.RecordWithoutKey(table, traceId(item) ?? "", field);
                continue;
            }

            kept.Add(item);
        }

        return kept;
    }

    /// <summary>One record per key: the largest version, the later one in the batch on a tie (as an equal version
    /// replaces a stored row). Done here rather than with a window in SQL: cheaper, and the merge then never sees one
    /// key twice.</summary>
    private static List<T> Newest<T, TKey>(List<T> batch, Func<T, TKey> key, Func<T, long> version) where TKey : notnull
    {
        var winner = new Dictionary<TKey, int>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var k = key(batch[i]);
            if (!winner.TryGetValue(k, out var j) || version(batch[i]) >= version(batch[j]))
            {
                winner[k] = i;
            }
        }

        if (winner.Count == batch.Count)
        {
            return batch;
        }

        var kept = winner.Values.ToArray();
        Array.Sort(kept);
        return kept.Select(i => batch[i]).ToList();
    }

    /// <summary>Folds the series receipts into one row per series (on copies: a retried transaction folds again) and
    /// stages them. Values that came from an image event were reported by the image table.</summary>
    private void StageSeries(DuckDBConnection connection, List<DuckDbRows.SeriesState> receipts, bool quiet)
    {
        var series = new Dictionary<(string Tenant, string Series), DuckDbRows.SeriesState>();
        var order = new List<DuckDbRows.SeriesState>();
        foreach (var receipt in receipts)
        {
            var key = (receipt.Newest.TenantId, receipt.Newest.SeriesUid);
            if (series.TryGetValue(key, out var row))
            {
                row.Add(receipt);
            }
            else
            {
                var copy = receipt.Copy();
                series[key] = copy;
                order.Add(copy);
            }
        }

        Stage(connection, DuckDbRows.StateMeta, order, static s => s.Newest.TraceId, quiet, static s => s.FromImage);
    }

    /// <summary>Empties the table's staging table and appends the rows to it.</summary>
    private void Stage<T>(DuckDBConnection connection, DuckDbRows.Writer<T> writer, List<T> rows, Func<T, string?> traceId, bool quiet,
        Func<T, bool>? quietRow = null)
    {
        Execute(connection, $"DELETE FROM {writer.StageTable}");
        var fields = new DuckDbRows.FieldReader(this, writer.Table.Name);
        using var appender = connection.CreateAppender(writer.StageTable);
        foreach (var row in rows)
        {
            fields.TraceId = traceId(row) ?? "";
            fields.Quiet = quiet || (quietRow?.Invoke(row) ?? false);
            writer.Append(appender, row, fields);
        }
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

                using var interrupter = new Interrupter(command, cancellationToken);
                cancellationToken.ThrowIfCancellationRequested();
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

    /// <summary>Interrupts a running query once its token is cancelled. DuckDB forgets an interrupt that arrives before
    /// the query has started (a new query clears the flag), so the interrupt is repeated until the query is over.</summary>
    private sealed class Interrupter : IDisposable
    {
        private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(50);
        private readonly DuckDBCommand _command;
        private readonly Lock _gate = new();
        private readonly CancellationTokenRegistration _registration;
        private Timer? _timer;
        private bool _done;

        public Interrupter(DuckDBCommand command, CancellationToken cancellationToken)
        {
            _command = command;
            _registration = cancellationToken.Register(static s => ((Interrupter)s!).Start(), this);
        }

        private void Start()
        {
            lock (_gate)
            {
                if (!_done)
                {
                    _timer = new Timer(static s => ((Interrupter)s!).Interrupt(), this, TimeSpan.Zero, Every);
                }
            }
        }

        private void Interrupt()
        {
            lock (_gate)
            {
                if (!_done)
                {
                    _command.Cancel();
                }
            }
        }

        public void Dispose()
        {
            _registration.Dispose();
            lock (_gate)
            {
                _done = true;
                _timer?.Dispose();
            }
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
