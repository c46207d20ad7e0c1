using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Yingyun.Archive.Blobs;
using Yingyun.Archive.Configuration;
using Yingyun.Archive.EventLog;
using Yingyun.Archive.Index;
using Yingyun.Archive.Tenants;
using Yingyun.Dicom;
using Yingyun.Dimse;

namespace Yingyun.Archive.Ingest;

/// <summary>Where a receipt came from: the tenant it belongs to and the sender, for the upload record.</summary>
public sealed record IngestSource(string TenantId, string? SourceAe, string? SourceIp);

/// <summary>What a receipt did: its <see cref="ReceiptOutcome"/>, the status for the sender (C-STORE status; STOW maps
/// it to PS3.18 codes), and where the file now is (relative to the blob root).</summary>
public sealed record IngestResult(string Outcome, string TraceId, DimseStatus Status, string? Comment, string? FilePath);

/// <summary>Receive → write durably → append events → acknowledge (ARCHITECTURE.md §1, §5), shared by C-STORE and
/// STOW-RS. The order and the crash recovery are described in src/Yingyun.Archive/README.md ("Ingest order").</summary>
public sealed partial class IngestService : IStoreHandler
{
    private readonly YingyunOptions _options;
    private readonly IEventLog _log;
    private readonly IInstanceRegistry _registry;
    private readonly TenantDirectory _tenants;
    private readonly ILogger _logger;
    // Receipts of one SOP Instance UID are classified and filed one at a time (a re-send racing its original must see
    // it); striped so unrelated instances never wait on each other.
    private readonly SemaphoreSlim[] _sopLocks = [.. Enumerable.Range(0, 256).Select(_ => new SemaphoreSlim(1, 1))];
    private long _lastVersion;

    public IngestService(YingyunOptions options, IEventLog log, IInstanceRegistry registry, TenantDirectory tenants, ILogger<IngestService> logger)
    {
        _options = options;
        _log = log;
        _registry = registry;
        _tenants = tenants;
        _logger = logger;
        Blobs = new LocalBlobStore(string.IsNullOrWhiteSpace(options.Storage.Root) ? Path.Combine(options.DataDirectory, "blobs") : options.Storage.Root!);
    }

    public LocalBlobStore Blobs { get; }

    /// <summary>Receipts by outcome since start (for metrics and tests).</summary>
    public IngestCounters Counters { get; } = new();

    // ------------------------------------------------------------------ C-STORE (PS3.4 Annex B)

    public async ValueTask<StoreResult> StoreAsync(StoreRequest request, Stream dataSet, CancellationToken cancellationToken)
    {
        var tenant = _tenants.Resolve(request.CallingAeTitle, request.RemoteEndPoint);
        if (tenant is null)
            return new StoreResult(DimseStatus.NotAuthorized, $"calling AE title '{request.CallingAeTitle}' belongs to no tenant");
        if (!InstanceHeader.IsUid(request.SopInstanceUid))
            return new StoreResult(DimseStatus.CannotUnderstand, $"Affected SOP Instance UID '{request.SopInstanceUid}' is not a UID");
        var source = new IngestSource(tenant.Id, request.CallingAeTitle, AddressOf(request.RemoteEndPoint));
        var result = await IngestDataSetAsync(source, request.SopClassUid, request.SopInstanceUid, request.TransferSyntax, dataSet, cancellationToken).ConfigureAwait(false);
        return new StoreResult(result.Status, result.Comment);
    }

    private static string? AddressOf(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint { Address.IsIPv4MappedToIPv6: true } ip => ip.Address.MapToIPv4().ToString(),
        IPEndPoint ip => ip.Address.ToString(),
        null => null,
        _ => endPoint.ToString(),
    };

    // ------------------------------------------------------------------ the shared ingest path

