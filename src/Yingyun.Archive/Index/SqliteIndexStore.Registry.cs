using System.Globalization;
using Microsoft.Data.Sqlite;
using Yingyun.Archive.Ingest;

namespace Yingyun.Archive.Index;

public sealed partial class SqliteIndexStore
{
    private const string RegistryGetSql =
        "SELECT study_uid, series_uid, patient_id, content_hash, version, trace_id, file_path, file_size FROM registry WHERE tenant_id = @t AND sop_uid = @s";

    // "Unless a newer version is there": the same version again (a replay) rewrites the same values.
    private const string RegistryPutSql = """
        INSERT INTO registry (tenant_id, sop_uid, study_uid, series_uid, patient_id, content_hash, version, trace_id, file_path, file_size)
        VALUES (@t, @s, @study, @series, @patient, @hash, @version, @trace, @path, @size)
        ON CONFLICT (tenant_id, sop_uid) DO UPDATE SET
            study_uid = excluded.study_uid, series_uid = excluded.series_uid, patient_id = excluded.patient_id,
            content_hash = excluded.content_hash, version = excluded.version, trace_id = excluded.trace_id,
            file_path = excluded.file_path, file_size = excluded.file_size
        WHERE excluded.version >= registry.version
        """;

    private static readonly string[] RegistryPutParameters = ["@t", "@s", "@study", "@series", "@patient", "@hash", "@version", "@trace", "@path", "@size"];

    private const string VersionInsertSql = """
        INSERT INTO instance_version (trace_id, tenant_id, sop_uid, study_uid, series_uid, patient_id, sop_class_uid, transfer_syntax_uid,
            version, outcome, file_name, file_path, stored_path, file_size, content_hash, previous_version_path, existing_study_uid,
            existing_patient_id, received_time)
        VALUES (@trace, @t, @s, @study, @series, @patient, @class, @ts, @version, @outcome, @name, @path, @path, @size, @hash, @previous,
            @existing_study, @existing_patient, @received)
        ON CONFLICT (trace_id) DO NOTHING
        """;

    private static readonly string[] VersionInsertParameters =
        ["@trace", "@t", "@s", "@study", "@series", "@patient", "@class", "@ts", "@version", "@outcome", "@name", "@path", "@size", "@hash",
         "@previous", "@existing_study", "@existing_patient", "@received"];

    // A replaced version's bytes moved to previous_version_path: the receipt that was current before this one.
    private const string VersionMovedSql = """
        UPDATE instance_version SET stored_path = @previous
        WHERE trace_id = (SELECT trace_id FROM instance_version
                          WHERE tenant_id = @t AND sop_uid = @s AND version < @version AND outcome IN ('stored', 'replaced')
                          ORDER BY version DESC LIMIT 1)
        """;

    public ValueTask<RegistryEntry?> GetRegistryEntryAsync(string tenantId, string sopInstanceUid, CancellationToken cancellationToken = default)
    {
        var session = RentReader();
        try
        {
            using var reader = session.Command(RegistryGetSql, "@t", "@s").With(null, tenantId, sopInstanceUid).ExecuteReader();
            if (!reader.Read()) return ValueTask.FromResult<RegistryEntry?>(null);
            return ValueTask.FromResult<RegistryEntry?>(new RegistryEntry(tenantId, sopInstanceUid, reader.GetString(0), reader.GetString(1),
                reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetString(5), reader.GetString(6), reader.GetInt64(7)));
        }
        finally
        {
            ReturnReader(session);
        }
    }

    public async ValueTask PutRegistryEntryAsync(RegistryEntry entry, CancellationToken cancellationToken = default)
    {
        var writer = _fastWriter ?? throw NotInitialized();
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            PutRegistry(writer, null, entry.TenantId, entry.SopInstanceUid, entry.StudyInstanceUid, entry.SeriesInstanceUid, entry.PatientId,
                entry.ContentHash, entry.Version, entry.TraceId, entry.FilePath, entry.FileSize);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static void PutRegistry(SqliteSession session, SqliteTransaction? transaction, string tenantId, string sopUid, string studyUid,
        string seriesUid, string patientId, string contentHash, long version, string traceId, string filePath, long fileSize) =>
        session.Command(RegistryPutSql, RegistryPutParameters)
            .With(transaction, tenantId, sopUid, studyUid, seriesUid, patientId, contentHash, version, traceId, filePath, fileSize)
            .ExecuteNonQuery();

    /// <summary>The storage consumer: one instance_version row per receipt (idempotent on trace_id), the prior
    /// version's new place for a replaced one, and the registry row of every stored or replaced version (newest
    /// wins). One durable transaction.</summary>
    public Task ApplyStorageAsync(IReadOnlyList<StorageEvent> batch, CancellationToken cancellationToken = default)
    {
        if (batch.Count == 0) return Task.CompletedTask;
        return WriteDurablyAsync((writer, transaction) =>
        {
            foreach (var e in batch)
            {
                writer.Command(VersionInsertSql, VersionInsertParameters).With(transaction,
                    e.TraceId, e.TenantId, e.SopInstanceUid, e.StudyInstanceUid, e.SeriesInstanceUid, e.PatientId, e.SopClassUid, e.TransferSyntax,
                    e.Version, e.Outcome, e.FileName, e.FilePath, e.FileSize, e.ContentHash, e.PreviousVersionPath, e.ExistingStudyInstanceUid,
                    e.ExistingPatientId, FormatTime(e.ReceivedTime)).ExecuteNonQuery();
                if (e.Outcome is not (ReceiptOutcome.Stored or ReceiptOutcome.Replaced)) continue;
                if (e.Outcome == ReceiptOutcome.Replaced && e.PreviousVersionPath is { Length: > 0 } previous)
                    writer.Command(VersionMovedSql, "@previous", "@t", "@s", "@version").With(transaction, previous, e.TenantId, e.SopInstanceUid, e.Version).ExecuteNonQuery();
                if (e.FilePath is not { Length: > 0 } path)
                    throw new InvalidDataException($"storage_queue trace {e.TraceId}: a {e.Outcome} receipt of {e.SopInstanceUid} without file_path");
                PutRegistry(writer, transaction, e.TenantId, e.SopInstanceUid, e.StudyInstanceUid, e.SeriesInstanceUid, e.PatientId, e.ContentHash,
                    e.Version, e.TraceId, path, e.FileSize);
            }
            return 0;
        }, cancellationToken);
    }

    /// <summary>ISO 8601 UTC with 7 fractional digits: sorts as text.</summary>
    private static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
