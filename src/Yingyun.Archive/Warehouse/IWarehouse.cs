using Yingyun.Archive.Ingest;

namespace Yingyun.Archive.Warehouse;

/// <summary>The warehouse port (ARCHITECTURE.md §2, §6): DuckDB on embedded defaults, Apache Doris in scale-out, same
/// table names and columns. Writes are batched and idempotent (upsert on each table's key), so a replayed batch
/// changes nothing.</summary>
public interface IWarehouse : IAsyncDisposable
{
    /// <summary>Creates the tables if missing; idempotent.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary><c>dicom_object_meta</c>: one row per receipt, unique on trace_id.</summary>
    Task WriteObjectMetaAsync(IReadOnlyList<ObjectMetaEvent> batch, CancellationToken cancellationToken = default);

    /// <summary><c>dicom_state_meta</c>: one row per (tenant_id, series_uid); newest version wins.</summary>
    Task WriteStateMetaAsync(IReadOnlyList<SeriesStateEvent> batch, CancellationToken cancellationToken = default);

    /// <summary><c>dicom_image_meta</c>: one row per (tenant_id, sop_uid); newest version wins.</summary>
    Task WriteImageMetaAsync(IReadOnlyList<InstanceEvent> batch, CancellationToken cancellationToken = default);

    /// <summary>A consumer batch's share of all three tables in one transaction (one commit, and readers never see one
    /// table ahead of another within it); the same as <see cref="WriteImageMetaAsync"/>,
    /// <see cref="WriteStateMetaAsync"/> and <see cref="WriteObjectMetaAsync"/> in that order.</summary>
    Task WriteAsync(IReadOnlyList<ObjectMetaEvent> objects, IReadOnlyList<SeriesStateEvent> states, IReadOnlyList<InstanceEvent> images,
        CancellationToken cancellationToken = default);

    /// <summary>Runs a read-only SQL query (stats, tests, the quality engine later); rows as column → value.</summary>
    Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> QueryAsync(string sql, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="QueryAsync(string, CancellationToken)"/>, with positional parameters bound to the
    /// <c>?</c> placeholders in order (the form both DuckDB and Doris's MySQL protocol take), so callers such as the
    /// quality engine never splice tenant ids or times into SQL text.</summary>
    Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> QueryAsync(string sql, IReadOnlyList<object?> parameters,
        CancellationToken cancellationToken = default);
}
