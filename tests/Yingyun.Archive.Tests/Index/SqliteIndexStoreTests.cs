using System.Diagnostics;
using Yingyun.Archive.Index;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tenants;
using Yingyun.Dicom;
using Xunit.Abstractions;

namespace Yingyun.Archive.Tests.Index;

public sealed class SqliteIndexStoreTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Creates_the_schema_in_WAL_mode_and_reopens_it()
    {
        await using var index = await TestIndex.CreateAsync();
        File.Exists(Path.Combine(index.Folder.Path, "index.db")).Should().BeTrue();
        index.Scalar<string>("PRAGMA journal_mode").Should().Be("wal");
        index.Scalar<long>("PRAGMA user_version").Should().Be(SqliteSchema.Migrations.Count);
        foreach (var table in new[] { "tenant", "node", "patient", "study", "series", "instance", "instance_version", "api_key", "registry", "tombstone" })
            index.Scalar<long>($"SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '{table}'").Should().Be(1, table);

        // Initialising again (a restart) keeps the data and the schema version.
        await index.Store.UpsertTenantAsync(new TenantConfig { Id = "a" });
        await using var again = new SqliteIndexStore(index.Store.DatabasePath);
        await again.InitializeAsync();
        (await again.GetTenantsAsync()).Select(t => t.Id).Should().Equal("a");
    }

    [Fact]
    public async Task Tenants_and_nodes_round_trip_their_JSON_shapes()
    {
        await using var index = await TestIndex.CreateAsync();
        var store = index.Store;
        await store.UpsertTenantAsync(new TenantConfig { Id = "hospital-a", Name = "医院 A", AeTitles = ["CT01", "PACS1"], AllowedIps = ["10.0.0.0/8"], ResendPolicy = "keepFirst" });
        await store.UpsertTenantAsync(new TenantConfig { Id = "hospital-b" });
        var a = await store.GetTenantAsync("hospital-a");
        a!.Name.Should().Be("医院 A");
        a.AeTitles.Should().Equal("CT01", "PACS1");
        a.AllowedIps.Should().Equal("10.0.0.0/8");
        a.ResendPolicy.Should().Be("keepFirst");
        await store.UpsertTenantAsync(new TenantConfig { Id = "hospital-a", AeTitles = ["CT02"] });
        (await store.GetTenantAsync("hospital-a"))!.AeTitles.Should().Equal("CT02");
        (await store.GetTenantsAsync()).Select(t => t.Id).Should().Equal("hospital-a", "hospital-b");

        await store.UpsertNodeAsync(new NodeConfig { Tenant = "hospital-a", AeTitle = "PACS1", Host = "pacs.example", Port = 104 });
        await store.UpsertNodeAsync(new NodeConfig { Tenant = "hospital-a", AeTitle = "PACS1", Host = "pacs2.example", Port = 11112, Tls = true });
        await store.UpsertNodeAsync(new NodeConfig { Tenant = "hospital-b", AeTitle = "PACS1", Host = "b.example", Port = 104 });
        var nodes = await store.GetNodesAsync("hospital-a");
        nodes.Should().ContainSingle().Which.Should().BeEquivalentTo(new NodeConfig { Tenant = "hospital-a", AeTitle = "PACS1", Host = "pacs2.example", Port = 11112, Tls = true });
        (await store.GetNodesAsync()).Should().HaveCount(2);
        (await store.DeleteNodeAsync("hospital-b", "PACS1")).Should().BeTrue();
        (await store.DeleteNodeAsync("hospital-b", "PACS1")).Should().BeFalse();
        (await store.DeleteTenantAsync("hospital-a")).Should().BeTrue();
        (await store.GetTenantAsync("hospital-a")).Should().BeNull();
        (await store.GetNodesAsync("hospital-a")).Should().BeEmpty("a tenant's nodes go with it");
    }

    [Fact]
    public async Task Registry_keeps_the_newest_version_per_tenant()
    {
        await using var index = await TestIndex.CreateAsync();
        var store = index.Store;
        (await store.GetRegistryEntryAsync("a", "1.2.3")).Should().BeNull();
        var v2 = new RegistryEntry("a", "1.2.3", "1.2", "1.2.1", "P1", "h2", 2, "t2", "a/1.2/1.2.1/1.2.3.dcm", 200);
        await store.PutRegistryEntryAsync(v2);
        await store.PutRegistryEntryAsync(v2 with { ContentHash = "h1", Version = 1, TraceId = "t1" });
        (await store.GetRegistryEntryAsync("a", "1.2.3")).Should().Be(v2, "an older version never overwrites a newer one");
        var v3 = v2 with { ContentHash = "h3", Version = 3, TraceId = "t3" };
        await store.PutRegistryEntryAsync(v3);
        (await store.GetRegistryEntryAsync("a", "1.2.3")).Should().Be(v3);
        (await store.GetRegistryEntryAsync("b", "1.2.3")).Should().BeNull("the same SOP Instance UID in another tenant is another instance");
    }

    [Fact]
    public async Task Storage_events_record_every_receipt_once_and_move_the_replaced_version()
    {
        await using var index = await TestIndex.CreateAsync();
        StorageEvent Receipt(string trace, long version, string outcome, string? path, string? previous = null) => new()
        {
            TraceId = trace, TenantId = "a", TransferSyntax = "1.2.840.10008.1.2.1", SopClassUid = "1.2.840.10008.5.1.4.1.1.2",
            SopInstanceUid = "1.9", StudyInstanceUid = "1.2", SeriesInstanceUid = "1.2.1", PatientId = "P1", FileName = "1.9.dcm",
            FileSize = 100 + version, FilePath = path, ContentHash = "h" + version, Version = version, Outcome = outcome,
            PreviousVersionPath = previous, ReceivedTime = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(version),
        };
        const string current = "a/1.2/1.2.1/1.9.dcm";
        var batch = new List<StorageEvent>
        {
            Receipt("t1", 1, ReceiptOutcome.Stored, current),
            Receipt("t2", 2, ReceiptOutcome.Duplicate, null),
            Receipt("t3", 3, ReceiptOutcome.Replaced, current, "a/1.2/1.2.1/1.9.dcm.v/1.dcm"),
            Receipt("t4", 4, ReceiptOutcome.Conflict, "a/.aside/t4.dcm"),
        };
        await index.Store.ApplyStorageAsync(batch);
        var once = index.Dump("instance_version", "registry");
        await index.Store.ApplyStorageAsync(batch);
        await index.Store.ApplyStorageAsync(batch.Take(2).ToList());
        index.Dump("instance_version", "registry").Should().Equal(once, "storage events are idempotent on trace_id");

        index.Scalar<long>("SELECT count(*) FROM instance_version").Should().Be(4);
        index.Scalar<string>("SELECT stored_path FROM instance_version WHERE trace_id = 't1'").Should().Be("a/1.2/1.2.1/1.9.dcm.v/1.dcm");
        index.Scalar<string>("SELECT stored_path FROM instance_version WHERE trace_id = 't3'").Should().Be(current);
        index.Scalar<string>("SELECT outcome FROM instance_version WHERE trace_id = 't4'").Should().Be("conflict");
        var entry = await index.Store.GetRegistryEntryAsync("a", "1.9");
        entry!.TraceId.Should().Be("t3", "duplicates and conflicts do not change the current version");
        entry.Version.Should().Be(3);
    }

    [Fact]
    public async Task Applying_a_batch_twice_leaves_identical_tables()
    {
        await using var index = await TestIndex.CreateAsync();
        var batch = new List<InstanceEvent>
        {
            TestEvents.Make("a", "P1", "1.1", "1.1.1", "1.1.1.1", 10, "CT", "Doe^John"),
            TestEvents.Make("a", "P1", "1.1", "1.1.1", "1.1.1.2", 11, "CT", "Doe^John", instanceNumber: 2),
            TestEvents.Make("a", "P1", "1.1", "1.1.2", "1.1.2.1", 12, "SR", "Doe^John"),
            TestEvents.Make("a", "P2", "1.2", "1.2.1", "1.2.1.1", 13, "MR", "Roe^Jane"),
            TestEvents.Make("b", "P1", "1.1", "1.1.1", "1.1.1.1", 14, "CT", "Other^Tenant"),
        };
        await index.Store.ApplyInstancesAsync(batch);
        var once = index.Dump();
        await index.Store.ApplyInstancesAsync(batch);
        await index.Store.ApplyInstancesAsync([.. batch.AsEnumerable().Reverse()]);
        index.Dump().Should().Equal(once);

        index.Scalar<string>("SELECT modalities_in_study FROM study WHERE tenant_id = 'a' AND study_uid = '1.1'").Should().Be("CT\\SR");
        index.Scalar<long>("SELECT number_of_series FROM study WHERE tenant_id = 'a' AND study_uid = '1.1'").Should().Be(2);
        index.Scalar<long>("SELECT number_of_instances FROM study WHERE tenant_id = 'a' AND study_uid = '1.1'").Should().Be(3);
        index.Scalar<long>("SELECT number_of_instances FROM patient WHERE tenant_id = 'a' AND patient_id = 'P1'").Should().Be(3);
        index.Scalar<long>("SELECT count(*) FROM study WHERE study_uid = '1.1'").Should().Be(2, "the same Study Instance UID in two tenants is two studies");
    }

    [Fact]
    public async Task A_replaced_version_updates_attributes_and_aggregates_and_an_older_one_is_ignored()
    {
        await using var index = await TestIndex.CreateAsync();
        var store = index.Store;
        await store.ApplyInstancesAsync([
            TestEvents.Make("a", "P1", "1.1", "1.1.1", "1.1.1.1", 10, "CT", seriesDescription: "first"),
            TestEvents.Make("a", "P1", "1.1", "1.1.2", "1.1.2.1", 11, "CT"),
        ]);
        index.Scalar<string>("SELECT modalities_in_study FROM study").Should().Be("CT");

        // The first instance comes again with other content: modality and series description change.
        var replaced = TestEvents.Make("a", "P1", "1.1", "1.1.1", "1.1.1.1", 20, "MR", seriesDescription: "second");
        replaced.Outcome = ReceiptOutcome.Replaced;
        await store.ApplyInstancesAsync([replaced]);
        index.Scalar<string>("SELECT modalities_in_study FROM study").Should().Be("CT\\MR");
        index.Scalar<string>("SELECT series_description FROM series WHERE series_uid = '1.1.1'").Should().Be("second");
        index.Scalar<long>("SELECT version FROM instance WHERE sop_uid = '1.1.1.1'").Should().Be(20);

        // A late, older event changes nothing.
        var before = index.Dump();
        await store.ApplyInstancesAsync([TestEvents.Make("a", "P1", "1.1", "1.1.1", "1.1.1.1", 15, "PR", seriesDescription: "stale")]);
        index.Dump().Should().Equal(before);
    }

    [Fact]
    public async Task Deletes_keep_aggregates_exact_and_replays_do_not_resurrect()
    {
        await using var index = await TestIndex.CreateAsync();
        var store = index.Store;
        var events = new List<InstanceEvent>
        {
            TestEvents.Make("a", "P1", "1.1", "1.1.1", "1.1.1.1", 10, "CT"),
            TestEvents.Make("a", "P1", "1.1", "1.1.1", "1.1.1.2", 11, "CT"),
            TestEvents.Make("a", "P1", "1.1", "1.1.2", "1.1.2.1", 12, "PR"),
            TestEvents.Make("a", "P1", "1.2", "1.2.1", "1.2.1.1", 13, "MR"),
        };
        await store.ApplyInstancesAsync(events);

        (await store.DeleteInstanceAsync("a", "1.1.1.1", 100)).Should().BeTrue();
        index.Scalar<long>("SELECT number_of_instances FROM series WHERE series_uid = '1.1.1'").Should().Be(1);
        (await store.DeleteSeriesAsync("a", "1.1.2", 100)).Should().BeTrue();
        index.Scalar<string>("SELECT modalities_in_study FROM study WHERE study_uid = '1.1'").Should().Be("CT");
        index.Scalar<long>("SELECT number_of_series FROM study WHERE study_uid = '1.1'").Should().Be(1);
        index.Scalar<long>("SELECT number_of_instances FROM patient").Should().Be(2);

        await store.ApplyInstancesAsync(events);
        index.Scalar<long>("SELECT number_of_instances FROM patient").Should().Be(2, "replayed events older than the deletes stay deleted");

        (await store.DeleteStudyAsync("a", "1.2", 100)).Should().BeTrue();
        index.Scalar<long>("SELECT number_of_studies FROM patient").Should().Be(1);
        (await store.DeleteStudyAsync("a", "1.1", 100)).Should().BeTrue();
        index.Scalar<long>("SELECT count(*) FROM patient").Should().Be(0, "a patient without instances goes");
        index.Scalar<long>("SELECT count(*) FROM series").Should().Be(0);

        // A re-send after the delete (newer version) comes back.
        await store.ApplyInstancesAsync([TestEvents.Make("a", "P1", "1.1", "1.1.1", "1.1.1.1", 200, "CT")]);
        index.Scalar<long>("SELECT number_of_instances FROM patient").Should().Be(1);
        (await store.DeleteInstanceAsync("a", "1.1.1.1", 150)).Should().BeFalse("the current version is newer than the delete");
    }

    /// <summary>Not a timing assertion: prints what a registry call costs (the report quotes it).</summary>
    [Fact]
    public async Task Registry_calls_are_cheap_under_concurrency()
    {
        await using var index = await TestIndex.CreateAsync();
        var store = index.Store;
        const int perTask = 4000, tasks = 4;
        var entries = Enumerable.Range(0, perTask * tasks).Select(n =>
            new RegistryEntry("a", $"1.2.3.{n}", "1.2", "1.2.1", "P1", "hash" + n, n, "trace" + n, $"a/1.2/1.2.1/1.2.3.{n}.dcm", n)).ToArray();
        // Warm-up: statements prepared, pages cached.
        for (int n = 0; n < 200; n++)
        {
            await store.PutRegistryEntryAsync(entries[n]);
            await store.GetRegistryEntryAsync("a", entries[n].SopInstanceUid);
        }

        // Wall time and this process's CPU time: on a busy machine the CPU time is the better measure of the cost.
        var process = Process.GetCurrentProcess();
        var sw = Stopwatch.StartNew();
        var cpu = process.TotalProcessorTime;
        for (int n = 0; n < perTask; n++) await store.PutRegistryEntryAsync(entries[n]);
        double putSerial = sw.Elapsed.TotalMicroseconds / perTask;
        process.Refresh();
        double putCpu = (process.TotalProcessorTime - cpu).TotalMicroseconds / perTask;
        sw.Restart();
        cpu = process.TotalProcessorTime;
        int found = 0;
        for (int n = 0; n < perTask; n++) if (await store.GetRegistryEntryAsync("a", entries[n].SopInstanceUid) is not null) found++;
        double getSerial = sw.Elapsed.TotalMicroseconds / perTask;
        process.Refresh();
        double getCpu = (process.TotalProcessorTime - cpu).TotalMicroseconds / perTask;
        found.Should().Be(perTask);

        sw.Restart();
        await Task.WhenAll(Enumerable.Range(0, tasks).Select(t => Task.Run(async () =>
        {
            for (int n = t * perTask; n < (t + 1) * perTask; n++)
            {
                await store.GetRegistryEntryAsync("a", entries[n].SopInstanceUid);
                await store.PutRegistryEntryAsync(entries[n]);
            }
        })));
        double mixedParallel = sw.Elapsed.TotalMicroseconds / (perTask * tasks);
        for (int n = 0; n < entries.Length; n += 997) (await store.GetRegistryEntryAsync("a", entries[n].SopInstanceUid)).Should().Be(entries[n]);
        output.WriteLine($"registry Put {putSerial:F1} µs wall / {putCpu:F1} µs CPU, Get {getSerial:F1} µs wall / {getCpu:F1} µs CPU (one caller); " +
            $"Get+Put pair {mixedParallel:F1} µs wall per pair with {tasks} callers; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    }
}
