using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>C-FIND, C-MOVE and C-GET as an SCU (PS3.4 Annex C, PS3.7 §9.1.2–9.1.4). Cancelling the token sends a
/// C-CANCEL-RQ and waits for the peer's final response, as PS3.7 §9.3.2.3 expects, rather than walking away.</summary>
public static class QueryRetrieveScu
{
    /// <summary>C-FIND: calls <paramref name="onMatch"/> for each pending response's identifier; returns the final
    /// status (Success, Cancel after <paramref name="cancellationToken"/> fired, or a failure).</summary>
    public static async Task<DimseStatus> FindAsync(this DicomAssociation association, string informationModel, DicomDataset identifier,
        Func<DicomDataset, ValueTask> onMatch, DimsePriority priority = DimsePriority.Medium, CancellationToken cancellationToken = default)
    {
        var final = await RunAsync(association, DimseCommandField.CFindRequest, informationModel, identifier, priority, null,
            async (response, pc) =>
            {
                if (response.DataSet is not null && response.Command.Status.IsPending)
                    await onMatch(await QueryRetrieve.DecodeAsync(response.DataSet, pc.TransferSyntax!).ConfigureAwait(false)).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        return final.Command.Status;
    }

    /// <summary>C-FIND collecting every match.</summary>
    public static async Task<(DimseStatus Status, List<DicomDataset> Matches)> FindAllAsync(this DicomAssociation association, string informationModel,
        DicomDataset identifier, CancellationToken cancellationToken = default)
    {
        var matches = new List<DicomDataset>();
        var status = await association.FindAsync(informationModel, identifier, m =>
        {
            matches.Add(m);
            return ValueTask.CompletedTask;
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (status, matches);
    }

    /// <summary>C-MOVE to <paramref name="destinationAeTitle"/> (which the peer must know); <paramref name="onProgress"/>
    /// sees each pending response.</summary>
    public static Task<RetrieveResult> MoveAsync(this DicomAssociation association, string informationModel, string destinationAeTitle,
        DicomDataset identifier, Action<DimseCommand>? onProgress = null, CancellationToken cancellationToken = default) =>
        RetrieveAsync(association, DimseCommandField.CMoveRequest, informationModel, identifier, destinationAeTitle, onProgress, cancellationToken);

    /// <summary>C-GET: the instances come back as C-STORE requests on this association, handled by the
    /// <see cref="DimseServices.StoreHandler"/> given in <see cref="DicomClientOptions.Services"/>; the association
    /// must have proposed the SCP role for their storage SOP classes (<see cref="AssociationRequestBuilder.AddRoleSelection"/>).</summary>
    public static Task<RetrieveResult> GetAsync(this DicomAssociation association, string informationModel, DicomDataset identifier,
        Action<DimseCommand>? onProgress = null, CancellationToken cancellationToken = default) =>
        RetrieveAsync(association, DimseCommandField.CGetRequest, informationModel, identifier, null, onProgress, cancellationToken);

    private static async Task<RetrieveResult> RetrieveAsync(DicomAssociation association, DimseCommandField field, string informationModel,
        DicomDataset identifier, string? destination, Action<DimseCommand>? onProgress, CancellationToken cancellationToken)
    {
        var final = await RunAsync(association, field, informationModel, identifier, DimsePriority.Medium, destination, (response, _) =>
        {
            if (response.Command.Status.IsPending) onProgress?.Invoke(response.Command);
            return ValueTask.CompletedTask;
        }, cancellationToken).ConfigureAwait(false);
        var c = final.Command;
        IReadOnlyList<string> failedUids = [];
        if (final.DataSet is not null)
        {
            var list = await QueryRetrieve.DecodeAsync(final.DataSet, final.PresentationContext.TransferSyntax!, CancellationToken.None).ConfigureAwait(false);
            failedUids = list.GetStrings(QueryRetrieve.FailedSopInstanceUidList);
        }
        return new RetrieveResult(c.Status, c.NumberOfCompletedSuboperations ?? 0, c.NumberOfFailedSuboperations ?? 0,
            c.NumberOfWarningSuboperations ?? 0, failedUids, c.ErrorComment);
    }

    private static async Task<DimseResponse> RunAsync(DicomAssociation association, DimseCommandField field, string informationModel,
        DicomDataset identifier, DimsePriority priority, string? moveDestination, Func<DimseResponse, PresentationContext, ValueTask> onResponse,
        CancellationToken cancellationToken)
    {
        var pc = association.FindPresentationContext(informationModel)
            ?? throw new DicomAssociationException($"the peer did not accept {DicomUids.GetName(informationModel)}");
        var request = DimseCommand.CreateRequest(field, association.NextMessageId(), informationModel, hasDataSet: true);
        request.Priority = priority;
        if (moveDestination is not null) request.MoveDestination = moveDestination;
        var bytes = await QueryRetrieve.EncodeAsync(identifier, pc.TransferSyntax!, cancellationToken).ConfigureAwait(false);

        await using var cancel = cancellationToken.Register(static state =>
        {
            var (a, id, messageId) = ((DicomAssociation, byte, ushort))state!;
            _ = SendCancelQuietlyAsync(a, id, messageId);
        }, (association, pc.Id, request.MessageId));
        DimseResponse? final = null;
        // The responses are read to the end whatever the caller's token says: after a C-CANCEL the peer still
        // sends its final response, and leaving it unread would desynchronize the next operation.
        await foreach (var response in association.SendRequestAsync(pc.Id, request, new ReadOnlyMemoryStream(bytes), CancellationToken.None).ConfigureAwait(false))
        {
            if (response.Command.Status.IsPending) await onResponse(response, pc).ConfigureAwait(false);
            else final = response;
        }
        return final ?? throw new DicomAssociationException($"no final response to {request}");
    }

    private static async Task SendCancelQuietlyAsync(DicomAssociation association, byte contextId, ushort messageId)
    {
        try
        {
            await association.SendCancelAsync(contextId, messageId).ConfigureAwait(false);
        }
        catch (DicomAssociationException)
        {
            // The association ended: nothing left to cancel.
        }
    }
}
