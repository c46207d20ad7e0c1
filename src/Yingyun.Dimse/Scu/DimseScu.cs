using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>The outcome of sending one file: the peer's status, or (with a null status) why it was not sent.</summary>
public sealed record StoreFileResult(string Path, string? SopInstanceUid, DimseStatus? Status, string? ErrorComment)
{
    public bool IsSuccess => Status is { IsSuccessOrWarning: true };

    public override string ToString() => Status is { } s ? $"{Path}: {s} {ErrorComment}" : $"{Path}: not sent, {ErrorComment}";
}

/// <summary>SCU operations on an established association.</summary>
public static class DimseScu
{
    /// <summary>C-ECHO (PS3.7 §9.1.5) on the Verification context.</summary>
    public static async Task<DimseStatus> EchoAsync(this DicomAssociation association, CancellationToken cancellationToken = default)
    {
        var pc = association.FindPresentationContext(DicomUids.Verification)
            ?? throw new DicomAssociationException("the peer did not accept the Verification SOP Class");
        var request = DimseCommand.CreateRequest(DimseCommandField.CEchoRequest, association.NextMessageId(), DicomUids.Verification, hasDataSet: false);
        var response = await association.SendSingleRequestAsync(pc.Id, request, null, cancellationToken).ConfigureAwait(false);
        return response.Command.Status;
    }

