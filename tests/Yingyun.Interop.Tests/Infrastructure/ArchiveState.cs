using DuckDB.NET.Data;
using Microsoft.Data.Sqlite;
using Yingyun.Dicom;
using Yingyun.Dimse;

namespace Yingyun.Interop.Tests.Infrastructure;

/// <summary>What a stopped server left in its data folder: blob files, SQLite index rows, DuckDB warehouse rows —
/// read directly, not through the server, so the test sees what is really there.</summary>
internal sealed class ArchiveState
{
    public required Dictionary<string, string> BlobBySop { get; init; }
    public required List<string> IncomingLeftovers { get; init; }
    public required List<string> DamagedBlobs { get; init; }
    public required Dictionary<string, int> IndexRowsBySop { get; init; }
    public required Dictionary<string, int> ImageMetaRowsBySop { get; init; }
    public required Dictionary<string, int> StoredReceiptsBySop { get; init; }
    public required int ObjectMetaRows { get; init; }

    public static async Task<ArchiveState> ReadAsync(string dataDirectory, string tenant = "default")
    {
        string blobs = Path.Combine(dataDirectory, "blobs");
        var blobBySop = new Dictionary<string, string>(StringComparer.Ordinal);
        var damaged = new List<string>();
        string tenantRoot = Path.Combine(blobs, tenant);
        if (Directory.Exists(tenantRoot))
        {
            foreach (var study in Directory.EnumerateDirectories(tenantRoot).Where(d => !Path.GetFileName(d).StartsWith('.')))
            foreach (var file in Directory.EnumerateFiles(study, "*", SearchOption.AllDirectories))
            {
                // Nothing half-written may be visible under a final name: every file parses to its end.
                var parsed = await DicomReader.OpenAsync(file);
                if (parsed.Problems.Exists(p => p.IsFatal)) damaged.Add(file);
                blobBySop[Path.GetFileNameWithoutExtension(file)] = file;
            }
        }
        string incoming = Path.Combine(blobs, ".incoming");
        var leftovers = Directory.Exists(incoming) ? Directory.EnumerateFiles(incoming).ToList() : [];

        var indexRows = new Dictionary<string, int>(StringComparer.Ordinal);
        await using (var sqlite = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "index.db")};Mode=ReadOnly;Pooling=False"))
        {
            await sqlite.OpenAsync();
            await using var command = sqlite.CreateCommand();
            command.CommandText = "SELECT sop_uid, COUNT(*) FROM instance WHERE tenant_id = $tenant GROUP BY sop_uid";
            command.Parameters.AddWithValue("$tenant", tenant);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) indexRows[reader.GetString(0)] = reader.GetInt32(1);
        }

        var imageRows = new Dictionary<string, int>(StringComparer.Ordinal);
        var storedReceipts = new Dictionary<string, int>(StringComparer.Ordinal);
        int objectMetaRows;
        await using (var duck = new DuckDBConnection($"Data Source={Path.Combine(dataDirectory, "warehouse.duckdb")};ACCESS_MODE=READ_ONLY"))
        {
            await duck.OpenAsync();
            await using (var command = duck.CreateCommand())
            {
                command.CommandText = $"SELECT sop_uid, COUNT(*) FROM dicom_image_meta WHERE tenant_id = '{tenant}' GROUP BY sop_uid";
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync()) imageRows[reader.GetString(0)] = Convert.ToInt32(reader.GetValue(1));
            }
            await using (var command = duck.CreateCommand())
            {
                command.CommandText = $"SELECT sop_uid, COUNT(*) FROM dicom_object_meta WHERE tenant_id = '{tenant}' AND outcome = 'stored' GROUP BY sop_uid";
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync()) storedReceipts[reader.GetString(0)] = Convert.ToInt32(reader.GetValue(1));
            }
            await using (var command = duck.CreateCommand())
            {
                command.CommandText = "SELECT COUNT(*) FROM dicom_object_meta";
                objectMetaRows = Convert.ToInt32(await command.ExecuteScalarAsync());
            }
        }
        return new ArchiveState
        {
            BlobBySop = blobBySop,
            IncomingLeftovers = leftovers,
            DamagedBlobs = damaged,
            IndexRowsBySop = indexRows,
            ImageMetaRowsBySop = imageRows,
            StoredReceiptsBySop = storedReceipts,
            ObjectMetaRows = objectMetaRows,
        };
    }

    /// <summary>Rows of a query on the index (SQLite), column name → value.</summary>
    public static async Task<List<Dictionary<string, object?>>> IndexRowsAsync(string dataDirectory, string sql, bool readOnly = true)
    {
        await using var sqlite = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "index.db")};Mode={(readOnly ? "ReadOnly" : "ReadWrite")};Pooling=False");
        await sqlite.OpenAsync();
        await using var command = sqlite.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        return await RowsAsync(reader);
    }

    /// <summary>Rows of a query on the warehouse (DuckDB), column name → value.</summary>
    public static async Task<List<Dictionary<string, object?>>> WarehouseRowsAsync(string dataDirectory, string sql, bool readOnly = true)
    {
        await using var duck = new DuckDBConnection($"Data Source={Path.Combine(dataDirectory, "warehouse.duckdb")}{(readOnly ? ";ACCESS_MODE=READ_ONLY" : "")}");
        await duck.OpenAsync();
        await using var command = duck.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        return await RowsAsync(reader);
    }

    private static async Task<List<Dictionary<string, object?>>> RowsAsync(System.Data.Common.DbDataReader reader)
    {
        var rows = new List<Dictionary<string, object?>>();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (int i = 0; i < reader.FieldCount; i++) row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The SOP Instance UID of a Part 10 file (its data set's, PS3.7 §9.1.1).</summary>
    public static async Task<string> SopInstanceUidOfAsync(string path)
    {
        // DicomReader rather than the Part 10 header: some corpus files have no preamble (rtstruct.dcm).
        var file = await DicomReader.OpenAsync(path, new DicomReaderOptions { StopBeforeTag = new DicomTag(0x0008, 0x0019) });
        return file.Dataset.GetString(DicomTags.SOPInstanceUID) ?? throw new InvalidOperationException($"{path}: no SOP Instance UID");
    }
}
