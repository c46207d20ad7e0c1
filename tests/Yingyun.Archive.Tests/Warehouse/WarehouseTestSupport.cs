using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Yingyun.Archive.EventLog;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Warehouse;
using Yingyun.Dicom;

namespace Yingyun.Archive.Tests.Warehouse;

/// <summary>Events as ingest would append them, for the warehouse tests. The production builder lives in
/// src/Yingyun.Archive/Ingest; this one is deliberately separate, so the tests check the warehouse against the event
/// contract, not against one implementation of it.</summary>
internal static class WarehouseEvents
{
    public static readonly DateTimeOffset Epoch = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    public static InstanceEvent Instance(string tenant, string study, string series, string sop, long version,
        int? frames = null, string? patientName = "Doe^Jane", string? studyDate = "20260301", string? patientId = "P1")
    {
        var received = Epoch.AddSeconds(version);
        return new InstanceEvent
        {
            TraceId = Trace(tenant, sop, version),
            TenantId = tenant,
            Version = version,
            Outcome = ReceiptOutcome.Stored,
            ReceivedTime = received,
            SourceAe = "CT01",
            SourceIp = "192.0.2.10",
            PatientId = patientId ?? "",
            PatientName = patientName,
            PatientBirthDate = "19700101",
            PatientSex = "F",
            StudyUid = study,
            StudyDate = studyDate,
            StudyTime = "081500",
            AccessionNumber = "A" + study[^3..],
            StudyDescription = "CT CHEST",
            InstitutionName = "Hospital A",
            SeriesUid = series,
            Modality = "CT",
            SeriesNumber = 1,
            BodyPartExamined = "CHEST",
            SopClassUid = DicomUids.CTImageStorage,
            SopUid = sop,
            InstanceNumber = (int)(version % 1000),
            Rows = 512,
            Columns = 512,
            BitsAllocated = 16,
            NumberOfFrames = frames,
            TransferSyntaxUid = DicomUids.ExplicitVRLittleEndian,
            FilePath = $"{tenant}/{study}/{series}/{sop}.dcm",
            FileSize = 1000 + version,
            ContentHash = version.ToString("x32", CultureInfo.InvariantCulture),
        };
    }

    public static SeriesStateEvent State(InstanceEvent i) => new()
    {
        TraceId = i.TraceId,
        TenantId = i.TenantId,
        Version = i.Version,
        Outcome = i.Outcome,
        ReceivedTime = i.ReceivedTime,
        SourceAe = i.SourceAe,
        PatientId = i.PatientId,
        PatientName = i.PatientName,
        PatientSex = i.PatientSex,
        PatientBirthDate = i.PatientBirthDate,
        StudyUid = i.StudyUid,
        StudyDate = i.StudyDate,
        StudyTime = i.StudyTime,
        AccessionNumber = i.AccessionNumber,
        StudyDescription = i.StudyDescription,
        InstitutionName = i.InstitutionName,
        SeriesUid = i.SeriesUid,
        Modality = i.Modality,
        SeriesNumber = i.SeriesNumber,
        SeriesDescription = i.SeriesDescription,
        BodyPartExamined = i.BodyPartExamined,
    };

    public static ObjectMetaEvent Object(InstanceEvent i, string outcome = ReceiptOutcome.Stored, string? traceId = null) => new()
    {
        TraceId = traceId ?? i.TraceId,
        WorkerNodeId = "node-1",
        TenantId = i.TenantId,
        PatientId = i.PatientId,
        StudyUid = i.StudyUid,
        SeriesUid = i.SeriesUid,
        SopUid = i.SopUid,
        FileSize = i.FileSize,
        FilePath = i.FilePath,
        TransferSyntaxUid = i.TransferSyntaxUid,
        NumberOfFrames = i.NumberOfFrames,
        CreatedTime = i.ReceivedTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        SeriesUidHash = StableHash(i.SeriesUid),
        StudyUidHash = StableHash(i.StudyUid),
        AccessionNumber = i.AccessionNumber,
        StudyDate = WarehouseValues.TryParseDate(i.StudyDate, out var d) && d is { } date ? date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : null,
        TransferStatus = "pending",
        SourceIp = i.SourceIp,
        SourceAe = i.SourceAe,
        Outcome = outcome,
    };

    /// <summary>A deterministic trace id per (tenant, SOP, version), so a rebuilt event is the same receipt.</summary>
    public static string Trace(string tenant, string sop, long version) =>
        new Guid(System.IO.Hashing.XxHash128.Hash(System.Text.Encoding.UTF8.GetBytes($"{tenant}|{sop}|{version}"))).ToString();

