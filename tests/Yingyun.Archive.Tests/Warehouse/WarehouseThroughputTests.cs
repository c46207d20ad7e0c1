using System.Diagnostics;
using Xunit.Abstractions;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tests.EventLog;
using Yingyun.Archive.Warehouse;
using static Yingyun.Archive.Tests.Warehouse.WarehouseEvents;

namespace Yingyun.Archive.Tests.Warehouse;

/// <summary>Reports rows per second for 500-row batches (the consumers' batch size) into a DuckDB file, empty and
/// with rows already there, for the record: no assertion on speed (the machine decides it), but the row counts are
/// checked so the figures describe writes that happened. Mean and best batch are both shown: on a shared machine
/// the best batch is the closer estimate of what the code costs.</summary>
public sealed class WarehouseThroughputTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Batch = 500;
    private const int Batches = 20;
    private const int Preloaded = 200_000;

    private readonly TempDirectory _dir = new();
    private DuckDbWarehouse _warehouse = null!;

    public async Task InitializeAsync()
    {
        _warehouse = DuckDbWarehouse.ForDataDirectory(_dir.Path);
        await _warehouse.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _warehouse.DisposeAsync();
        _dir.Dispose();
    }

    private static List<List<InstanceEvent>> Images(int offset, int size = Batch) =>
        Enumerable.Range(0, Batches).Select(b => Enumerable.Range(0, size).Select(n =>
        {
            var i = offset + b * size + n;
            var study = $"1.2.826.0.1.3680043.8.498.7.{i / 1000}";
            return Instance("hospital-a", study, $"{study}.{i / 250 % 4}", $"{study}.{i}", 1_000_000 + i);
        }).ToList()).ToList();

    private async Task TimeAsync<T>(string what, List<T> batches, int rowsPerBatch, Func<T, Task> write)
    {
        var times = new List<double>();
        foreach (var batch in batches)
        {
            var started = Stopwatch.GetTimestamp();
            await write(batch);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        output.WriteLine($"{what,-62} {rowsPerBatch * times.Count / (times.Sum() / 1000),7:F0} rows/s mean, " +
                         $"{rowsPerBatch / (times.Min() / 1000),7:F0} best ({times.Average():F1} / {times.Min():F1} ms a batch)");
    }

    [Fact]
    public async Task Rows_per_second_for_500_row_batches()
    {
        // Warm-up: JIT, DuckDB's catalog and buffer pool.
        foreach (var batch in Images(-Batches * Batch))
        {
            await _warehouse.WriteImageMetaAsync(batch);
        }

        output.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} cores)");
        await Measure("empty", 0);

        // The same again with rows already there (a few days of one hospital): bigger indexes, and the merges' scans
        // of the image table read more.
        await using (var connection = new DuckDB.NET.Data.DuckDBConnection(_warehouse.ConnectionString))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText =
                "INSERT INTO dicom_image_meta (tenant_id, sop_uid, version, trace_id, patient_id, study_uid, series_uid, file_size) " +
                $"SELECT 'hospital-z', '1.2.826.0.1.3680043.8.498.9.' || i, i, uuid()::VARCHAR, 'P' || (i // 500), " +
                $"'1.2.826.0.1.3680043.8.498.9.' || (i // 500), '1.2.826.0.1.3680043.8.498.9.' || (i // 500) || '.1', 500000 FROM range({Preloaded}) AS r(i)";
            command.ExecuteNonQuery();
            command.CommandText = "INSERT INTO dicom_object_meta (trace_id, worker_node_id, tenant_id, patient_id) " +
                                  $"SELECT uuid()::VARCHAR, 'node', 'hospital-z', 'P' FROM range({Preloaded})";
            command.ExecuteNonQuery();
        }

        await Measure($"+{Preloaded / 1000}k rows", 1_000_000);
    }

    private async Task Measure(string label, int offset)
    {
        var images = Images(offset);
        var before = await Count("SELECT count(*) FROM dicom_image_meta");
        var merged = _warehouse.MergedBatches;

        await TimeAsync($"dicom_image_meta, new instances ({label})", images, Batch, b => _warehouse.WriteImageMetaAsync(b));
        _warehouse.MergedBatches.Should().Be(merged, "new instances take the insert path");
        await TimeAsync($"dicom_image_meta, the same batches again: merge ({label})", images, Batch, b => _warehouse.WriteImageMetaAsync(b));
        _warehouse.MergedBatches.Should().Be(merged + Batches, "rows already there take the merge path");
        await TimeAsync($"dicom_state_meta ({label})", images, Batch, b => _warehouse.WriteStateMetaAsync(b.Select(State).ToList()));
        await TimeAsync($"dicom_object_meta ({label})", images, Batch, b => _warehouse.WriteObjectMetaAsync(b.Select(i => Object(i)).ToList()));

        // What the consumer writes: 500 records of the three topics, one transaction.
        var receipts = Images(offset + 500_000, Batch / 3);
        await TimeAsync($"consumer batch: {Batch / 3} receipts x 3 tables ({label})", receipts, Batch / 3 * 3,
            b => _warehouse.WriteAsync(b.Select(i => Object(i)).ToList(), b.Select(State).ToList(), b));

        (await Count("SELECT count(*) FROM dicom_image_meta")).Should().Be(before + Batches * Batch + Batches * (Batch / 3));
        (await Count("SELECT sum(instance_count) FROM dicom_state_meta WHERE tenant_id = 'hospital-a'"))
            .Should().Be(await Count("SELECT count(*) FROM dicom_image_meta WHERE tenant_id = 'hospital-a'"), "series counts cover every instance");
    }

    private async Task<long> Count(string sql) => (long)(await _warehouse.QueryAsync(sql)).Single().Values.Single()!;
}
