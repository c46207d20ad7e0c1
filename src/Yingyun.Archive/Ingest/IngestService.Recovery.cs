using Microsoft.Extensions.Logging;
using Yingyun.Dicom;
using Yingyun.Dimse;

namespace Yingyun.Archive.Ingest;

public sealed partial class IngestService
{
    // <trace>~<version>~<tenant>~<source ip or '-'>.dcm: everything recovery needs that the file itself does not hold
    // (the calling AE is in the File Meta Information, (0002,0016)). Tenant ids cannot contain '~' (TenantDirectory.Validate).
    private static string IncomingName(string trace, long version, IngestSource source) =>
        $"{trace}~{version}~{source.TenantId}~{source.SourceIp ?? "-"}.dcm";

    /// <summary>Finishes what a crash interrupted (src/Yingyun.Archive/README.md, "Ingest order"): every file left in
    /// <c>.incoming/</c> that parses completely is filed from the classification step under its own trace id and
    /// version; anything else was never acknowledged and is removed. Run before any listener opens.</summary>
    public async Task<(int Finished, int Removed)> RecoverAsync(CancellationToken cancellationToken = default)
    {
        int finished = 0, removed = 0;
        foreach (var path in Directory.EnumerateFiles(Blobs.Incoming))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetFileName(path);
            var parts = name.EndsWith(".dcm", StringComparison.Ordinal) ? name[..^4].Split('~') : [];
            if (parts.Length != 4 || !Guid.TryParse(parts[0], out _) || !long.TryParse(parts[1], out long version))
            {
                LogRecoveryRemoved(_logger, name, "not a name ingest writes");
                TryDelete(path);
                removed++;
                continue;
            }
            var source = new IngestSource(parts[2], null, parts[3] == "-" ? null : parts[3]);
            var checkedFile = await CheckCompleteAsync(path, cancellationToken).ConfigureAwait(false);
            if (checkedFile.Problem is { } problem)
            {
                LogRecoveryRemoved(_logger, name, problem);
                TryDelete(path);
                removed++;
                continue;
            }
            var header = checkedFile.Header!;
            source = source with { SourceAe = checkedFile.SourceAe };
            if (_tenants.Get(source.TenantId) is null || header.Refusal(header.SopClassUid, header.SopInstanceUid) is not null)
            {
                LogRecoveryRemoved(_logger, name, "unknown tenant or not an archivable header");
                TryDelete(path);
                removed++;
                continue;
            }
            // Keep the version monotonic past what was handed out before the crash.
            long last;
            do last = Volatile.Read(ref _lastVersion);
            while (version > last && Interlocked.CompareExchange(ref _lastVersion, version, last) != last);

            var result = await FileAsync(source, path, parts[0], version, header, checkedFile.TransferSyntax!, checkedFile.Hash!, checkedFile.Size, recovering: true, cancellationToken).ConfigureAwait(false);
            LogRecovered(_logger, parts[0], header.SopInstanceUid, result.Outcome);
            finished++;
        }
        return (finished, removed);
    }

    private readonly record struct CheckedFile(InstanceHeader? Header, string? TransferSyntax, string? SourceAe, string? Hash, long Size, string? Problem = null);

    /// <summary>Reads the whole data set through the same capture as a live receipt: a receipt cut short by the crash
    /// does not arrive whole.</summary>
    private static async Task<CheckedFile> CheckCompleteAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        Part10Header part10;
        DicomFile meta;
        try
        {
            part10 = await Part10Header.ReadAsync(stream, path, cancellationToken).ConfigureAwait(false);
            // The File Meta Information alone (PS3.10 §7.1), for the calling AE ingest wrote into (0002,0016).
            var metaBytes = new byte[part10.DataSetOffset];
            stream.Position = 0;
            await stream.ReadExactlyAsync(metaBytes, cancellationToken).ConfigureAwait(false);
            meta = DicomReader.Read(metaBytes);
        }
        catch (DicomReadException ex)
        {
            return new CheckedFile(null, null, null, null, 0, $"incomplete or damaged: {ex.Message}");
        }
        stream.Position = part10.DataSetOffset;
        var options = new DicomHeaderCaptureOptions { BulkDataSource = new FileBulkDataSource(path), BulkDataSourceOffset = part10.DataSetOffset };
        var capture = await DicomHeaderCapture.CaptureAsync(stream, Stream.Null, part10.TransferSyntax, options, cancellationToken).ConfigureAwait(false);
        if (capture.FirstFatalProblem is { } fatal)
            return new CheckedFile(null, null, null, null, 0, $"incomplete or damaged: {fatal}");
        string? sourceAe = meta.FileMetaInformation.TryGetString(DicomTags.SourceApplicationEntityTitle, out var ae) ? ae : null;
        return new CheckedFile(InstanceHeader.From(capture.Header), part10.TransferSyntax.Uid, sourceAe, capture.HashHex, stream.Length);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "recovery: removed {File} from .incoming ({Reason}); it was never acknowledged")]
    private static partial void LogRecoveryRemoved(ILogger logger, string file, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "recovery: finished receipt {Trace} of {SopInstanceUid} ({Outcome})")]
    private static partial void LogRecovered(ILogger logger, string trace, string sopInstanceUid, string outcome);
}
