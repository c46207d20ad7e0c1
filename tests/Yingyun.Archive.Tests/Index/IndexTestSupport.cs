using System.Globalization;
using Microsoft.Data.Sqlite;
using Yingyun.Archive.Index;
using Yingyun.Archive.Ingest;
using Yingyun.Dicom;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Archive.Tests.Index;

/// <summary>A fresh SQLite index in a temporary folder.</summary>
internal sealed class TestIndex : IAsyncDisposable
{
    private TestIndex(TempFolder folder, SqliteIndexStore store)
    {
        Folder = folder;
        Store = store;
    }

    public TempFolder Folder { get; }

    public SqliteIndexStore Store { get; }

    public string BlobRoot => Path.Combine(Folder.Path, "blobs");

    public static async Task<TestIndex> CreateAsync()
    {
        var folder = new TempFolder();
        var store = new SqliteIndexStore(Path.Combine(folder.Path, SqliteIndexStore.DefaultFileName));
        await store.InitializeAsync();
        return new TestIndex(folder, store);
    }

    /// <summary>Every row of the index's entity tables, ordered, as text: two equal dumps mean equal tables.</summary>
    public List<string> Dump(params string[] tables)
    {
        if (tables.Length == 0) tables = ["patient", "study", "series", "instance", "instance_version", "registry", "tombstone"];
        var lines = new List<string>();
        using var connection = new SqliteConnection($"Data Source={Store.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        foreach (var table in tables)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM {table} ORDER BY 1";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var values = new string[reader.FieldCount];
                for (int i = 0; i < values.Length; i++)
                    values[i] = reader.GetName(i) + "=" + (reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture));
                lines.Add(table + ": " + string.Join(" | ", values));
            }
        }
        return lines;
    }

    public T Scalar<T>(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Store.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        Folder.Dispose();
    }
}

/// <summary>Instance events for tests: synthetic ones, and ones read from real files (the production builder lives in
/// Ingest; this one only has to be right for the files the tests use).</summary>
internal static class TestEvents
{
    public static InstanceEvent Make(string tenant, string patientId, string study, string series, string sop, long version,
        string? modality = "CT", string? patientName = null, string? studyDate = null, string? studyTime = null, string? accession = null,
        string? studyDescription = null, int? seriesNumber = 1, int? instanceNumber = 1, string? seriesDescription = null,
        string? referringPhysician = null, int? rows = 512) => new()
    {
        TraceId = $"trace-{tenant}-{sop}-{version}",
        TenantId = tenant,
        Version = version,
        Outcome = ReceiptOutcome.Stored,
        ReceivedTime = new DateTimeOffset(version, TimeSpan.Zero),
        PatientId = patientId,
        PatientName = patientName,
        StudyUid = study,
        StudyDate = studyDate,
        StudyTime = studyTime,
        AccessionNumber = accession,
        StudyDescription = studyDescription,
        ReferringPhysicianName = referringPhysician,
        SeriesUid = series,
        Modality = modality,
        SeriesNumber = seriesNumber,
        SeriesDescription = seriesDescription,
        SopClassUid = "1.2.840.10008.5.1.4.1.1.2",
        SopUid = sop,
        InstanceNumber = instanceNumber,
        Rows = rows,
        Columns = rows,
        BitsAllocated = 16,
        TransferSyntaxUid = "1.2.840.10008.1.2.1",
        FilePath = $"{tenant}/{study}/{series}/{sop}.dcm",
        FileSize = 1000 + version,
        ContentHash = $"hash-{sop}-{version}",
    };

    /// <summary>The event ingest would produce for <paramref name="path"/>, strings decoded with the file's Specific
    /// Character Set; the file is copied to where the event says it is under <paramref name="blobRoot"/>.</summary>
    public static async Task<InstanceEvent> FromFileAsync(string path, string tenant, long version, string blobRoot)
    {
        var file = await DicomReader.OpenAsync(path, new DicomReaderOptions { StopBeforeTag = DicomTag.PixelDataTag });
        var ds = file.Dataset;
        string? Text(DicomTag tag) => ds.TryGetString(tag, out var v) && v.Length > 0 ? v : null;
        int? Integer(DicomTag tag) => ds.TryGetIntegerStrings<int>(tag, out var values, out _) && values.Length > 0 ? values[0] : null;
        int? Unsigned(DicomTag tag) => ds.TryGetValue<ushort>(tag, out var v) ? v : null;
        string study = Text(DicomTags.StudyInstanceUID)!, series = Text(DicomTags.SeriesInstanceUID)!, sop = Text(DicomTags.SOPInstanceUID)!;
        string relative = $"{tenant}/{study}/{series}/{sop}.dcm";
        string target = Path.Combine(blobRoot, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(path, target, overwrite: true);
        return new InstanceEvent
        {
            TraceId = $"trace-{tenant}-{sop}-{version}",
            TenantId = tenant,
            Version = version,
            Outcome = ReceiptOutcome.Stored,
            ReceivedTime = DateTimeOffset.UtcNow,
            PatientId = Text(DicomTags.PatientID) ?? "",
            IssuerOfPatientId = Text(DicomTags.IssuerOfPatientID),
            PatientName = Text(DicomTags.PatientName),
            PatientBirthDate = Text(DicomTags.PatientBirthDate),
            PatientSex = Text(DicomTags.PatientSex),
            StudyUid = study,
            StudyDate = Text(DicomTags.StudyDate),
            StudyTime = Text(DicomTags.StudyTime),
            AccessionNumber = Text(DicomTags.AccessionNumber),
            StudyId = Text(DicomTags.StudyID),
            StudyDescription = Text(DicomTags.StudyDescription),
            ReferringPhysicianName = Text(DicomTags.ReferringPhysicianName),
            InstitutionName = Text(DicomTags.InstitutionName),
            SeriesUid = series,
            Modality = Text(DicomTags.Modality),
            SeriesNumber = Integer(DicomTags.SeriesNumber),
            SeriesDescription = Text(DicomTags.SeriesDescription),
            BodyPartExamined = Text(DicomTags.BodyPartExamined),
            SeriesDate = Text(DicomTags.SeriesDate),
            SeriesTime = Text(DicomTags.SeriesTime),
            StationName = Text(DicomTags.StationName),
            SopClassUid = Text(DicomTags.SOPClassUID) ?? "",
            SopUid = sop,
            InstanceNumber = Integer(DicomTags.InstanceNumber),
            ContentDate = Text(DicomTags.ContentDate),
            ContentTime = Text(DicomTags.ContentTime),
            Rows = Unsigned(DicomTags.Rows),
            Columns = Unsigned(DicomTags.Columns),
            BitsAllocated = Unsigned(DicomTags.BitsAllocated),
            NumberOfFrames = Integer(DicomTags.NumberOfFrames),
            SpecificCharacterSet = Text(DicomTags.SpecificCharacterSet),
            TransferSyntaxUid = file.TransferSyntax.Uid,
            FilePath = relative,
            FileSize = new FileInfo(path).Length,
            ContentHash = "file-" + sop,
        };
    }

    public static string CharsetFile(string name)
    {
        var path = Path.Combine(Path.GetDirectoryName(Corpus.Folder)!, "charset_files", name);
        File.Exists(path).Should().BeTrue($"pydicom's charset files (Debian package python3-pydicom) must provide {name}");
        return path;
    }
}
