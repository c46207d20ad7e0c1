using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Yingyun.Archive.Consumers;
using Yingyun.Archive.EventLog;
using Yingyun.Dimse;
using Yingyun.Dimse.Tests.Infrastructure;
using Yingyun.Server.Hosting;

namespace Yingyun.Server.Tests.Serve;

/// <summary>`yingyun serve` in-process: DIMSE against DCMTK, the HTTP endpoints, tenants deciding who may associate.</summary>
public class ServeTests
{
    [Fact]
    public async Task Echoscu_gets_success_and_healthz_reports_every_component_up()
    {
        await using var server = await ServerUnderTest.StartAsync();

        var echo = await server.EchoscuAsync();
        echo.ExitCode.Should().Be(0, echo.ToString());

        using var response = await server.Http.GetAsync("/healthz");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var health = await response.Content.ReadFromJsonAsync<JsonElement>();
        health.GetProperty("status").GetString().Should().Be("up");
        var components = health.GetProperty("components");
        foreach (var part in new[] { "eventLog", "index", "warehouse", "ingest", "tenants", "dimse", "http" })
            components.GetProperty(part).GetProperty("status").GetString().Should().Be("up", part);
        components.GetProperty("dimse").GetProperty("detail").GetString().Should().EndWith(":" + server.Port);
        File.Exists(Path.Combine(server.DataDirectory, "server.json")).Should().BeTrue("replay finds the running server through it");
    }

    [Fact]
    public async Task Storescu_instances_go_through_ingest_into_the_blob_layout_with_their_events()
    {
        var consumer = new RecordingConsumer("ingest-test", Topics.LogQueue);
        await using var server = await ServerUnderTest.StartAsync(services: s => s.AddSingleton<ArchiveConsumer>(consumer));
        string[] files = [Corpus.File("CT_small.dcm"), Corpus.File("MR_small.dcm")];
        var store = await Dcmtk.RunAsync("storescu", ["-aet", "CT01", "-aec", "YINGYUN", "127.0.0.1", server.Port, .. files]);
        store.ExitCode.Should().Be(0, store.ToString());

        foreach (var file in files)
        {
            var header = await Part10Header.ReadAsync(file);
            var dataset = (await Dicom.DicomReader.OpenAsync(file, new Dicom.DicomReaderOptions { StopBeforeTag = Dicom.DicomTag.PixelDataTag })).Dataset;
            string stored = Path.Combine(server.DataDirectory, "blobs", "default", dataset.GetString(Dicom.DicomTags.StudyInstanceUID)!,
                dataset.GetString(Dicom.DicomTags.SeriesInstanceUID)!, header.SopInstanceUid + ".dcm");
            File.Exists(stored).Should().BeTrue(stored);
            var kept = (await Dicom.DicomReader.OpenAsync(stored, new Dicom.DicomReaderOptions { StopBeforeTag = Dicom.DicomTag.PixelDataTag })).Dataset;
            kept.GetString(Dicom.DicomTags.PatientID).Should().Be(dataset.GetString(Dicom.DicomTags.PatientID));
            kept.GetString(Dicom.DicomTags.SOPInstanceUID).Should().Be(header.SopInstanceUid);
        }
        await consumer.WaitForAsync(2);
        // The index consumer files them; C-FIND (findscu, study root) then finds them through the index.
        await Eventually.TrueAsync(async () => (await server.GetJsonAsync("/api/stats")).GetProperty("consumers").EnumerateArray()
            .Single(g => g.GetProperty("group").GetString() == "index").GetProperty("lag").GetInt64() == 0);
        var find = await Dcmtk.RunAsync("findscu", "-S", "-aet", "CT01", "-aec", "YINGYUN", "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientID", "-k", "StudyInstanceUID",
            "127.0.0.1", server.Port);
        find.ExitCode.Should().Be(0, find.ToString());
        foreach (var file in files)
        {
            var dataset = (await Dicom.DicomReader.OpenAsync(file, new Dicom.DicomReaderOptions { StopBeforeTag = Dicom.DicomTag.PixelDataTag })).Dataset;
            find.Output.Should().Contain(dataset.GetString(Dicom.DicomTags.StudyInstanceUID)!);
        }

        // The warehouse consumer writes dicom_image_meta; /api/stats counts from it.
        await Eventually.TrueAsync(async () => (await server.GetJsonAsync("/api/stats")).GetProperty("consumers").EnumerateArray()
            .Single(g => g.GetProperty("group").GetString() == "warehouse").GetProperty("lag").GetInt64() == 0);
        var archive = (await server.GetJsonAsync("/api/stats")).GetProperty("archive");
        (archive.GetProperty("instances").GetInt64(), archive.GetProperty("studies").GetInt64()).Should().Be((2L, 2L));
        archive.GetProperty("tenants")[0].GetProperty("tenant").GetString().Should().Be("default");

        // log_queue: the seed's dicom_object_meta row of each receipt.
        consumer.Records.Select(r => JsonDocument.Parse(r.Value).RootElement).Select(e => (e.GetProperty("source_ae").GetString(), e.GetProperty("tenant_id").GetString()))
            .Should().Equal(("CT01", "default"), ("CT01", "default"));
    }