    /// <summary>Ingests one data set (the bytes after the File Meta Information, in <paramref name="transferSyntax"/>)
    /// and returns once its fate is durable.</summary>
    public async Task<IngestResult> IngestDataSetAsync(IngestSource source, string sopClassUid, string sopInstanceUid,
        DicomTransferSyntax transferSyntax, Stream dataSet, CancellationToken cancellationToken)
    {
        string trace = Guid.CreateVersion7().ToString();
        long version = NextVersion();
        string incoming = Path.Combine(Blobs.Incoming, IncomingName(trace, version, source));
        DicomHeaderCaptureResult capture;
        long size;
        try
        {
            (capture, size) = await ReceiveAsync(incoming, sopClassUid, sopInstanceUid, transferSyntax, source.SourceAe, dataSet, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            TryDelete(incoming);
            throw;
        }

        // PS3.4 §B.2.3: C000–CFFF "cannot understand" for a data set that does not parse or did not arrive whole.
        if (capture.FirstFatalProblem is { } fatal)
            return Refuse(incoming, trace, DimseStatus.CannotUnderstand, $"data set does not parse: {fatal}");
        var header = InstanceHeader.From(capture.Header);
        if (header.Refusal(sopClassUid, sopInstanceUid) is { } refusal)
            return Refuse(incoming, trace, DimseStatus.DataSetDoesNotMatchSopClass, refusal);

        return await FileAsync(source, incoming, trace, version, header, transferSyntax.Uid, capture.HashHex, size, recovering: false, cancellationToken).ConfigureAwait(false);
    }

    private IngestResult Refuse(string incoming, string trace, DimseStatus status, string comment)
    {
        TryDelete(incoming);
        Counters.Count("refused");
        LogRefused(_logger, trace, status.Code, comment);
        return new IngestResult("refused", trace, status, comment, null);
    }

    /// <summary>Streams the File Meta Information and the data set into <paramref name="path"/>, parsing the header
    /// and hashing the data set bytes on the way (one pass, memory bounded whatever the size), then fsyncs the file.</summary>
    private static async Task<(DicomHeaderCaptureResult Capture, long Size)> ReceiveAsync(string path, string sopClassUid, string sopInstanceUid,
        DicomTransferSyntax transferSyntax, string? sourceAe, Stream dataSet, CancellationToken cancellationToken)
    {
        using var file = FileHandleWriteStream.CreateNew(path);
        byte[] meta = Part10Header.BuildFileMetaInformation(sopClassUid, sopInstanceUid, transferSyntax.Uid, sourceAe);
        file.Write(meta);
        var options = new DicomHeaderCaptureOptions { BulkDataSource = new FileBulkDataSource(path), BulkDataSourceOffset = meta.Length };
        var capture = await DicomHeaderCapture.CaptureAsync(dataSet, file, transferSyntax, options, cancellationToken).ConfigureAwait(false);
        // fsync: the data must be on disk before anything refers to it.
        file.FlushToDisk();
        return (capture, file.BytesWritten);
    }

    private long NextVersion()
    {
        // UTC ticks, strictly increasing within the process: the newest receipt has the largest version.
        while (true)
        {
            long last = Volatile.Read(ref _lastVersion);
            long next = Math.Max(DateTime.UtcNow.Ticks, last + 1);
            if (Interlocked.CompareExchange(ref _lastVersion, next, last) == last) return next;
        }
    }

    // ------------------------------------------------------------------ classify, log, file

    private async Task<IngestResult> FileAsync(IngestSource source, string incoming, string trace, long version, InstanceHeader header,
        string transferSyntaxUid, string hash, long size, bool recovering, CancellationToken cancellationToken)
    {
        var tenant = _tenants.Get(source.TenantId);
        var policy = tenant is null ? ResendPolicy.Replace : TenantDirectory.PolicyOf(tenant);
        var gate = _sopLocks[(int)((uint)StringComparer.Ordinal.GetHashCode(header.SopInstanceUid) % (uint)_sopLocks.Length)];
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // From here on the receipt is finished whatever the caller's token says: a half-filed receipt is what
            // recovery exists for, not something to create on purpose.
            var ct = CancellationToken.None;
            var existing = await _registry.GetRegistryEntryAsync(source.TenantId, header.SopInstanceUid, ct).ConfigureAwait(false);
            string finalPath = LocalBlobStore.InstancePath(source.TenantId, header.StudyInstanceUid, header.SeriesInstanceUid, header.SopInstanceUid);

            if (recovering && existing is not null && existing.TraceId == trace)
            {
                // Everything but (perhaps) the rename happened before the crash.
                await PlaceAsync(incoming, existing.FilePath).ConfigureAwait(false);
                return new IngestResult(ReceiptOutcome.Stored, trace, DimseStatus.Success, null, existing.FilePath);
            }

            var (outcome, status, comment) = Classify(existing, header, hash, policy);
            string? filePath = outcome switch
            {
                ReceiptOutcome.Stored or ReceiptOutcome.Replaced => finalPath,
                ReceiptOutcome.Duplicate => existing!.FilePath,
                _ => LocalBlobStore.AsidePath(source.TenantId, trace),
            };
            string? previousVersionPath = outcome == ReceiptOutcome.Replaced ? LocalBlobStore.VersionPath(source.TenantId, header.SopInstanceUid, existing!.Version) : null;

            var received = new DateTimeOffset(version, TimeSpan.Zero);
            var messages = BuildEvents(source, trace, version, received, header, transferSyntaxUid, hash, size, outcome, filePath, previousVersionPath, existing);
            await _log.AppendBatchAsync(messages, ct).ConfigureAwait(false);

            switch (outcome)
            {
                case ReceiptOutcome.Stored:
                    await PlaceAsync(incoming, finalPath).ConfigureAwait(false);
                    break;
                case ReceiptOutcome.Replaced:
                    // The prior version gets a second name first, then the new one replaces it atomically: the
                    // instance is never without a file, and the prior version is never lost.
                    await Blobs.EnsureDirectoryAsync(previousVersionPath!).ConfigureAwait(false);
                    string currentFull = Blobs.FullPath(existing!.FilePath);
                    if (File.Exists(currentFull)) FileSync.HardLink(currentFull, Blobs.FullPath(previousVersionPath!));
                    await Blobs.FlushDirectoryAsync(Path.GetDirectoryName(Blobs.FullPath(previousVersionPath!))!).ConfigureAwait(false);
                    await PlaceAsync(incoming, finalPath).ConfigureAwait(false);
                    break;
                case ReceiptOutcome.Duplicate:
                    TryDelete(incoming);
                    break;
                default:
                    await PlaceAsync(incoming, filePath!).ConfigureAwait(false);
                    break;
            }

            if (outcome is ReceiptOutcome.Stored or ReceiptOutcome.Replaced)
            {
                await _registry.PutRegistryEntryAsync(new RegistryEntry(source.TenantId, header.SopInstanceUid, header.StudyInstanceUid,
                    header.SeriesInstanceUid, header.PatientId, hash, version, trace, finalPath, size), ct).ConfigureAwait(false);
            }
            Counters.Count(outcome);
            if (outcome is not (ReceiptOutcome.Stored or ReceiptOutcome.Duplicate or ReceiptOutcome.Replaced))
                LogKeptAside(_logger, trace, header.SopInstanceUid, outcome, comment ?? "");
            return new IngestResult(outcome, trace, status, comment, filePath);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>ARCHITECTURE.md §5. Statuses: PS3.4 §B.2.3 and PS3.7 Annex C (0111H "duplicate SOP instance").</summary>
    private static (string Outcome, DimseStatus Status, string? Comment) Classify(RegistryEntry? existing, InstanceHeader header, string hash, ResendPolicy policy)
    {
        if (existing is null) return (ReceiptOutcome.Stored, DimseStatus.Success, null);
        if (existing.StudyInstanceUid != header.StudyInstanceUid || existing.SeriesInstanceUid != header.SeriesInstanceUid || existing.PatientId != header.PatientId)
        {
            return (ReceiptOutcome.Conflict, DimseStatus.DuplicateSopInstance,
                $"SOP Instance UID already stored for patient '{existing.PatientId}', study {existing.StudyInstanceUid}, series {existing.SeriesInstanceUid}; this receipt is kept aside for review");
        }
        if (existing.ContentHash == hash) return (ReceiptOutcome.Duplicate, DimseStatus.Success, null);
        return policy switch
        {
            ResendPolicy.Replace => (ReceiptOutcome.Replaced, DimseStatus.Success, null),
            // B006 "elements discarded": the new content is not used, the first version stays.
            ResendPolicy.KeepFirst => (ReceiptOutcome.Rejected, DimseStatus.ElementsDiscarded, "SOP instance already stored with other content; the first version is kept, this one is kept aside"),
            _ => (ReceiptOutcome.Rejected, DimseStatus.DuplicateSopInstance, "SOP instance already stored with other content; the tenant refuses changed re-sends"),
        };
    }

    /// <summary>Renames the received file to its place and makes the new name durable.</summary>
    private async Task PlaceAsync(string incoming, string relativePath)
    {
        string full = Blobs.FullPath(relativePath);
        await Blobs.EnsureDirectoryAsync(relativePath).ConfigureAwait(false);
        File.Move(incoming, full, overwrite: true);
        await Blobs.FlushDirectoryAsync(Path.GetDirectoryName(full)!).ConfigureAwait(false);
    }

    private List<EventMessage> BuildEvents(IngestSource source, string trace, long version, DateTimeOffset received, InstanceHeader header,
        string transferSyntaxUid, string hash, long size, string outcome, string? filePath, string? previousVersionPath, RegistryEntry? existing)
    {
        byte[] key = System.Text.Encoding.ASCII.GetBytes(header.StudyInstanceUid);
        int? frames = header.Integer(DicomTags.NumberOfFrames) ?? (header.Dataset.Contains(DicomTag.PixelDataTag) || header.Integer(DicomTags.Rows) is not null ? 1 : null);
        var messages = new List<EventMessage>(5)
        {
            new(Topics.StorageQueue, key, ArchiveEventJson.Serialize(new StorageEvent
            {
                TraceId = trace,
                TenantId = source.TenantId,
                TransferSyntax = transferSyntaxUid,
                SopClassUid = header.SopClassUid,
                SopInstanceUid = header.SopInstanceUid,
                StudyInstanceUid = header.StudyInstanceUid,
                SeriesInstanceUid = header.SeriesInstanceUid,
                PatientId = header.PatientId,
                FileName = header.SopInstanceUid + ".dcm",
                FileSize = size,
                FilePath = outcome == ReceiptOutcome.Duplicate ? null : filePath,
                ContentHash = hash,
                Version = version,
                Outcome = outcome,
                PreviousVersionPath = previousVersionPath,
                ExistingStudyInstanceUid = outcome == ReceiptOutcome.Conflict ? existing?.StudyInstanceUid : null,
                ExistingPatientId = outcome == ReceiptOutcome.Conflict ? existing?.PatientId : null,
                ReceivedTime = received,
            })),
            new(Topics.LogQueue, key, ArchiveEventJson.Serialize(new ObjectMetaEvent
            {
                TraceId = trace,
                WorkerNodeId = _options.ResolvedNodeId,
                TenantId = source.TenantId,
                PatientId = header.PatientId,
                StudyUid = header.StudyInstanceUid,
                SeriesUid = header.SeriesInstanceUid,
                SopUid = header.SopInstanceUid,
                FileSize = size,
                FilePath = filePath,
                TransferSyntaxUid = transferSyntaxUid,
                NumberOfFrames = frames,
                CreatedTime = received.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
                SeriesUidHash = InstanceHeader.UidHash(header.SeriesInstanceUid),
                StudyUidHash = InstanceHeader.UidHash(header.StudyInstanceUid),
                AccessionNumber = header.Text(DicomTags.AccessionNumber),
                TargetTs = null,
                StudyDate = header.IsoDate(DicomTags.StudyDate),
                TransferStatus = outcome is ReceiptOutcome.Stored or ReceiptOutcome.Replaced ? "pending" : null,
                SourceIp = source.SourceIp,
                SourceAe = source.SourceAe,
                Outcome = outcome,
            })),
        };
        if (outcome is not (ReceiptOutcome.Stored or ReceiptOutcome.Replaced)) return messages;

        messages.Add(new(Topics.DicomImageQueue, key, ArchiveEventJson.Serialize(new InstanceEvent
        {
            TraceId = trace,
            TenantId = source.TenantId,
            Version = version,
            Outcome = outcome,
            ReceivedTime = received,
            SourceAe = source.SourceAe,
            SourceIp = source.SourceIp,
            PatientId = header.PatientId,
            IssuerOfPatientId = header.Text(DicomTags.IssuerOfPatientID),
            PatientName = header.Text(DicomTags.PatientName),
            PatientBirthDate = header.Text(DicomTags.PatientBirthDate),
            PatientSex = header.Text(DicomTags.PatientSex),
            StudyUid = header.StudyInstanceUid,
            StudyDate = header.Text(DicomTags.StudyDate),
            StudyTime = header.Text(DicomTags.StudyTime),
            AccessionNumber = header.Text(DicomTags.AccessionNumber),
            StudyId = header.Text(DicomTags.StudyID),
            StudyDescription = header.Text(DicomTags.StudyDescription),
            ReferringPhysicianName = header.Text(DicomTags.ReferringPhysicianName),
            InstitutionName = header.Text(DicomTags.InstitutionName),
            SeriesUid = header.SeriesInstanceUid,
            Modality = header.Text(DicomTags.Modality),
            SeriesNumber = header.Integer(DicomTags.SeriesNumber),
            SeriesDescription = header.Text(DicomTags.SeriesDescription),
            BodyPartExamined = header.Text(DicomTags.BodyPartExamined),
            SeriesDate = header.Text(DicomTags.SeriesDate),
            SeriesTime = header.Text(DicomTags.SeriesTime),
            StationName = header.Text(DicomTags.StationName),
            SopClassUid = header.SopClassUid,
            SopUid = header.SopInstanceUid,
            InstanceNumber = header.Integer(DicomTags.InstanceNumber),
            ContentDate = header.Text(DicomTags.ContentDate),
            ContentTime = header.Text(DicomTags.ContentTime),
            Rows = header.Integer(DicomTags.Rows),
            Columns = header.Integer(DicomTags.Columns),
            BitsAllocated = header.Integer(DicomTags.BitsAllocated),
            NumberOfFrames = frames,
            SpecificCharacterSet = header.Text(DicomTags.SpecificCharacterSet),
            TransferSyntaxUid = transferSyntaxUid,
            FilePath = filePath!,
            FileSize = size,
            ContentHash = hash,
        })));
        messages.Add(new(Topics.DicomStateQueue, key, ArchiveEventJson.Serialize(new SeriesStateEvent
        {
            TraceId = trace,
            TenantId = source.TenantId,
            Version = version,
            Outcome = outcome,
            ReceivedTime = received,
            SourceAe = source.SourceAe,
            PatientId = header.PatientId,
            PatientName = header.Text(DicomTags.PatientName),
            PatientSex = header.Text(DicomTags.PatientSex),
            PatientBirthDate = header.Text(DicomTags.PatientBirthDate),
            StudyUid = header.StudyInstanceUid,
            StudyDate = header.Text(DicomTags.StudyDate),
            StudyTime = header.Text(DicomTags.StudyTime),
            AccessionNumber = header.Text(DicomTags.AccessionNumber),
            StudyDescription = header.Text(DicomTags.StudyDescription),
            InstitutionName = header.Text(DicomTags.InstitutionName),
            SeriesUid = header.SeriesInstanceUid,
            Modality = header.Text(DicomTags.Modality),
            SeriesNumber = header.Integer(DicomTags.SeriesNumber),
            SeriesDescription = header.Text(DicomTags.SeriesDescription),
            BodyPartExamined = header.Text(DicomTags.BodyPartExamined),
        })));
        messages.Add(new(Topics.TranscodeQueue, key, ArchiveEventJson.Serialize(new TranscodeRequestEvent
        {
            TraceId = trace,
            TenantId = source.TenantId,
            Version = version,
            StudyUid = header.StudyInstanceUid,
            SeriesUid = header.SeriesInstanceUid,
            SopUid = header.SopInstanceUid,
            TransferSyntaxUid = transferSyntaxUid,
            FilePath = filePath!,
        })));
        return messages;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "receipt {Trace} refused with status {Status:X4}: {Comment}")]
    private static partial void LogRefused(ILogger logger, string trace, ushort status, string comment);

    [LoggerMessage(Level = LogLevel.Warning, Message = "receipt {Trace} of {SopInstanceUid}: {Outcome}, kept aside: {Comment}")]
    private static partial void LogKeptAside(ILogger logger, string trace, string sopInstanceUid, string outcome, string comment);
}

/// <summary>Receipts by outcome since start.</summary>
public sealed class IngestCounters
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Count(string outcome) => _counts.AddOrUpdate(outcome, 1, static (_, n) => n + 1);

    public long this[string outcome] => _counts.GetValueOrDefault(outcome);

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_counts);
}
