using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>The Storage Commitment Push Model as an SCU (PS3.4 §J.3.2, §J.3.3.1.3): ask the SCP to commit to the
/// safekeeping of instances, then take its result, which comes in an N-EVENT-REPORT on this association or on one
/// the SCP opens to our listener. Both are received by a <see cref="StorageCommitmentReports"/> set as the
/// <see cref="DimseServices.StorageCommitmentReportHandler"/> of this association's services
/// (<see cref="DicomClientOptions.Services"/>) and of the listener's (<see cref="DicomServerOptions.Services"/>).</summary>
public static class StorageCommitmentScu
{
    /// <summary>N-ACTION-RQ, Request Storage Commitment (Action Type ID 1) on the well-known instance (PS3.4 §J.3.5),
    /// with <paramref name="references"/> in the Referenced SOP Sequence. Returns the N-ACTION-RSP: success says only
    /// that the SCP took the request; the result is the later N-EVENT-REPORT.</summary>
    public static async Task<DimseResponse> RequestStorageCommitmentAsync(this DicomAssociation association, string transactionUid,
        IEnumerable<SopReference> references, CancellationToken cancellationToken = default)
    {
        var pc = association.FindPresentationContext(DicomUids.StorageCommitmentPushModel)
            ?? throw new DicomAssociationException("the peer did not accept the Storage Commitment Push Model SOP Class");
        // PS3.7 §10.3.4: N-ACTION-RQ names the Requested SOP Class and Instance and the Action Type ID.
        var request = new DimseCommand
        {
            CommandField = DimseCommandField.NActionRequest,
            MessageId = association.NextMessageId(),
            RequestedSopClassUid = DicomUids.StorageCommitmentPushModel,
            RequestedSopInstanceUid = DicomUids.StorageCommitmentPushModelInstance,
            ActionTypeId = StorageCommitment.ActionTypeRequest,
            HasDataSet = true,
        };
        var bytes = await QueryRetrieve.EncodeAsync(StorageCommitment.ToActionInformation(transactionUid, references), pc.TransferSyntax!, cancellationToken).ConfigureAwait(false);
        return await association.SendSingleRequestAsync(pc.Id, request, new ReadOnlyMemoryStream(bytes), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Requests commitment under a new Transaction UID and returns the SCP's report. With
    /// <paramref name="releaseAfterRequest"/> the association is released as soon as the N-ACTION-RSP is in, and the
    /// report is expected on a new association to our listener (the usual way, IHE RAD-10); without it the
    /// association stays open until the report arrives, on it or on the listener. Throws
    /// <see cref="DimseStatusException"/> if the SCP refuses the request; <paramref name="cancellationToken"/> bounds
    /// the wait.</summary>
    public static async Task<StorageCommitmentReport> CommitAsync(this DicomAssociation association, StorageCommitmentReports reports,
        IReadOnlyCollection<SopReference> references, bool releaseAfterRequest = false, CancellationToken cancellationToken = default)
    {
        string transactionUid = StorageCommitment.NewTransactionUid();
        // Expected before the request goes out: the SCP may answer before the N-ACTION-RSP has been read.
        var report = reports.Expect(transactionUid);
        try
        {
            var response = await association.RequestStorageCommitmentAsync(transactionUid, references, cancellationToken).ConfigureAwait(false);
            var status = response.Command.Status;
            if (!status.IsSuccessOrWarning)
                throw new DimseStatusException(status, $"N-ACTION Request Storage Commitment refused with {status}: {response.Command.ErrorComment}");
            if (releaseAfterRequest) await association.ReleaseAsync(cancellationToken).ConfigureAwait(false);
            return await report.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            reports.Forget(transactionUid);
        }
    }
}