    private static long StableHash(string text) => BitConverter.ToInt64(System.IO.Hashing.XxHash64.Hash(System.Text.Encoding.UTF8.GetBytes(text)));

    /// <summary>The events of one receipt of a real file: header read with Yingyun's reader up to Pixel Data.</summary>
    public static async Task<InstanceEvent> FromFileAsync(string path, string tenant, long version)
    {
        var file = await DicomReader.OpenAsync(path, new DicomReaderOptions { StopBeforeTag = DicomTag.PixelDataTag });
        var ds = file.Dataset;
        int? Number(DicomTag tag) => ds.TryGetValue<int>(tag, out var v) ? v : null;
        var sop = ds.GetString(DicomTags.SOPInstanceUID) ?? throw new InvalidOperationException($"{path} has no SOP Instance UID");
        var study = ds.GetString(DicomTags.StudyInstanceUID) ?? "";
        var series = ds.GetString(DicomTags.SeriesInstanceUID) ?? "";
        return new InstanceEvent
        {
            TraceId = Trace(tenant, sop, version),
            TenantId = tenant,
            Version = version,
            Outcome = ReceiptOutcome.Stored,
            ReceivedTime = Epoch.AddSeconds(version),
            SourceAe = "STORESCU",
            SourceIp = "127.0.0.1",
            PatientId = ds.GetString(DicomTags.PatientID) ?? "",
            IssuerOfPatientId = ds.GetString(DicomTags.IssuerOfPatientID),
            PatientName = ds.GetString(DicomTags.PatientName),
            PatientBirthDate = ds.GetString(DicomTags.PatientBirthDate),
            PatientSex = ds.GetString(DicomTags.PatientSex),
            StudyUid = study,
            StudyDate = ds.GetString(DicomTags.StudyDate),
            StudyTime = ds.GetString(DicomTags.StudyTime),
            AccessionNumber = ds.GetString(DicomTags.AccessionNumber),
            StudyId = ds.GetString(DicomTags.StudyID),
            StudyDescription = ds.GetString(DicomTags.StudyDescription),
            ReferringPhysicianName = ds.GetString(DicomTags.ReferringPhysicianName),
            InstitutionName = ds.GetString(DicomTags.InstitutionName),
            SeriesUid = series,
            Modality = ds.GetString(DicomTags.Modality),
            SeriesNumber = Number(DicomTags.SeriesNumber),
            SeriesDescription = ds.GetString(DicomTags.SeriesDescription),
            BodyPartExamined = ds.GetString(DicomTags.BodyPartExamined),
            SeriesDate = ds.GetString(DicomTags.SeriesDate),
            SeriesTime = ds.GetString(DicomTags.SeriesTime),
            StationName = ds.GetString(DicomTags.StationName),
            SopClassUid = ds.GetString(DicomTags.SOPClassUID) ?? "",
            SopUid = sop,
            InstanceNumber = Number(DicomTags.InstanceNumber),
            ContentDate = ds.GetString(DicomTags.ContentDate),
            ContentTime = ds.GetString(DicomTags.ContentTime),
            Rows = Number(DicomTags.Rows),
            Columns = Number(DicomTags.Columns),
            BitsAllocated = Number(DicomTags.BitsAllocated),
            NumberOfFrames = Number(DicomTags.NumberOfFrames),
            SpecificCharacterSet = ds.GetString(DicomTags.SpecificCharacterSet),
            TransferSyntaxUid = file.TransferSyntax.Uid,
            FilePath = $"{tenant}/{study}/{series}/{sop}.dcm",
            FileSize = new FileInfo(path).Length,
            ContentHash = Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash(await File.ReadAllBytesAsync(path))),
        };
    }
}