    /// <summary>C-STORE (PS3.7 §9.1.1) of a data set given as bytes in <paramref name="transferSyntax"/>, streamed from
    /// <paramref name="dataSet"/>.</summary>
    public static async Task<DimseResponse> StoreAsync(this DicomAssociation association, string sopClassUid, string sopInstanceUid,
        DicomTransferSyntax transferSyntax, Stream dataSet, DimsePriority priority = DimsePriority.Medium,
        string? moveOriginatorAeTitle = null, ushort? moveOriginatorMessageId = null, CancellationToken cancellationToken = default)
    {
        var pc = association.FindPresentationContext(sopClassUid, transferSyntax.Uid);
        if (pc is null || pc.TransferSyntax != transferSyntax)
            throw new DicomAssociationException($"no presentation context accepted for {DicomUids.GetName(sopClassUid)} in {transferSyntax.Name}");
        var request = BuildStoreRequest(association, sopClassUid, sopInstanceUid, priority, moveOriginatorAeTitle, moveOriginatorMessageId);
        return await association.SendSingleRequestAsync(pc.Id, request, dataSet, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a Part 10 file: reads its File Meta Information, picks the presentation context accepted for
    /// its SOP class in its transfer syntax, and streams the data set bytes from disk into P-DATA fragments — pixel
    /// data is never loaded. If the peer accepted the SOP class only in another uncompressed syntax and the file is
    /// uncompressed, the data set is converted on the fly (reader → writer → P-DATA, large values streamed from
    /// disk); a compressed file the peer will not take as it is needs a transcoder, so it is not sent and the result
    /// says why.</summary>
    public static async Task<StoreFileResult> StoreFileAsync(this DicomAssociation association, string path, DimsePriority priority = DimsePriority.Medium,
        CancellationToken cancellationToken = default) =>
        await StoreFileAsync(association, path, priority, null, null, cancellationToken).ConfigureAwait(false);

    /// <summary>As <see cref="StoreFileAsync(DicomAssociation, string, DimsePriority, CancellationToken)"/>, for the
    /// C-STORE sub-operation of a C-MOVE, which names the move's originator (PS3.7 §9.1.1.1).</summary>
    public static async Task<StoreFileResult> StoreFileAsync(this DicomAssociation association, string path, DimsePriority priority,
        string? moveOriginatorAeTitle, ushort? moveOriginatorMessageId, CancellationToken cancellationToken = default)
    {
        Part10Header header;
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            try
            {
                header = await Part10Header.ReadAsync(file, path, cancellationToken).ConfigureAwait(false);
            }
            catch (DicomReadException ex)
            {
                return new StoreFileResult(path, null, null, ex.Message);
            }
            var request = BuildStoreRequest(association, header.SopClassUid, header.SopInstanceUid, priority, moveOriginatorAeTitle, moveOriginatorMessageId);
            var pc = association.FindPresentationContext(header.SopClassUid, header.TransferSyntax.Uid);
            if (pc is null)
                return new StoreFileResult(path, header.SopInstanceUid, null, $"the peer accepted no presentation context for {DicomUids.GetName(header.SopClassUid)}");
            if (pc.TransferSyntax == header.TransferSyntax)
            {
                // PS3.5 §A.5: a deflated data set that ends on an odd byte is padded with one NUL byte; DCMTK rejects
                // an odd-length data set ("Odd Fragment Length") otherwise.
                Stream dataSet = header.TransferSyntax.IsDeflated && ((file.Length - header.DataSetOffset) & 1) == 1
                    ? new TrailingNulStream(file)
                    : file;
                var response = await association.SendSingleRequestAsync(pc.Id, request, dataSet, cancellationToken).ConfigureAwait(false);
                return new StoreFileResult(path, header.SopInstanceUid, response.Command.Status, response.Command.ErrorComment);
            }
            var target = ChooseConversionTarget(association, header);
            if (target is null)
            {
                return new StoreFileResult(path, header.SopInstanceUid, null,
                    $"the file is {header.TransferSyntax.Name} but the peer accepted only {pc.TransferSyntax!.Name} for {DicomUids.GetName(header.SopClassUid)}; converting needs a transcoder");
            }
            var converted = await SendConvertedAsync(association, path, target, request, cancellationToken).ConfigureAwait(false);
            return new StoreFileResult(path, header.SopInstanceUid, converted.Command.Status, converted.Command.ErrorComment);
        }
    }

    /// <summary>An accepted context for the file's SOP class in an uncompressed syntax the writer can produce, when the
    /// file itself is uncompressed (native pixel data); explicit VR little endian first.</summary>
    private static PresentationContext? ChooseConversionTarget(DicomAssociation association, Part10Header header)
    {
        if (header.TransferSyntax.IsEncapsulated) return null;
        return association.PresentationContexts
            .Where(c => association.CanInvoke(c) && c.AbstractSyntax == header.SopClassUid && !c.TransferSyntax!.IsEncapsulated)
            .OrderBy(c => c.TransferSyntax!.Uid == DicomUids.ExplicitVRLittleEndian ? 0 : c.TransferSyntax!.Uid == DicomUids.ImplicitVRLittleEndian ? 1 : 2)
            .ThenBy(c => c.Id)
            .FirstOrDefault();
    }

    /// <summary>Reads the file (large values stay on disk as references) and writes it in the target syntax into a
    /// pipe that the P-DATA sender drains: memory stays at the pipe's window whatever the instance size.</summary>
    private static async Task<DimseResponse> SendConvertedAsync(DicomAssociation association, string path, PresentationContext target,
        DimseCommand request, CancellationToken cancellationToken)
    {
        var dicomFile = await DicomReader.OpenAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
        var pipe = new System.IO.Pipelines.Pipe(new System.IO.Pipelines.PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19));
        var produce = Task.Run(async () =>
        {
            Exception? error = null;
            try
            {
                await using var output = pipe.Writer.AsStream(leaveOpen: true);
                await DicomWriter.WriteDatasetAsync(output, dicomFile.Dataset, target.TransferSyntax!, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                error = ex;
            }
            await pipe.Writer.CompleteAsync(error).ConfigureAwait(false);
        }, CancellationToken.None);
        try
        {
            await using var input = pipe.Reader.AsStream();
            return await association.SendSingleRequestAsync(target.Id, request, input, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            await produce.ConfigureAwait(false);
        }
    }

    private static DimseCommand BuildStoreRequest(DicomAssociation association, string sopClassUid, string sopInstanceUid, DimsePriority priority,
        string? moveOriginatorAeTitle, ushort? moveOriginatorMessageId)
    {
        var request = DimseCommand.CreateRequest(DimseCommandField.CStoreRequest, association.NextMessageId(), sopClassUid, hasDataSet: true);
        request.Priority = priority;
        request.AffectedSopInstanceUid = sopInstanceUid;
        if (moveOriginatorAeTitle is not null) request.MoveOriginatorAeTitle = moveOriginatorAeTitle;
        request.MoveOriginatorMessageId = moveOriginatorMessageId;
        return request;
    }

    /// <summary>Proposes, for each distinct SOP class of <paramref name="headers"/>, one context per transfer syntax
    /// found in the files, each alone (so each file can go exactly as it is stored), and one context with the
    /// uncompressed syntaxes as a fallback.</summary>
    public static AssociationRequestBuilder AddStorageContexts(this AssociationRequestBuilder builder, IEnumerable<Part10Header> headers)
    {
        foreach (var group in headers.GroupBy(h => h.SopClassUid))
        {
            foreach (var ts in group.Select(h => h.TransferSyntax.Uid).Distinct())
                builder.AddPresentationContext(group.Key, ts);
            builder.AddPresentationContext(group.Key, DicomUids.ExplicitVRLittleEndian, DicomUids.ImplicitVRLittleEndian);
        }
        return builder;
    }
}

/// <summary>Reads its inner stream to the end, then one NUL byte (the even-length padding of PS3.5 §A.5).</summary>
internal sealed class TrailingNulStream(Stream inner) : ForwardOnlyReadStream
{
    private bool _padded;

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        return n > 0 || buffer.IsEmpty ? n : Pad(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return n > 0 || buffer.IsEmpty ? n : Pad(buffer.Span);
    }

    private int Pad(Span<byte> buffer)
    {
        if (_padded) return 0;
        _padded = true;
        buffer[0] = 0;
        return 1;
    }
}