    [Fact]
    public async Task Storage_commitment_is_answered_from_what_ingest_stored()
    {
        await using var server = await ServerUnderTest.StartAsync();
        var file = Corpus.File("CT_small.dcm");
        (await Dcmtk.RunAsync("storescu", "-aec", "YINGYUN", "127.0.0.1", server.Port, file)).ExitCode.Should().Be(0);
        var header = await Part10Header.ReadAsync(file);
        var stored = new SopReference(header.SopClassUid, header.SopInstanceUid);
        var missing = new SopReference(header.SopClassUid, "1.2.3.4.5.6.7.8.9");

        var reports = new StorageCommitmentReports();
        var client = new DicomClientOptions
        {
            Host = "127.0.0.1", Port = server.DimsePort, CallingAeTitle = "STORESCU", CalledAeTitle = "YINGYUN",
            Services = new DimseServices { StorageCommitmentReportHandler = reports },
        };
        await using var association = await DicomClient.ConnectAsync(client, [Dicom.DicomUids.StorageCommitmentPushModel]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var report = await association.CommitAsync(reports, [stored, missing], cancellationToken: timeout.Token);
        report.Result.Committed.Should().Equal(stored);
        report.Result.Failed.Should().ContainSingle().Which.SopInstanceUid.Should().Be(missing.SopInstanceUid);
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Metrics_expose_the_Yingyun_instruments_in_Prometheus_format()
    {
        var consumer = new RecordingConsumer("metrics-test", Topics.LogQueue);
        await using var server = await ServerUnderTest.StartAsync(services: s => s.AddSingleton<ArchiveConsumer>(consumer));
        var file = Corpus.File("CT_small.dcm");
        var store = await Dcmtk.RunAsync("storescu", "-aec", "YINGYUN", "127.0.0.1", server.Port, file);
        store.ExitCode.Should().Be(0, store.ToString());
        // Ingest appended the receipt's log_queue event; the consumer took it.
        await consumer.WaitForAsync(1);
        await Eventually.TrueAsync(() => consumer.ProcessedRecords == 1);
        await Eventually.TrueAsync(async () => (await server.GetJsonAsync("/api/stats")).GetProperty("consumers").EnumerateArray()
            .Single(g => g.GetProperty("group").GetString() == "index").GetProperty("lag").GetInt64() == 0);

        var text = await server.Http.GetStringAsync("/metrics");
        text.Should().Contain("yingyun_dimse_instances_received_total{otel_scope_name=\"Yingyun\",outcome=\"success\"} 1");
        text.Should().MatchRegex(@"yingyun_dimse_received_bytes_total\{otel_scope_name=""Yingyun""\} [1-9][0-9]{3,}");
        text.Should().Contain("yingyun_dimse_store_duration_seconds_bucket");
        text.Should().Contain("yingyun_dimse_associations_active{otel_scope_name=\"Yingyun\"} 0");
        text.Should().Contain("service_name=\"yingyun\"");
        text.Should().Contain("yingyun_consumer_records_processed_total{otel_scope_name=\"Yingyun\",group=\"metrics-test\"} 1");
        text.Should().Contain("yingyun_consumer_lag{otel_scope_name=\"Yingyun\",group=\"metrics-test\",topic=\"log_queue\"} 0");
        text.Should().Contain("yingyun_ingest_receipts_total{otel_scope_name=\"Yingyun\",outcome=\"stored\"} 1");
        text.Should().Contain("yingyun_eventlog_records_appended_total");
        // The index consumer committed the instance: one index lag value, in the sub-second buckets.
        text.Should().Contain("yingyun_index_lag_seconds_count{otel_scope_name=\"Yingyun\"} 1");
        text.Should().Contain("yingyun_index_lag_seconds_bucket{otel_scope_name=\"Yingyun\",le=\"0.001\"}");
    }

    [Fact]
    public async Task Tenants_round_trip_in_the_documented_shape_and_bad_input_is_a_400_naming_the_field()
    {
        await using var server = await ServerUnderTest.StartAsync();
        var http = server.Http;

        var list = await server.GetJsonAsync("/api/tenants");
        list.EnumerateArray().Select(t => t.GetProperty("id").GetString()).Should().Equal("default");

        // ARCHITECTURE.md §8, verbatim.
        const string hospitalA = """{"id":"hospital-a","name":"Hospital A","aeTitles":["CT01","PACS1"],"allowedIps":[],"resendPolicy":"replace"}""";
        using (var created = await http.PutAsync("/api/tenants/hospital-a", Json(hospitalA)))
        {
            created.StatusCode.Should().Be(HttpStatusCode.Created);
            created.Headers.Location!.ToString().Should().Be("/api/tenants/hospital-a");
        }
        var got = await server.GetJsonAsync("/api/tenants/hospital-a");
        got.GetRawText().Should().Be(hospitalA, "GET returns the shape PUT took, field for field");

        using (var replaced = await http.PutAsync("/api/tenants/hospital-a", Json("""{"name":"Hospital A","aeTitles":["CT01"],"allowedIps":["10.1.0.0/16"],"resendPolicy":"keepFirst"}""")))
            replaced.StatusCode.Should().Be(HttpStatusCode.OK);
        got = await server.GetJsonAsync("/api/tenants/hospital-a");
        got.GetProperty("allowedIps")[0].GetString().Should().Be("10.1.0.0/16");
        got.GetProperty("resendPolicy").GetString().Should().Be("keepFirst");

        using (var posted = await http.PostAsync("/api/tenants", Json("""{"id":"hospital-b","aeTitles":["MR01"]}""")))
            posted.StatusCode.Should().Be(HttpStatusCode.Created);
        (await server.GetJsonAsync("/api/tenants")).EnumerateArray().Select(t => t.GetProperty("id").GetString())
            .Should().Equal("default", "hospital-a", "hospital-b");

        await AssertBadRequestAsync(http.PostAsync("/api/tenants", Json("""{"id":"no/slash"}""")), "id");
        await AssertBadRequestAsync(http.PostAsync("/api/tenants", Json("""{"id":"h","aeTitles":["WAY-TOO-LONG-AE-TITLE"]}""")), "aeTitles");
        await AssertBadRequestAsync(http.PostAsync("/api/tenants", Json("""{"id":"h","allowedIps":["10.0.0.300"]}""")), "allowedIps");
        await AssertBadRequestAsync(http.PostAsync("/api/tenants", Json("""{"id":"h","resendPolicy":"sometimes"}""")), "resendPolicy");
        await AssertBadRequestAsync(http.PostAsync("/api/tenants", Json("""{"id":"h","aeTitles":["MR01"]}""")), "aeTitles");
        await AssertBadRequestAsync(http.PutAsync("/api/tenants/hospital-a", Json("""{"id":"hospital-c"}""")), "id");
        await AssertBadRequestAsync(http.PostAsync("/api/tenants", Json("""{"id":"h","aeTitles":"CT01"}""")), "aeTitles");
        await AssertBadRequestAsync(http.PostAsync("/api/tenants", Json("""{"id":""")), "body");

        using (var missing = await http.GetAsync("/api/tenants/nobody"))
            missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        using (var deleted = await http.DeleteAsync("/api/tenants/hospital-b"))
            deleted.StatusCode.Should().Be(HttpStatusCode.NoContent);
        using (var again = await http.DeleteAsync("/api/tenants/hospital-b"))
            again.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Nodes_round_trip_in_the_documented_shape_and_bad_input_is_a_400_naming_the_field()
    {
        await using var server = await ServerUnderTest.StartAsync(settings: s =>
        {
            s["Yingyun:Tenants:0:Id"] = "hospital-a";
            s["Yingyun:Tenants:0:AeTitles:0"] = "CT01";
            s["Yingyun:Nodes:0:AeTitle"] = "VIEWER";
            s["Yingyun:Nodes:0:Host"] = "127.0.0.1";
            s["Yingyun:Nodes:0:Port"] = "4242";
            s["Yingyun:Nodes:0:Tenant"] = "hospital-a";
        });
        var http = server.Http;
        (await server.GetJsonAsync("/api/nodes")).EnumerateArray().Select(n => n.GetProperty("aeTitle").GetString()).Should().Equal("VIEWER");

        const string pacs = """{"aeTitle":"PACS1","host":"pacs.hospital-a.example","port":104,"tenant":"hospital-a","tls":false}""";
        using (var created = await http.PostAsync("/api/nodes", Json(pacs)))
        {
            created.StatusCode.Should().Be(HttpStatusCode.Created);
            created.Headers.Location!.ToString().Should().Be("/api/nodes/hospital-a/PACS1");
        }
        (await server.GetJsonAsync("/api/nodes/hospital-a/PACS1")).GetRawText().Should().Be(pacs);
        using (var replaced = await http.PutAsync("/api/nodes/hospital-a/PACS1", Json("""{"host":"10.1.2.3","port":11112,"tls":true}""")))
            replaced.StatusCode.Should().Be(HttpStatusCode.OK);
        var node = await server.GetJsonAsync("/api/nodes/hospital-a/PACS1");
        node.GetProperty("host").GetString().Should().Be("10.1.2.3");
        node.GetProperty("tls").GetBoolean().Should().BeTrue();
        (await server.GetJsonAsync("/api/nodes?tenant=hospital-a")).GetArrayLength().Should().Be(2);
        (await server.GetJsonAsync("/api/nodes?tenant=default")).GetArrayLength().Should().Be(0);

        await AssertBadRequestAsync(http.PostAsync("/api/nodes", Json("""{"aeTitle":"","host":"h","port":104,"tenant":"hospital-a"}""")), "aeTitle");
        await AssertBadRequestAsync(http.PostAsync("/api/nodes", Json("""{"aeTitle":"X","host":"bad host!","port":104,"tenant":"hospital-a"}""")), "host");
        await AssertBadRequestAsync(http.PostAsync("/api/nodes", Json("""{"aeTitle":"X","host":"h","port":70000,"tenant":"hospital-a"}""")), "port");
        await AssertBadRequestAsync(http.PostAsync("/api/nodes", Json("""{"aeTitle":"X","host":"h","port":"104","tenant":"hospital-a"}""")), "port");
        await AssertBadRequestAsync(http.PostAsync("/api/nodes", Json("""{"aeTitle":"X","host":"h","port":104,"tenant":"nobody"}""")), "tenant");

        using (var refused = await http.DeleteAsync("/api/tenants/hospital-a"))
            refused.StatusCode.Should().Be(HttpStatusCode.Conflict, "a tenant's nodes go first");
        using (var deleted = await http.DeleteAsync("/api/nodes/hospital-a/PACS1"))
            deleted.StatusCode.Should().Be(HttpStatusCode.NoContent);
        using (var missing = await http.GetAsync("/api/nodes/hospital-a/PACS1"))
            missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task OpenAPI_describes_the_API_with_the_documented_shapes()
    {
        await using var server = await ServerUnderTest.StartAsync();
        var openApi = await server.GetJsonAsync("/openapi");
        openApi.GetProperty("paths").EnumerateObject().Select(p => p.Name).Should().Contain(
            ["/healthz", "/api/stats", "/api/tenants", "/api/tenants/{id}", "/api/nodes", "/api/nodes/{tenant}/{aeTitle}", "/api/admin/replay"]);
        var schemas = openApi.GetProperty("components").GetProperty("schemas");
        schemas.GetProperty("TenantConfig").GetProperty("properties").EnumerateObject().Select(p => p.Name)
            .Should().Equal("id", "name", "aeTitles", "allowedIps", "resendPolicy");
        schemas.GetProperty("NodeConfig").GetProperty("properties").EnumerateObject().Select(p => p.Name)
            .Should().Equal("aeTitle", "host", "port", "tenant", "tls");
    }

    [Fact]
    public async Task An_unknown_AE_is_rejected_once_tenants_are_configured_and_changes_through_the_API_apply_at_once()
    {
        await using var server = await ServerUnderTest.StartAsync(settings: s =>
        {
            s["Yingyun:Tenants:0:Id"] = "hospital-a";
            s["Yingyun:Tenants:0:AeTitles:0"] = "CT01";
        });
        (await server.GetJsonAsync("/api/tenants")).EnumerateArray().Select(t => t.GetProperty("id").GetString())
            .Should().Equal(["hospital-a"], "configured tenants replace the catch-all default");

        (await server.EchoscuAsync("CT01")).ExitCode.Should().Be(0);
        var unknown = await server.EchoscuAsync("STRANGER");
        unknown.ExitCode.Should().NotBe(0);
        unknown.Output.Should().Contain("Calling AE Title Not Recognized");

        using (var put = await server.Http.PutAsync("/api/tenants/hospital-b", Json("""{"aeTitles":["STRANGER"],"allowedIps":["127.0.0.1"]}""")))
            put.StatusCode.Should().Be(HttpStatusCode.Created);
        (await server.EchoscuAsync("STRANGER")).ExitCode.Should().Be(0, "the directory is refreshed by the change");

        using (var put = await server.Http.PutAsync("/api/tenants/hospital-b", Json("""{"aeTitles":["STRANGER"],"allowedIps":["10.9.9.9"]}""")))
            put.StatusCode.Should().Be(HttpStatusCode.OK);
        (await server.EchoscuAsync("STRANGER")).ExitCode.Should().NotBe(0, "127.0.0.1 is outside the allow-list now");
    }

    [Fact]
    public async Task The_default_tenant_accepts_any_AE_and_the_called_AE_must_be_ours()
    {
        await using var server = await ServerUnderTest.StartAsync(settings: s => s["Yingyun:Dimse:AeTitle"] = "ARCHIVE");
        (await server.EchoscuAsync("ANYONE", "ARCHIVE")).ExitCode.Should().Be(0);
        var wrong = await server.EchoscuAsync("ANYONE", "YINGYUN");
        wrong.ExitCode.Should().NotBe(0);
        wrong.Output.Should().Contain("Called AE Title Not Recognized");
    }

    [Fact]
    public async Task Stats_report_each_consumer_groups_lag_per_partition_and_totals()
    {
        // Topics no consumer of this build reads: the records are not real events.
        var consumer = new RecordingConsumer("stats-test", Topics.WebApiAccessQueue, Topics.TranscodeQueue);
        await using var server = await ServerUnderTest.StartAsync(services: s => s.AddSingleton<ArchiveConsumer>(consumer));
        for (int i = 0; i < 10; i++)
            await server.EventLog.AppendAsync(i % 2 == 0 ? Topics.WebApiAccessQueue : Topics.TranscodeQueue, BitConverter.GetBytes(i), "{}"u8.ToArray());
        await consumer.WaitForAsync(10);
        await Eventually.TrueAsync(() => consumer.ProcessedRecords == 10);

        var stats = await server.GetJsonAsync("/api/stats");
        var group = stats.GetProperty("consumers").EnumerateArray().Single(g => g.GetProperty("group").GetString() == "stats-test");
        group.GetProperty("processedRecords").GetInt64().Should().Be(10);
        group.GetProperty("lag").GetInt64().Should().Be(0);
        group.GetProperty("state").GetString().Should().Be("up");
        var partitions = group.GetProperty("partitions").EnumerateArray().ToList();
        partitions.Select(p => p.GetProperty("topic").GetString()).Distinct().Should().BeEquivalentTo([Topics.WebApiAccessQueue, Topics.TranscodeQueue]);
        partitions.Sum(p => p.GetProperty("endOffset").GetInt64()).Should().Be(10);
        var groups = stats.GetProperty("consumers").EnumerateArray().ToList();
        groups.Select(g => g.GetProperty("group").GetString()).Should().Contain(["storage", "index", "warehouse", "stats-test"]);
        stats.GetProperty("totals").GetProperty("lag").GetInt64().Should().Be(groups.Sum(g => g.GetProperty("lag").GetInt64()));
        stats.GetProperty("totals").GetProperty("processedRecords").GetInt64().Should().Be(groups.Sum(g => g.GetProperty("processedRecords").GetInt64()));
        stats.GetProperty("eventLog").GetProperty("recordsAppended").GetInt64().Should().Be(10);
    }

    [Fact]
    public async Task A_second_server_on_the_same_data_directory_is_refused_naming_the_first()
    {
        await using var first = await ServerUnderTest.StartAsync();
        var act = () => ServerUnderTest.StartAsync(dataDirectory: first.DataDirectory);
        (await act.Should().ThrowAsync<YingyunConfigurationException>())
            .Which.Message.Should().Contain("in use by another Yingyun process").And.Contain($"pid {Environment.ProcessId}");
        (await first.EchoscuAsync()).ExitCode.Should().Be(0, "the first server is untouched");
    }

    internal static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    internal static async Task AssertBadRequestAsync(Task<HttpResponseMessage> call, string field)
    {
        using var response = await call;
        string body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, body);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        using var problem = JsonDocument.Parse(body);
        problem.RootElement.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().Equal([field], body);
        problem.RootElement.GetProperty("detail").GetString().Should().NotBeNullOrEmpty();
    }
}

/// <summary>Waits for a condition the code under test makes true on its own schedule (a commit after a batch),
/// with a generous limit; never a fixed sleep.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string because = "")
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (guard.IsCancellationRequested) throw new Xunit.Sdk.XunitException($"condition not met within 30 s {because}");
            await Task.Delay(10, CancellationToken.None);
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, string because = "")
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (guard.IsCancellationRequested) throw new Xunit.Sdk.XunitException($"condition not met within 30 s {because}");
            await Task.Delay(20, CancellationToken.None);
        }
    }
}
