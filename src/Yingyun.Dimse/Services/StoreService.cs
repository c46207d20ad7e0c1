using System.Net;
using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>A C-STORE request as the storage handler sees it (PS3.7 §9.1.1, PS3.4 Annex B).</summary>
public sealed record StoreRequest(
    string SopClassUid,
    string SopInstanceUid,
    DicomTransferSyntax TransferSyntax,
    ushort MessageId,
    DimsePriority Priority,
    string CallingAeTitle,
    string CalledAeTitle,
    EndPoint? RemoteEndPoint,
    UserIdentityRequest? UserIdentity,
    string? MoveOriginatorAeTitle,
    ushort? MoveOriginatorMessageId);

/// <summary>The outcome of a C-STORE: the status (PS3.4 §B.2.3) and, for failures and warnings, a comment for the
/// Error Comment (0000,0902).</summary>
public readonly record struct StoreResult(DimseStatus Status, string? ErrorComment = null)
{
    public static implicit operator StoreResult(DimseStatus status) => new(status);
}

/// <summary>"Store this instance": receives the data set bytes exactly as they arrive, in
/// <see cref="StoreRequest.TransferSyntax"/>, as a stream read straight from the connection. The handler returns the
/// status only once the instance is durable (ARCHITECTURE.md §5): the C-STORE-RSP goes out after it returns.</summary>
public interface IStoreHandler
{
    ValueTask<StoreResult> StoreAsync(StoreRequest request, Stream dataSet, CancellationToken cancellationToken);
}

/// <summary>Stores each instance as a Part 10 file <c>&lt;folder&gt;/&lt;SOPInstanceUID&gt;.dcm</c>: the File Meta
/// Information we build, then the data set bytes as received. The data set streams from the connection to a
/// temporary file through <see cref="DicomHeaderCapture"/>, which parses its header on the way, so the instance is
/// checked without being read again; the file is renamed to its final name only when it passed, so a file under its
/// final name is always complete, and nothing is left behind when it did not.</summary>
public sealed class FolderStoreHandler : IStoreHandler
{
    public FolderStoreHandler(string folder)
    {
        Folder = folder;
        Directory.CreateDirectory(folder);
    }

    public string Folder { get; }

    public string PathFor(string sopInstanceUid) => Path.Combine(Folder, sopInstanceUid + ".dcm");

    /// <summary>Check each data set as it streams in (header parsed up to Pixel Data, structure followed to the end):
    /// refuse one that is damaged or cut short (C000, PS3.4 §B.2.3) or whose SOP Class/Instance UID differ from the
    /// command's (A900). False: store the bytes as they come, unchecked.</summary>
    public bool ValidateDataSet { get; set; } = true;

    /// <summary>fsync each file before answering (ARCHITECTURE.md §5: acknowledged means durable). Off by default, as
    /// DCMTK's storescp does not either.</summary>
    public bool FlushToDisk { get; set; }

    public async ValueTask<StoreResult> StoreAsync(StoreRequest request, Stream dataSet, CancellationToken cancellationToken)
    {
        // The UID becomes a file name: only digits and dots (PS3.5 §9.1), so no path can be smuggled in.
        if (!IsUid(request.SopInstanceUid))
            return new StoreResult(DimseStatus.CannotUnderstand, "Affected SOP Instance UID is not a valid UID");
        string final = PathFor(request.SopInstanceUid);
        string temporary = Path.Combine(Folder, $".{request.SopInstanceUid}.{Guid.NewGuid():N}.tmp");
        try
        {
            DicomHeaderCaptureResult? capture = null;
            using (var file = FileHandleWriteStream.CreateNew(temporary))
            {
                byte[] meta = Part10Header.BuildFileMetaInformation(request.SopClassUid, request.SopInstanceUid, request.TransferSyntax.Uid, request.CallingAeTitle);
                file.Write(meta);
                if (ValidateDataSet)
                {
                    var options = new DicomHeaderCaptureOptions { BulkDataSource = new FileBulkDataSource(temporary), BulkDataSourceOffset = meta.Length };
                    capture = await DicomHeaderCapture.CaptureAsync(dataSet, file, request.TransferSyntax, options, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await dataSet.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                }
                if (FlushToDisk) file.FlushToDisk();
            }
            if (capture is not null && Check(capture, request) is { } refusal)
            {
                File.Delete(temporary);
                return refusal;
            }
            File.Move(temporary, final, overwrite: true);
            return DimseStatus.Success;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static StoreResult? Check(DicomHeaderCaptureResult capture, StoreRequest request)
    {
        // PS3.4 §B.2.3: C000–CFFF, "cannot understand". The Error Comment is 64 characters at most (LO, PS3.7 §C.4.2):
        // where and what, nothing else.
        if (capture.FirstFatalProblem is { } fatal)
            return new StoreResult(DimseStatus.CannotUnderstand, fatal.ToString());
        string? Uid(DicomTag tag) => capture.Header.TryGetElement(tag, out var e) && e.Value.IsInMemory
            ? System.Text.Encoding.ASCII.GetString(e.Span).TrimEnd('\0', ' ')
            : null;
        // PS3.4 §B.2.3: A900, "data set does not match SOP class"; PS3.7 §9.1.1.1 ties the command's UIDs to the instance.
        if (Uid(DicomTags.SOPClassUID) != request.SopClassUid)
            return new StoreResult(DimseStatus.DataSetDoesNotMatchSopClass, "SOP Class UID of the data set differs from the command");
        if (Uid(DicomTags.SOPInstanceUID) != request.SopInstanceUid)
            return new StoreResult(DimseStatus.DataSetDoesNotMatchSopClass, "SOP Instance UID of the data set differs from the command");
        return null;
    }

    /// <summary>Digits and dots, 1 to 64 characters, no empty component at either end (PS3.5 §9.1).</summary>
    internal static bool IsUid(string uid)
    {
        if (uid.Length is 0 or > 64 || uid[0] == '.' || uid[^1] == '.') return false;
        foreach (char c in uid)
            if (c is not ('.' or (>= '0' and <= '9'))) return false;
        return true;
    }
}