/// <summary>What Debian's pydicom reads from a file: the independent oracle for the values that land in the tables.</summary>
internal sealed record PydicomHeader(
    string Path, string SopInstanceUid, string StudyInstanceUid, string SeriesInstanceUid, string? PatientId, string? PatientName,
    string? StudyDate, string? Modality, int? Rows, int? Columns, int? NumberOfFrames, int? InstanceNumber, string TransferSyntaxUid)
{
    private const string Script = """
        import json, sys, pydicom
        out = []
        for path in sys.stdin.read().split('\n'):
            if not path: continue
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            def s(k):
                v = ds.get(k)
                return None if v is None else str(v)
            def n(k):
                v = ds.get(k)
                try: return None if v is None or v == '' else int(v)
                except (TypeError, ValueError): return None
            out.append(dict(path=path, sop_instance_uid=s('SOPInstanceUID'), study_instance_uid=s('StudyInstanceUID'),
                series_instance_uid=s('SeriesInstanceUID'), patient_id=s('PatientID'), patient_name=s('PatientName'),
                study_date=s('StudyDate'), modality=s('Modality'), rows=n('Rows'), columns=n('Columns'),
                number_of_frames=n('NumberOfFrames'), instance_number=n('InstanceNumber'),
                transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID)))
        print(json.dumps(out))
        """;

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task<IReadOnlyList<PydicomHeader>> ReadAsync(IReadOnlyList<string> paths)
    {
        var info = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-I");
        info.ArgumentList.Add("-W");
        info.ArgumentList.Add("ignore");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(Script);
        using var python = Process.Start(info) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
        var stdout = python.StandardOutput.ReadToEndAsync();
        var stderr = python.StandardError.ReadToEndAsync();
        await python.StandardInput.WriteAsync(string.Join('\n', paths) + "\n");
        python.StandardInput.Close();
        await python.WaitForExitAsync();
        if (python.ExitCode != 0)
        {
            throw new InvalidOperationException($"pydicom failed (apt-get install -y python3-pydicom): {await stderr}");
        }

        return JsonSerializer.Deserialize<List<PydicomHeader>>(await stdout, JsonOptions)!;
    }
}

/// <summary>An event log that signals every commit of a consumer group, so a test can wait for the group's lag to
/// reach zero by re-checking <see cref="IEventLog.GetLagAsync"/> after each commit instead of sleeping.</summary>
internal sealed class CommitSignallingLog(IEventLog inner) : IEventLog
{
    private readonly Channel<int> _commits = Channel.CreateUnbounded<int>();

    public ValueTask<EventPosition> AppendAsync(string topic, ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default) =>
        inner.AppendAsync(topic, key, value, cancellationToken);

    public ValueTask<IReadOnlyList<EventPosition>> AppendBatchAsync(IReadOnlyList<EventMessage> messages, CancellationToken cancellationToken = default) =>
        inner.AppendBatchAsync(messages, cancellationToken);

    public IEventConsumer CreateConsumer(string group, IReadOnlyList<string> topics) => new Consumer(inner.CreateConsumer(group, topics), _commits.Writer);

    public ValueTask<IReadOnlyList<PartitionLag>> GetLagAsync(string group, CancellationToken cancellationToken = default) =>
        inner.GetLagAsync(group, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Returns once the group has committed everything appended so far. The timeout only keeps a broken
    /// consumer from hanging the run.</summary>
    public async Task WaitUntilCaughtUpAsync(string group, TimeSpan timeout)
    {
        using var guard = new CancellationTokenSource(timeout);
        while (await inner.GetLagAsync(group, guard.Token) is var lags && (lags.Count == 0 || lags.Sum(l => l.Lag) > 0))
        {
            await _commits.Reader.ReadAsync(guard.Token);
        }
    }

    private sealed class Consumer(IEventConsumer inner, ChannelWriter<int> commits) : IEventConsumer
    {
        public string Group => inner.Group;

        public IReadOnlyList<string> Topics => inner.Topics;

        public ValueTask<IReadOnlyList<EventRecord>> ConsumeAsync(int maxRecords, CancellationToken cancellationToken = default) =>
            inner.ConsumeAsync(maxRecords, cancellationToken);

        public async ValueTask CommitAsync(IEnumerable<EventPosition> positions, CancellationToken cancellationToken = default)
        {
            await inner.CommitAsync(positions, cancellationToken);
            commits.TryWrite(0);
        }

        public ValueTask SeekAsync(string topic, int partition, long offset, CancellationToken cancellationToken = default) =>
            inner.SeekAsync(topic, partition, offset, cancellationToken);

        public long GetPosition(string topic, int partition) => inner.GetPosition(topic, partition);

        public ValueTask SeekToTimeAsync(DateTimeOffset time, CancellationToken cancellationToken = default) =>
            inner.SeekToTimeAsync(time, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}

internal static class WarehouseAssertions
{
    /// <summary>Every row of a table in key order, as text, so two warehouses (or one before and after) compare whole.</summary>
    public static async Task<List<string>> DumpAsync(this IWarehouse warehouse, string table)
    {
        var schema = WarehouseSchema.Tables.Single(t => t.Name == table);
        var rows = await warehouse.QueryAsync($"SELECT * FROM {table} ORDER BY {string.Join(", ", schema.Key)}");
        return rows.Select(r => string.Join(" | ", schema.Columns.Select(c => Format(r[c.Name])))).ToList();
    }

    private static string Format(object? value) => value switch
    {
        null => "NULL",
        DateTime t => t.ToString("o", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("o", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
