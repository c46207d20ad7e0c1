using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tenants;

namespace Yingyun.Archive.Index;

/// <summary>The index store port (ARCHITECTURE.md §2, §6): SQLite on embedded defaults, MySQL in scale-out. Tables:
/// tenant, node, patient, study, series, instance, instance_version, api_key, and the ingest's instance registry.
/// QIDO-RS and C-FIND are answered from here, never from the warehouse.</summary>
public interface IIndexStore : IInstanceRegistry, IAsyncDisposable
{
    /// <summary>Creates or migrates the schema; idempotent.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    // ---- tenants and nodes (ARCHITECTURE.md §4, §8) ----
    Task<IReadOnlyList<TenantConfig>> GetTenantsAsync(CancellationToken cancellationToken = default);
    Task<TenantConfig?> GetTenantAsync(string id, CancellationToken cancellationToken = default);
    Task UpsertTenantAsync(TenantConfig tenant, CancellationToken cancellationToken = default);
    Task<bool> DeleteTenantAsync(string id, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<NodeConfig>> GetNodesAsync(string? tenant = null, CancellationToken cancellationToken = default);
    Task UpsertNodeAsync(NodeConfig node, CancellationToken cancellationToken = default);
    Task<bool> DeleteNodeAsync(string tenant, string aeTitle, CancellationToken cancellationToken = default);

    // ---- the index consumer (idempotent: a replayed batch changes nothing) ----
    /// <summary>Applies instance versions: a version older than the stored one is ignored; patient/study/series
    /// rows and their aggregates (modalities in study, numbers of related series and instances) stay exact.</summary>
    Task ApplyInstancesAsync(IReadOnlyList<InstanceEvent> batch, CancellationToken cancellationToken = default);

    // ---- deletes (DELETE issue; the aggregates stay exact) ----
    /// <summary>Removes an instance whose current version is at or below <paramref name="version"/> (the deletion's
    /// sequence, UTC ticks like a receipt's) and remembers the deletion: replaying older events does not bring it
    /// back, a newer re-send does. True if something was removed.</summary>
    Task<bool> DeleteInstanceAsync(string tenantId, string sopInstanceUid, long version, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="DeleteInstanceAsync"/> for every instance of a series.</summary>
    Task<bool> DeleteSeriesAsync(string tenantId, string seriesInstanceUid, long version, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="DeleteInstanceAsync"/> for every instance of a study.</summary>
    Task<bool> DeleteStudyAsync(string tenantId, string studyInstanceUid, long version, CancellationToken cancellationToken = default);

    // ---- queries (C-FIND now, QIDO-RS later: one engine) ----
    /// <summary>The entities of <see cref="IndexQuery.Level"/> matching every key, each a data set of the return keys
    /// the index holds (<see cref="IndexAttributes"/>), Specific Character Set ISO_IR 192. Throws
    /// <see cref="IndexQueryException"/> for a query it cannot answer as asked.</summary>
    IAsyncEnumerable<Yingyun.Dicom.DicomDataset> QueryAsync(IndexQuery query, CancellationToken cancellationToken = default);

    /// <summary>The files of the current instances under the matching entities (C-MOVE, C-GET, WADO-RS).</summary>
    Task<IReadOnlyList<IndexedFile>> GetFilesAsync(IndexQuery query, CancellationToken cancellationToken = default);
}

/// <summary>One instance's current version as ingest knows it, to classify a re-send before acknowledging it
/// (ARCHITECTURE.md §5).</summary>
public sealed record RegistryEntry(
    string TenantId,
    string SopInstanceUid,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string PatientId,
    string ContentHash,
    long Version,
    string TraceId,
    string FilePath,
    long FileSize);

/// <summary>The ingest's synchronous view of what is stored. Written at receipt (before the events, so a re-send a
/// millisecond later is classified right) and again by the storage consumer from <c>storage_queue</c> (so a row lost
/// in a crash comes back when the consumer re-reads its uncommitted events).</summary>
public interface IInstanceRegistry
{
    ValueTask<RegistryEntry?> GetRegistryEntryAsync(string tenantId, string sopInstanceUid, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="entry"/> unless a newer version (larger <see cref="RegistryEntry.Version"/>) is there.</summary>
    ValueTask PutRegistryEntryAsync(RegistryEntry entry, CancellationToken cancellationToken = default);

    /// <summary>The storage consumer: prior versions and kept-aside receipts (instance_version rows), registry rows.</summary>
    Task ApplyStorageAsync(IReadOnlyList<StorageEvent> batch, CancellationToken cancellationToken = default);
}
